"""Benchmark: the embedding runtimes side by side — torch fp32, ONNX fp32, ONNX int8.

Run with ``make bench`` (after the service benchmark) or ``python benchmarks/bench_embed.py``.
Each runtime is measured in a child process of its own, so its peak RSS is its own:

- passages/s: e5 on 1,000 real passages of the eval corpora (cleaned and chunked as an ingest
  does), through the ingest's embedding stage (length-sorted batches, QA_EMBED_WORKERS);
- single-query embed p50/p95: 200 eval questions, one at a time, with the serving threads;
- peak RSS (VmHWM) after the model loaded and embedded the passages;
- ingest end to end (clean + chunk + e5 + USE + index) of the articles those passages came
  from, chunks/s;
- cosine parity of each runtime's passage and question vectors to torch fp32 (min / mean);
- ``qa eval`` hybrid hit@5 per dev set for each runtime (``--eval-limit`` questions per set;
  ``--no-eval`` skips it).

Targets on 2 cores (issue 15): ingest >= 3x torch's chunks/s, query p50 <= 6 ms, mean cosine
>= 0.995 and min >= 0.98, hit@5 within 0.5 point of torch on every set.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNTIMES = ("torch", "onnx", "onnx-int8")
EVAL = ROOT.parent / "shared" / "eval"
OUT = ROOT / "var" / "bench" / "embed"


def _records_and_passages(records: list, n: int) -> tuple[list, list[str]]:
    """Seeded articles of the pooled eval corpus and the first ``n`` passages they give."""
    from index.errors import ArticleQAError
    from index.prepare import prepare
    from index.text.sources import record_source
    from qa.runtime import load_embedder
    from qa.settings import Settings

    records = list(records)
    random.Random(7).shuffle(records)
    settings = Settings(embed_runtime="torch")
    counter = load_embedder(settings)  # the same token counts as every runtime's
    used, passages = [], []
    for record in records:
        try:
            item = prepare(record_source(record), settings.chunk_params, counter, 0)
        except ArticleQAError:
            continue
        used.append(record)
        passages += item.embed_texts
        if len(passages) >= n:
            break
    return used, passages[:n]


def _questions(questions: list, n: int) -> list[str]:
    rows = [q.question for q in questions]
    random.Random(11).shuffle(rows)
    return rows[:n]


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(runtime: str, data: Path, passages_n: int, out: Path) -> None:
    """One runtime's measurements, written to ``out`` (json + vectors)."""
    from evaluation.data import load
    from index.build import ingest_records
    from index.embedding import embed_chunks
    from qa.runtime import load_aux_embedder, load_embedder
    from qa.settings import Settings

    dev = load(data)
    records, passages = _records_and_passages(dev.records, passages_n)
    questions = _questions(dev.questions, 200)
    settings = Settings(embed_runtime=runtime)
    started = time.perf_counter()
    embedder = load_embedder(settings, batch=True)
    load_seconds = time.perf_counter() - started
    embedder.embed_documents(passages[:8])  # warm up

    class Sink:
        def __init__(self) -> None:
            self.vectors: dict[int, np.ndarray] = {}

        def add_vectors(self, ids: np.ndarray, dense: np.ndarray, aux: object) -> None:
            self.vectors.update(zip(ids.tolist(), dense, strict=True))

    sink = Sink()
    items = list(enumerate(passages))
    started = time.perf_counter()
    embed_chunks(sink, items, (embedder, None), lambda n: None, settings.ingest_workers())
    embed_seconds = time.perf_counter() - started
    rss = _peak_rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        report = ingest_records(
            Path(tmp) / "index",
            records,
            embedder,
            settings.chunk_params,
            aux=load_aux_embedder(settings),
            ann=settings.ann_params,
            workers=settings.ingest_workers(),
        )
    # last: torch's thread count is process-wide, and the server embeds with QA_THREADS
    serving = load_embedder(settings)
    serving.embed_query("warm up")
    latencies, qvectors = [], []
    for q in questions:
        t = time.perf_counter()
        qvectors.append(serving.embed_query(q))
        latencies.append((time.perf_counter() - t) * 1000)
    np.save(out.with_suffix(".passages.npy"), np.vstack([sink.vectors[i] for i, _ in items]))
    np.save(out.with_suffix(".questions.npy"), np.vstack(qvectors))
    qs = sorted(latencies)
    result = {
        "runtime": runtime,
        "load_s": round(load_seconds, 2),
        "passages": len(passages),
        "passages_per_s": round(len(passages) / embed_seconds, 1),
        "query_p50_ms": round(statistics.median(qs), 2),
        "query_p95_ms": round(qs[int(0.95 * (len(qs) - 1))], 2),
        "peak_rss_mb": round(rss),
        "ingest_articles": len(report.added),
        "ingest_chunks": report.chunks_embedded,
        "ingest_chunks_per_s": round(report.chunks_embedded / report.seconds, 1),
        "workers": settings.ingest_workers(),
        "threads": settings.ingest_threads(),
    }
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")


