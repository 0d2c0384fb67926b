"""Benchmark: retrieval from the evaluation index's size up to a million chunks.

Run with ``make bench-scale`` (or ``python benchmarks/scale.py --sizes
10000,100000,1000000``).  It uses the cached evaluation index (``qa eval``
builds it: the 3,820 pooled dev passages, 8,198 chunks, real e5 and
cross-lingual vectors), embeds a seeded sample of dev questions with the real
models once, then for each size writes an index version grown with filler
(benchmarks/scale_corpus.py says exactly how) and measures it in a fresh
process, so memory is that of one serving worker:

* retrieve p50/p95 per question, candidate path (the default) and exhaustive;
* fused top-10 recall of the candidate path against the exhaustive one;
* dev hit@5 (gold passage among the first five) on both paths, per set;
* build time, disk size, and the worker's memory after the candidate queries:
  RSS, split into anonymous memory (each worker's own) and file-backed pages
  (the memory-mapped vectors and graphs, shared by every worker).

It prints a table, writes ``--out``.json and a log-log plot of latency
against size (``--out``.png, used by docs/scaling.md).  The 1M version takes
about 7 GB of disk under ``--work`` and some 15 minutes to build on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import scale_corpus, scale_measure  # noqa: E402
from benchmarks.scale_corpus import Seed  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)


def _questions(args: argparse.Namespace, work: Path) -> tuple[Path, Path, set[str]]:
    """The eval index (built if missing) and the sampled questions' vectors, saved once."""
    from evaluation import data as eval_data
    from evaluation.evaluate import eval_index
    from qa.retrieval.query import analyse
    from qa.runtime import load_aux_embedder, load_embedder
    from qa.settings import Settings

    settings = Settings(index_dir=work / "unused")
    data = eval_data.load(args.data, limit=args.per_set)
    embedder, aux = load_embedder(settings, batch=True), load_aux_embedder(settings)
    index_dir = eval_index(settings, data, embedder, args.cache, aux)
    rows = []
    for q in data.questions:
        english = analyse(q.question, None).language == "en"
        rows.append(
            {
                "qid": q.qid,
                "set": q.set_name,
                "question": q.question,
                "gold": list(q.gold_doc_ids),
                "english": english,
            }
        )
    e5 = np.vstack([embedder.embed_query(r["question"]) for r in rows])
    use = np.vstack([aux.embed_query(r["question"]) if aux else np.zeros(1) for r in rows])
    path = work / "questions.npz"
    np.savez(path, e5=e5, aux=use, meta=json.dumps(rows, ensure_ascii=False))
    return index_dir, path, {g for r in rows for g in r["gold"]}


def _build(seed: Seed, target: Path, size: int) -> dict[str, float]:
    from index.store import versions
    from qa.settings import Settings

    shutil.rmtree(target, ignore_errors=True)
    timings = scale_corpus.build(seed, target, size, Settings(index_dir=target).ann_params)
    current = versions.pointed(target)
    assert current is not None
    timings["disk_mb"] = sum(f.stat().st_size for f in current.iterdir() if f.is_file()) / 2**20
    return timings


def _measure(index_dir: Path, questions: Path, exhaustive_limit: int) -> dict[str, object]:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "scale_measure.py"),
            str(index_dir),
            str(questions),
            str(exhaustive_limit),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--per-set", type=int, default=40, help="dev questions per set")
    parser.add_argument(
        "--exhaustive",
        type=int,
        default=200,
        help="questions also run on the exhaustive path at each size",
    )
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "eval" / "cache")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "scale")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "scaling")
    parser.add_argument(
        "--reuse", action="store_true", help="measure sizes already built under --work again"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    seed_dir, questions, gold = _questions(args, args.work)
    results = [{"size": "eval", **_measure(seed_dir, questions, 10**9)}]
    print(scale_measure.row(results[-1]), flush=True)
    from index.store.loader import open_index

    seed = scale_corpus.load_seed(open_index(seed_dir), gold)
    for size in [int(s) for s in args.sizes.split(",") if s]:
        target = args.work / f"n{size}"
        record = target / "build.json"
        if args.reuse and record.exists():
            built = json.loads(record.read_text(encoding="utf-8"))
        else:
            started = time.perf_counter()
            built = _build(seed, target, size)
            built["total_build_s"] = time.perf_counter() - started
            record.write_text(json.dumps(built), encoding="utf-8")
        results.append({"size": size, **built, **_measure(target, questions, args.exhaustive)})
        print(scale_measure.row(results[-1]), flush=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    scale_measure.plot(results, args.out.with_suffix(".png"))
    print(f"wrote {args.out.with_suffix('.json')} and {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
