"""Benchmark: ingest throughput, and /v1/ask latency over HTTP against the sample index.

Run with ``make bench`` (or ``python benchmarks/bench_service.py``).  It builds the
sample index in a temporary directory with the real embedding model (chunks/s),
starts ``qa serve`` on a free loopback port in a child process, sends 105 mixed
English / simplified / traditional questions (three rounds; the first is
warm-up and not counted), and prints latency p50/p95/max as seen by the
client, the server-side timings, and the server's peak RSS (VmHWM).
Targets on 2 cores: p50 <= 40 ms (issue 17), p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.questions import mixed  # noqa: E402
from index.build import ingest  # noqa: E402
from qa.runtime import load_aux_embedder, load_embedder  # noqa: E402
from qa.settings import Settings  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def build_index(settings: Settings) -> None:
    embedder, aux = load_embedder(settings, batch=True), load_aux_embedder(settings)
    report = ingest(
        settings.index_dir,
        [ROOT / "data" / "sample"],
        embedder,
        settings.chunk_params,
        rebuild=True,
        ann=settings.ann_params,
        aux=aux,
        workers=settings.ingest_workers(),
    )
    rate = report.chunks_embedded / report.seconds
    print(
        f"ingest: {len(report.added)} articles, {report.chunks_embedded} chunks "
        f"in {report.seconds:.2f} s = {rate:.1f} chunks/s (clean + chunk + embed + index)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not become ready in 180 s")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(port: int, rounds: int) -> None:
    questions = mixed()
    latencies: list[float] = []
    server_total: list[float] = []
    declined = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for round_no in range(rounds + 1):
            for question in questions:
                started = time.perf_counter()
                response = client.post("/v1/ask", json={"question": question})
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                if round_no == 0:
                    continue  # warm-up
                body = response.json()
                latencies.append(elapsed)
                server_total.append(body["timings_ms"]["total"])
                declined += body["declined"]
    print(
        f"/v1/ask over HTTP: {len(latencies)} requests ({len(questions)} distinct questions, "
        f"en / zh-Hans / zh-Hant), {declined} declined"
    )
    print(
        f"  client latency ms: p50 {percentile(latencies, 50):.1f}  "
        f"p95 {percentile(latencies, 95):.1f}  max {max(latencies):.1f}  "
        f"mean {statistics.mean(latencies):.1f}"
    )
    print(
        f"  server total ms:   p50 {percentile(server_total, 50):.1f}  "
        f"p95 {percentile(server_total, 95):.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds over 105 questions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QA_INDEX_DIR": str(Path(tmp) / "index"), "HF_HUB_OFFLINE": "1"}
        env["QA_RATE_LIMIT"] = "0"  # 105 questions a round from one client: measure, not limit
        os.environ.update(env)
        settings = Settings()
        build_index(settings)
        port = free_port()
        proc = start_server(env, port)
        try:
            run(port, args.rounds)
            print(f"server peak RSS: {peak_rss_mb(proc.pid):.0f} MB")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