def _eval(runtime: str, data: Path, limit: int) -> dict[str, float]:
    """``qa eval`` on ``runtime``: hybrid hit@5 per set."""
    out = OUT / f"eval-{runtime}"
    env = {**os.environ, "QA_EMBED_RUNTIME": runtime}
    command = [sys.executable, "-m", "api.cli", "eval", "--data", str(data), "--no-plots"]
    command += ["--limit", str(limit), "--out", str(out)]
    with (OUT / f"eval-{runtime}.log").open("w") as log:  # tqdm's progress
        subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=log, stderr=log)
    summary = json.loads((out / "report.json").read_text(encoding="utf-8"))["summary"]
    return {n: s["retrieval"]["hybrid"]["hit@5"] for n, s in summary["sets"].items()}


def _cosines(runtime: str) -> dict[str, float]:
    result = {}
    for kind in ("passages", "questions"):
        ref = np.load(OUT / f"torch.{kind}.npy")
        got = np.load(OUT / f"{runtime}.{kind}.npy")
        cos = (ref * got).sum(axis=1)
        result |= {f"{kind}_min": float(cos.min()), f"{kind}_mean": float(cos.mean())}
    return result


def _print(results: dict[str, dict]) -> None:
    base = results["torch"]["ingest_chunks_per_s"]
    print("\n| | " + " | ".join(results) + " |\n|---|" + "---|" * len(results))
    rows = [
        ("passages/s (e5, 1,000 eval passages)", "passages_per_s", "{}"),
        ("query embed p50 / p95 ms", None, None),
        ("peak RSS MB", "peak_rss_mb", "{}"),
        ("ingest chunks/s (clean+chunk+e5+USE+index)", "ingest_chunks_per_s", "{}"),
        ("cosine to torch, passages min / mean", None, None),
        ("cosine to torch, questions min / mean", None, None),
    ]
    for label, key, fmt in rows:
        cells = []
        for r in results.values():
            if key:
                cells.append(fmt.format(r[key]))
            elif label.startswith("query"):
                cells.append(f"{r['query_p50_ms']} / {r['query_p95_ms']}")
            else:
                kind = "passages" if "passages" in label else "questions"
                cells.append(f"{r[f'{kind}_min']:.4f} / {r[f'{kind}_mean']:.4f}")
        print(f"| {label} | " + " | ".join(cells) + " |")
    speedups = [f"{r['ingest_chunks_per_s'] / base:.2f}x" for r in results.values()]
    print("| ingest speed-up over torch | " + " | ".join(speedups) + " |")
    if "hit5" in results["torch"]:
        for name in results["torch"]["hit5"]:
            cells = [f"{r['hit5'][name]:.3f}" for r in results.values()]
            print(f"| hit@5 {name} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=EVAL)
    parser.add_argument("--passages", type=int, default=1000)
    parser.add_argument("--eval-limit", type=int, default=300)
    parser.add_argument("--no-eval", action="store_true")
    parser.add_argument("--runtimes", default=",".join(RUNTIMES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.child:
        child(args.child, args.data, args.passages, OUT / f"{args.child}.json")
        return
    runtimes = [r for r in args.runtimes.split(",") if r]
    results: dict[str, dict] = {}
    for runtime in ["torch", *[r for r in runtimes if r != "torch"]]:
        command = [sys.executable, __file__, "--child", runtime, "--data", str(args.data)]
        subprocess.run([*command, "--passages", str(args.passages)], check=True)
        results[runtime] = json.loads((OUT / f"{runtime}.json").read_text(encoding="utf-8"))
        results[runtime] |= _cosines(runtime)
        if not args.no_eval:
            results[runtime]["hit5"] = _eval(runtime, args.data, args.eval_limit)
        print(json.dumps(results[runtime]), flush=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    _print(results)


if __name__ == "__main__":
    main()
