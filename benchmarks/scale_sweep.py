"""Query-time trade-off at one index size: candidate pool and HNSW ef_search vs recall and latency.

``python benchmarks/scale_sweep.py var/scale/n1000000`` (after benchmarks/scale.py built it)
runs the saved dev questions on the exhaustive path once, then on the candidate path for each
(pool, ef_search) pair, and prints fused top-10 recall against the exhaustive path, retrieve
p50/p95 and hit@5 over all sets.  Leaves out: building (benchmarks/scale.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.metrics import gold_rank  # noqa: E402
from index.store.loader import open_index  # noqa: E402
from qa.retrieval.crosslingual import Dictionary  # noqa: E402
from qa.retrieval.query import analyse  # noqa: E402
from qa.retrieval.retrieve import RetrievalConfig, retrieve  # noqa: E402

PAIRS = ((200, 256), (200, 1024), (400, 1024), (400, 2048), (800, 2048))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("--questions", type=Path, default=ROOT / "var" / "scale" / "questions.npz")
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args()
    index, dictionary = open_index(args.index_dir), Dictionary.load()
    saved = np.load(args.questions)
    meta = json.loads(str(saved["meta"]))[: args.limit]
    runs = [
        (
            analyse(q["question"], dictionary),
            saved["e5"][i],
            saved["aux"][i] if q["english"] else None,
            q,
        )
        for i, q in enumerate(meta)
    ]
    exact = [
        [
            h.chunk.id
            for h in retrieve(index, v, q, RetrievalConfig(exhaustive=True), 10, aux_vector=a)
        ]
        for q, v, a, _ in runs
    ]
    for pool, ef in PAIRS:
        config = replace(RetrievalConfig(), pool=pool, ef_search=ef)
        times, recall, hits = [], [], []
        for (q, v, a, item), ref in zip(runs, exact, strict=True):
            t = time.perf_counter()
            got = retrieve(index, v, q, config, 10, aux_vector=a)
            times.append((time.perf_counter() - t) * 1000)
            recall.append(len({h.chunk.id for h in got} & set(ref)) / max(len(ref), 1))
            rank = gold_rank([h.chunk.doc_id for h in got], item["gold"])
            hits.append(rank is not None and rank <= 5)
        print(
            f"pool {pool:4d} ef_search {ef:5d} | recall@10 {np.mean(recall):.3f} | "
            f"p50 {np.percentile(times, 50):5.1f} p95 {np.percentile(times, 95):5.1f} ms | "
            f"hit@5 {np.mean(hits):.3f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
