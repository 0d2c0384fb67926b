"""Load test: N concurrent clients on /v1/ask and /v1/ask/stream for D seconds, 1..k workers.

Run with ``make load`` (``python benchmarks/load.py --workers 1,2``).  For each
worker count it starts ``qa serve --workers W`` on a free 127.0.0.1 port against
an existing index (``--index-dir``: ``$QA_INDEX_DIR``, else ``var/index``), waits
until ``/readyz`` answers and every worker has started, runs a warm-up, then
``--clients`` asyncio clients (one keep-alive httpx connection each) for
``--duration`` seconds.  Each client alternates ``POST /v1/ask`` and
``POST /v1/ask/stream`` (the SSE stream read to its ``done`` event) over the 105
mixed English / simplified / traditional questions of ``benchmarks/questions.py``.

An error is any non-2xx status, an ``error`` event, a stream that ends without
``done``, a body that is not an answer, a transport error, or a request that
exceeds ``--timeout`` seconds (every request is bounded).  Printed per worker
count: requests, errors by kind, throughput, latency p50/p95/p99/max per endpoint
(for the stream also time to the first event and to the first token), the
server's memory summed over its process tree (RSS, and PSS, which counts pages
shared between workers once) after the warm-up, sampled during the run and at
the end, with its slope, the server's and this script's CPU use, and how much of
the memory-mapped index each worker holds.  With several worker counts it prints
the throughput scaling.  Results go to a JSON file (``var/bench/load-*.json``).
Exits 1 if any request failed (warm-up included), 2 if the server could not run.

Only loopback addresses are accepted: this is not a tool for loading other hosts.
Client and server share the machine's cores, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.procstat import (  # noqa: E402
    MemorySample,
    index_mappings,
    process_table,
    process_tree,
    sample_memory,
)
from benchmarks.questions import mixed  # noqa: E402

ASK, STREAM = "/v1/ask", "/v1/ask/stream"
STARTED_LINE = "Application startup complete."
SERVER_DEFAULTS = {"QA_RATE_LIMIT": "0"}


# --------------------------------------------------------------------- arguments


def loopback_host(value: str) -> str:
    if value == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IP address: {value!r}") from None
    if not address.is_loopback:
        raise argparse.ArgumentTypeError(f"{value} is not a loopback address; refusing")
    return value


def worker_counts(value: str) -> list[int]:
    try:
        counts = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected e.g. 1,2; got {value!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"worker counts must be >= 1; got {value!r}")
    return counts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--duration", type=float, default=300, help="measured seconds (300)")
    parser.add_argument("--warmup", type=float, default=30, help="warm-up seconds, not counted")
    parser.add_argument(
        "--workers", type=worker_counts, default=[1, 2], help="worker counts to run (1,2)"
    )
    parser.add_argument(
        "--index-dir",
        type=Path,
        default=Path(os.environ.get("QA_INDEX_DIR", ROOT / "var" / "index")),
        help="index to serve (QA_INDEX_DIR, else var/index)",
    )
    parser.add_argument("--host", type=loopback_host, default="127.0.0.1")
    parser.add_argument("--api-key", default=None, help="sent as Authorization: Bearer KEY")
    parser.add_argument("--timeout", type=float, default=60, help="bound on each request, s")
    parser.add_argument(
        "--reconnect-every",
        type=int,
        default=10,
        metavar="N",
        help="requests per keep-alive connection before a client reconnects (10)",
    )
    parser.add_argument("--ready-timeout", type=float, default=600, help="server start bound")
    parser.add_argument("--sample-every", type=float, default=5, help="memory sampling period")
    parser.add_argument("--out", type=Path, default=None, help="JSON result file")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="QA_NAME=VALUE",
        help="extra setting for the server (repeatable); QA_RATE_LIMIT=0 is the default",
    )
    args = parser.parse_args(argv)
    if min(args.clients, args.reconnect_every) < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--clients >= 1, --reconnect-every >= 1, --duration > 0, --warmup >= 0")
    if args.timeout <= 0:
        parser.error("--timeout > 0")
    # All clients share one address, which the per-address rate limit would refuse: the
    # test measures capacity, not the limiter.
    args.server_settings = dict(SERVER_DEFAULTS)
    for item in args.server_env:
        name, sep, value = item.partition("=")
        if not sep or not name.startswith("QA_"):
            parser.error(f"--server-env takes QA_NAME=VALUE, got {item!r}")
        args.server_settings[name] = value
    return args


# ------------------------------------------------------------ the server process


def free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class Server:
    """``qa serve --workers W`` in a child process, its log in a file."""

    def __init__(self, args: argparse.Namespace, workers: int, log_path: Path) -> None:
        self.workers = workers
        self.port = free_port(args.host)
        self.base_url = f"http://{args.host}:{self.port}".replace("://::1", "://[::1]")
        self.log_path = log_path
        env = {
            **os.environ,
            "QA_INDEX_DIR": str(args.index_dir),
            "QA_LOG_LEVEL": "info",  # the startup lines tell when every worker is ready
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            **args.server_settings,
        }
        env.setdefault("QA_MODEL_CACHE_DIR", str(ROOT / "var" / "models"))
        command = [sys.executable, "-m", "api.cli", "serve", "--host", args.host]
        command += ["--port", str(self.port), "--workers", str(workers)]
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def started_workers(self) -> int:
        return self.log_path.read_text(errors="replace").count(STARTED_LINE)

    def wait_ready(self, timeout: float, headers: dict[str, str]) -> dict[str, Any]:
        """Until /readyz answers 200 and every worker has logged its startup (if the log
        format hides those lines, 60 s after /readyz first answered: the warm-up covers
        a late worker)."""
        deadline = time.monotonic() + timeout
        first_ready = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.proc.returncode}")
            try:
                r = httpx.get(f"{self.base_url}/readyz", headers=headers, timeout=5)
            except httpx.HTTPError:
                r = None
            if r is not None and r.status_code not in (200, 503):
                raise RuntimeError(f"/readyz answered {r.status_code}: {r.text[:300]}")
            if r is not None and r.status_code == 200:
                first_ready = first_ready or time.monotonic()
                started = self.started_workers()
                if started >= self.workers or (
                    started == 0 and time.monotonic() - first_ready > 60
                ):
                    return dict(r.json())
            time.sleep(0.5)
        raise RuntimeError(f"the server was not ready within {timeout:.0f} s")

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        pids = process_tree(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # uvicorn stops its workers
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for pid in pids[1:]:  # workers left behind by a killed supervisor
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        self._log.close()


# ------------------------------------------------------------------- the clients


@dataclass
class Result:
    endpoint: str
    started: float  # seconds since the phase started
    latency: float  # seconds
    error: str | None = None
    first_event: float | None = None
    first_token: float | None = None


@dataclass
class Phase:
    t0: float = 0.0  # time.monotonic() at the start
    planned: float = 0.0  # seconds during which clients start requests
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0  # until the last request in flight ended


async def ask(
    client: httpx.AsyncClient, body: dict[str, Any], t0: float, headers: dict[str, str]
) -> Result:
    started = time.monotonic()
    response = await client.post(ASK, json=body, headers=headers)
    if not 200 <= response.status_code < 300:
        return Result(ASK, started - t0, time.monotonic() - started, f"http_{response.status_code}")
    try:
        ok = isinstance(response.json().get("answer"), str)
    except ValueError:
        ok = False
    return Result(ASK, started - t0, time.monotonic() - started, None if ok else "bad_body")


async def ask_stream(
    client: httpx.AsyncClient, body: dict[str, Any], t0: float, headers: dict[str, str]
) -> Result:
    started = time.monotonic()
    result = Result(STREAM, started - t0, 0.0)
    async with client.stream("POST", STREAM, json=body, headers=headers) as response:
        if not 200 <= response.status_code < 300:
            await response.aread()
            result.error = f"http_{response.status_code}"
        else:
            name, done = None, False
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    name = line[6:].strip()
                    now = time.monotonic() - started
                    if result.first_event is None:
                        result.first_event = now
                    if name == "token" and result.first_token is None:
                        result.first_token = now
                elif line.startswith("data:") and not done and name in ("done", "error"):
                    if name == "error":
                        result.error = "stream_error_event"
                    else:
                        try:
                            ok = isinstance(json.loads(line[5:]).get("answer"), str)
                        except ValueError:
                            ok = False
                        result.error = None if ok else "bad_body"
                    done = True  # read on to the end, so the connection is reused
            if not done:
                result.error = "stream_incomplete"
    result.latency = time.monotonic() - started
    return result


async def client_loop(
    number: int, args: argparse.Namespace, base_url: str, questions: list[str], phase: Phase
) -> None:
    t0, deadline = phase.t0, phase.t0 + phase.planned
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    timeout = httpx.Timeout(args.timeout, connect=min(10.0, args.timeout))
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=timeout, limits=limits
    ) as client:
        turn = number  # clients start at different questions and endpoints
        while time.monotonic() < deadline:
            # `Connection: close` every --reconnect-every requests: the workers of `qa serve
            # --workers N` share one listening socket and a connection stays with the worker
            # that accepted it, so connections held for the whole run, all opened at once,
            # can all land on one worker.
            close = (turn - number) % args.reconnect_every == args.reconnect_every - 1
            phase.results.append(await one_request(client, args, questions, turn, t0, close))
            turn += 1


async def one_request(
    client: httpx.AsyncClient,
    args: argparse.Namespace,
    questions: list[str],
    turn: int,
    t0: float,
    close: bool,
) -> Result:
    body = {"question": questions[(turn * 7) % len(questions)]}
    call = ask_stream if turn % 2 else ask
    started = time.monotonic()
    try:
        async with asyncio.timeout(args.timeout):
            return await call(client, body, t0, {"Connection": "close"} if close else {})
    except (TimeoutError, httpx.TimeoutException):
        return failed(call, started - t0, started, "timeout")
    except httpx.HTTPError as exc:
        return failed(call, started - t0, started, f"transport_{type(exc).__name__}")


def failed(call: Any, offset: float, started: float, kind: str) -> Result:
    endpoint = STREAM if call is ask_stream else ASK
    return Result(endpoint, offset, time.monotonic() - started, kind)


async def run_phase(
    args: argparse.Namespace,
    server: Server,
    questions: list[str],
    seconds: float,
    samples: list[MemorySample] | None = None,
) -> Phase:
    phase = Phase(time.monotonic(), seconds)
    clients = [
        asyncio.create_task(client_loop(i, args, server.base_url, questions, phase))
        for i in range(args.clients)
    ]
    sampler = None
    if samples is not None:

        async def sample() -> None:
            while True:
                samples.append(await asyncio.to_thread(sample_memory, server.proc.pid, phase.t0))
                await asyncio.sleep(args.sample_every)

        sampler = asyncio.create_task(sample())
    try:
        await asyncio.gather(*clients)
    finally:
        if sampler is not None:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
    phase.seconds = time.monotonic() - phase.t0
    return phase


# ---------------------------------------------------------------------- figures


def pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) * 1000 if values else None


def latency_row(values: list[float]) -> dict[str, float | None]:
    return {
        "p50_ms": pct(values, 50),
        "p95_ms": pct(values, 95),
        "p99_ms": pct(values, 99),
        "max_ms": max(values) * 1000 if values else None,
        "mean_ms": float(np.mean(values)) * 1000 if values else None,
    }


def summarise(phase: Phase) -> dict[str, Any]:
    out: dict[str, Any] = {"seconds": round(phase.seconds, 2)}
    groups = {ASK: [r for r in phase.results if r.endpoint == ASK]}
    groups[STREAM] = [r for r in phase.results if r.endpoint == STREAM]
    groups["all"] = phase.results
    for name, results in groups.items():
        ok = [r for r in results if r.error is None]
        row: dict[str, Any] = {
            "requests": len(results),
            "errors": len(results) - len(ok),
            "errors_by_kind": dict(Counter(r.error for r in results if r.error)),
            "throughput_rps": len(ok) / phase.seconds if phase.seconds else 0.0,
            "latency": latency_row([r.latency for r in ok]),
        }
        if name == STREAM:
            events = [r.first_event for r in ok if r.first_event is not None]
            tokens = [r.first_token for r in ok if r.first_token is not None]
            row["first_event"] = latency_row(events)
            row["first_token"] = latency_row(tokens)
        out[name] = row
    return out


def memory_summary(samples: list[MemorySample], seconds: float) -> dict[str, Any]:
    t = np.array([s.t for s in samples]) / 60
    rss = np.array([s.rss_mb for s in samples])
    late = t >= t[-1] / 2

    def slope(mask: np.ndarray) -> float:
        return float(np.polyfit(t[mask], rss[mask], 1)[0]) if mask.sum() >= 3 else 0.0

    start, end = samples[0], samples[-1]
    growth = end.rss_mb - start.rss_mb
    late_slope = slope(late)
    return {
        "start_rss_mb": round(start.rss_mb, 1),
        "end_rss_mb": round(end.rss_mb, 1),
        "peak_rss_mb": round(float(rss.max()), 1),
        "start_pss_mb": round(start.pss_mb, 1),
        "end_pss_mb": round(end.pss_mb, 1),
        "growth_mb": round(growth, 1),
        "slope_mb_per_min": round(slope(np.ones_like(late)), 2),
        "second_half_slope_mb_per_min": round(late_slope, 2),
        # Flat: the growth rate of the run's second half (after workers' last lazy
        # allocations), kept up for the whole run, would add at most 1 % to the start RSS.
        "flat": bool(late_slope * t[-1] <= 0.01 * start.rss_mb),
        "processes": end.processes,
        "server_cpu_cores": round((end.cpu_s - start.cpu_s) / seconds, 2) if seconds else None,
        "samples": [asdict(s) for s in samples],
    }


def fmt(value: float | None, width: int = 7) -> str:
    return f"{value:{width}.0f}" if value is not None else f"{'-':>{width}}"


def print_run(run: dict[str, Any]) -> None:
    print(
        f"\n== {run['workers']} worker(s): {run['clients']} clients, {run['duration_s']:.0f} s "
        f"(+{run['warmup_s']:.0f} s warm-up), index {run['index_version']}, "
        f"load average at start {run['loadavg_start']}"
    )
    print(
        f"{'':18}{'requests':>9}{'errors':>8}{'req/s':>8}"
        f"{'p50':>7}{'p95':>7}{'p99':>7}{'max':>7}  (ms)"
    )
    stats = run["measured"]
    for name in (ASK, STREAM, "all"):
        row, lat = stats[name], stats[name]["latency"]
        print(
            f"{name:18}{row['requests']:9d}{row['errors']:8d}{row['throughput_rps']:8.2f}"
            f"{fmt(lat['p50_ms'])}{fmt(lat['p95_ms'])}{fmt(lat['p99_ms'])}{fmt(lat['max_ms'])}"
        )
        if name == STREAM:
            for label, key in (("  first event", "first_event"), ("  first token", "first_token")):
                lat = row[key]
                print(
                    f"{label:18}{'':25}{fmt(lat['p50_ms'])}{fmt(lat['p95_ms'])}"
                    f"{fmt(lat['p99_ms'])}{fmt(lat['max_ms'])}"
                )
    kinds = Counter(stats["all"]["errors_by_kind"]) + Counter(run["warmup"]["errors_by_kind"])
    print("errors: " + (", ".join(f"{k} {v}" for k, v in kinds.items()) or "none"))
    mem = run["memory"]
    print(
        f"server memory ({mem['processes']} processes): RSS start {mem['start_rss_mb']:.0f} MB, "
        f"end {mem['end_rss_mb']:.0f} MB, peak {mem['peak_rss_mb']:.0f} MB, "
        f"slope {mem['slope_mb_per_min']:+.2f} MB/min (second half "
        f"{mem['second_half_slope_mb_per_min']:+.2f}) -> {'flat' if mem['flat'] else 'GROWING'}; "
        f"PSS start {mem['start_pss_mb']:.0f} MB, end {mem['end_pss_mb']:.0f} MB"
    )
    print(
        f"CPU: server {mem['server_cpu_cores']} cores, load generator "
        f"{run['client_cpu_cores']} cores, of {os.cpu_count()}; "
        f"{run['answers_per_server_cpu_s']} answers per server CPU-second"
    )
    for row in run["processes_end"]:
        print(
            f"  pid {row['pid']}: RSS {row['rss_mb']:.0f} MB, PSS {row['pss_mb']:.0f} MB, "
            f"CPU {row['cpu_run_s']:.1f} s in the run  {row['command'][:60]}"
        )
    for proc in run["index_mappings"]:
        files = ", ".join(
            f"{name} {v['size_kb']} kB mapped, RSS {v['rss_kb']} kB, PSS {v['pss_kb']} kB"
            for name, v in proc["files"].items()
        )
        print(f"index mapping in pid {proc['pid']}: {files}")


# ------------------------------------------------------------------------- main


async def measure(
    args: argparse.Namespace, workers: int, questions: list[str], bench_dir: Path
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    server = Server(args, workers, bench_dir / f"load-serve-w{workers}.log")
    try:
        print(f"starting qa serve --workers {workers} on {server.base_url} ...", flush=True)
        started = time.monotonic()
        try:
            ready = await asyncio.to_thread(server.wait_ready, args.ready_timeout, headers)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n--- {server.log_path} ---\n{server.log_tail()}") from None
        print(
            f"ready in {time.monotonic() - started:.1f} s; warm-up {args.warmup:.0f} s", flush=True
        )
        loadavg = [round(x, 2) for x in os.getloadavg()]
        warm = await run_phase(args, server, questions, args.warmup) if args.warmup else Phase()
        print(f"measuring {args.duration:.0f} s with {args.clients} clients ...", flush=True)
        samples: list[MemorySample] = []
        procs_before = {row["pid"]: row["cpu_s"] for row in process_table(server.proc.pid)}
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        phase = await run_phase(args, server, questions, args.duration, samples)
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        samples.append(sample_memory(server.proc.pid, phase.t0))
        client_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (
            cpu_before.ru_utime + cpu_before.ru_stime
        )
        procs_after = process_table(server.proc.pid)
        for row in procs_after:  # CPU used during the measured phase: how work was spread
            row["cpu_run_s"] = round(row["cpu_s"] - procs_before.get(row["pid"], 0.0), 2)
        warm_stats = summarise(warm)["all"] if warm.results else {"requests": 0, "errors": 0}
        return {
            "workers": workers,
            "clients": args.clients,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "index_version": ready.get("index_version"),
            "readyz": ready,
            "loadavg_start": loadavg,
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
            "warmup": {
                "requests": warm_stats["requests"],
                "errors": warm_stats["errors"],
                "errors_by_kind": warm_stats.get("errors_by_kind", {}),
            },
            "measured": summarise(phase),
            "memory": memory_summary(samples, phase.seconds),
            "client_cpu_cores": round(client_cpu / phase.seconds, 2),
            # throughput per CPU the server got: comparable on a machine shared with others
            "answers_per_server_cpu_s": round(
                (len(phase.results) - sum(r.error is not None for r in phase.results))
                / max(sum(row["cpu_run_s"] for row in procs_after), 1e-9),
                2,
            ),
            "index_mappings": index_mappings(server.proc.pid),
            "processes_end": procs_after,
        }
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.index_dir = args.index_dir.resolve()
    if not (args.index_dir / "CURRENT").is_file():
        print(f"no index at {args.index_dir}: build one with `make index`", file=sys.stderr)
        return 2
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out_path = args.out or bench_dir / f"load-{stamp}.json"
    questions = mixed()
    report: dict[str, Any] = {
        "started": datetime.now().isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "config": {
            "clients": args.clients,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "workers": args.workers,
            "timeout_s": args.timeout,
            "reconnect_every": args.reconnect_every,
            "index_dir": str(args.index_dir),
            "questions": len(questions),
            "mix": "alternating /v1/ask and /v1/ask/stream per client",
            "api_key": bool(args.api_key),
            "server_settings": args.server_settings,
        },
        "runs": [],
    }
    failed = False
    for workers in args.workers:
        try:
            run = asyncio.run(measure(args, workers, questions, bench_dir))
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        report["runs"].append(run)
        print_run(run)
        failed |= run["measured"]["all"]["errors"] > 0 or run["warmup"]["errors"] > 0
        out_path.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    runs = report["runs"]
    if len(runs) > 1:
        base = runs[0]["measured"]["all"]["throughput_rps"]
        report["scaling"] = {
            str(r["workers"]): round(r["measured"]["all"]["throughput_rps"] / base, 2)
            if base
            else None
            for r in runs
        }
        print(
            "\nthroughput scaling: "
            + ", ".join(
                f"{r['workers']} worker(s) {r['measured']['all']['throughput_rps']:.2f} req/s"
                f" (x{report['scaling'][str(r['workers'])]}, server CPU "
                f"{r['memory']['server_cpu_cores']} cores)"
                for r in runs
            )
        )
    out_path.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"\nresults: {out_path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
