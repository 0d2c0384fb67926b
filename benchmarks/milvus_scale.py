"""Milvus Lite next to the local backend on the same chunks: ``make bench-milvus``.

For each size (default 10,000 and 100,000 chunks) the local scale index of that size
(benchmarks/scale.py builds them in var/scale) is copied into a Milvus Lite file through
the Milvus ingest target, vectors included (nothing is embedded again); then the scale
benchmark's questions run on both backends: retrieval latency p50/p95, overlap of the
top-10 with the local backend's, and hit@5 per set.  Prints one line per size and
writes var/scale/milvus.json (docs/scaling.md quotes it).

Leaves out: building the local indexes (``benchmarks/scale.py --sizes ...``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale_measure import _hit5, _pct, _run  # noqa: E402


def copy_to_milvus(local_dir: Path, uri: Path) -> tuple[object, float]:
    """The local index's documents, chunks and vectors as a Milvus Lite generation."""
    from index.store.loader import open_index
    from index.store.milvus.client import Milvus, MilvusConfig
    from index.store.milvus.writer import MilvusTarget

    local = open_index(local_dir)
    shutil.rmtree(uri, ignore_errors=True)
    db = Milvus(MilvusConfig(uri=str(uri), collection="scale", timeout=600))
    started = time.perf_counter()
    target = MilvusTarget.open(db, local.manifest, lambda _: None, rebuild=True)
    by_doc: dict[str, list] = {}
    for chunk in local.chunks.values():
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    pending: list[int] = []
    for doc_id, chunks in by_doc.items():
        target.put(local.documents[doc_id], local.texts[doc_id], chunks)
        pending += [c.id for c in chunks]
        if len(pending) >= 2048:
            _flush(target, local, pending)
            pending = []
    _flush(target, local, pending)
    target.publish()
    target.close()
    return db, time.perf_counter() - started


def _flush(target, local, ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    if ids:
        array = np.array(ids, dtype=np.int64)
        aux = local.aux.vectors_of(array) if local.aux is not None else None
        target.add_vectors(array, local.dense.vectors_of(array), aux)


def measure(size: int, work: Path, limit: int) -> dict[str, object]:
    from index.store.loader import open_index
    from index.store.milvus.reader import open_milvus
    from qa.retrieval.crosslingual import Dictionary
    from qa.runtime import retrieval_config
    from qa.settings import Settings

    loaded = np.load(work / "questions.npz")
    questions = json.loads(str(loaded["meta"]))[:limit]
    vectors = {"e5": loaded["e5"], "aux": loaded["aux"]}
    dictionary = Dictionary.load()
    config = retrieval_config(Settings())
    local_dir = work / f"n{size}"
    db, copy_s = copy_to_milvus(local_dir, work / f"milvus-n{size}.db")
    out: dict[str, object] = {"size": size, "copy_s": round(copy_s, 1)}
    tops = {}
    for name, index in (("local", open_index(local_dir)), ("milvus", open_milvus(db))):
        _run(index, questions, vectors, config, dictionary, 10)  # warm-up
        times, top, ranks = _run(index, questions, vectors, config, dictionary, len(questions))
        tops[name] = top
        out[name] = {
            "p50_ms": round(_pct(times, 50), 1),
            "p95_ms": round(_pct(times, 95), 1),
            "hit5": _hit5(questions, ranks),
        }
    overlap = [
        len(set(a) & set(b)) / max(len(b), 1)
        for a, b in zip(tops["milvus"], tops["local"], strict=True)
    ]
    out["top10_overlap"] = round(float(np.mean(overlap)), 3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "scale")
    parser.add_argument("--questions", type=int, default=300, help="questions per size")
    args = parser.parse_args()
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        if not (args.work / f"n{size}").exists():
            print(f"no local index at {args.work / f'n{size}'}: run benchmarks/scale.py first")
            return 1
        r = measure(size, args.work, args.questions)
        results.append(r)
        print(json.dumps(r, ensure_ascii=False), flush=True)
    (args.work / "milvus.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
