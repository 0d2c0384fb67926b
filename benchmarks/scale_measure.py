"""One index size, measured in its own process: latency, recall, hit@5, memory.

``python benchmarks/scale_measure.py INDEX_DIR QUESTIONS.npz N`` opens the
index as a serving worker does, runs every question on the candidate path
(after a warm-up of 20), reads the process's memory, then runs the first ``N``
questions on the exhaustive path, and prints one JSON line.  `row` and `plot`
format the results for benchmarks/scale.py.

Leaves out: building the index (benchmarks/scale_corpus.py).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def memory_mb() -> dict[str, float]:
    """This process's RSS, and its anonymous and file-backed parts (MB)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return {
        "rss_mb": fields["VmRSS"],
        "anon_mb": fields["RssAnon"],
        "file_mb": fields["RssFile"],
        "peak_rss_mb": fields["VmHWM"],
    }


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _run(index, questions, vectors, config, dictionary, limit):  # type: ignore[no-untyped-def]
    from evaluation.metrics import gold_rank
    from qa.retrieval.query import analyse
    from qa.retrieval.retrieve import retrieve

    times, tops, ranks = [], [], []
    for i, q in enumerate(questions[:limit]):
        query = analyse(q["question"], dictionary)
        aux = vectors["aux"][i] if q["english"] else None
        t = time.perf_counter()
        hits = retrieve(index, vectors["e5"][i], query, config, 10, aux_vector=aux)
        times.append((time.perf_counter() - t) * 1000)
        tops.append([h.chunk.id for h in hits])
        ranks.append(gold_rank([h.chunk.doc_id for h in hits], q["gold"]))
    return times, tops, ranks


def _hit5(questions, ranks) -> dict[str, float]:  # type: ignore[no-untyped-def]
    per: dict[str, list[bool]] = {}
    for q, r in zip(questions, ranks, strict=False):
        per.setdefault(q["set"], []).append(r is not None and r <= 5)
    return {s: round(float(np.mean(v)), 3) for s, v in sorted(per.items())}


def measure(index_dir: Path, questions_path: Path, exhaustive_limit: int) -> dict[str, object]:
    from index.store.loader import open_index
    from qa.retrieval.crosslingual import Dictionary
    from qa.runtime import retrieval_config
    from qa.settings import Settings

    loaded = np.load(questions_path)
    questions = json.loads(str(loaded["meta"]))
    vectors = {"e5": loaded["e5"], "aux": loaded["aux"]}
    t = time.perf_counter()
    index = open_index(index_dir)
    load_s = time.perf_counter() - t
    dictionary, config = Dictionary.load(), retrieval_config(Settings(index_dir=index_dir))
    _run(index, questions, vectors, config, dictionary, 20)  # warm-up
    fast_t, fast_top, fast_rank = _run(
        index, questions, vectors, config, dictionary, len(questions)
    )
    memory = memory_mb()
    slow = replace(config, exhaustive=True)
    slow_t, slow_top, slow_rank = _run(
        index, questions, vectors, slow, dictionary, exhaustive_limit
    )
    recall = [
        len(set(a) & set(b)) / max(len(b), 1) for a, b in zip(fast_top, slow_top, strict=False)
    ]
    return {
        "chunks": len(index.doc_map.ids),
        "graphs": index.dense_graph is not None,
        "load_s": round(load_s, 2),
        "questions": len(questions),
        "exhaustive_questions": len(slow_t),
        "candidate_p50_ms": _pct(fast_t, 50),
        "candidate_p95_ms": _pct(fast_t, 95),
        "exhaustive_p50_ms": _pct(slow_t, 50),
        "exhaustive_p95_ms": _pct(slow_t, 95),
        "recall_at_10": float(np.mean(recall)) if recall else float("nan"),
        "hit5_candidate": _hit5(questions, fast_rank),
        "hit5_exhaustive": _hit5(questions[: len(slow_rank)], slow_rank),
        **memory,
    }


def row(r: dict) -> str:  # type: ignore[type-arg]
    hit = r["hit5_candidate"]
    return (
        f"{r['size']!s:>8} {r['chunks']:>8} chunks | candidates p50 {r['candidate_p50_ms']:6.1f} "
        f"p95 {r['candidate_p95_ms']:6.1f} ms | exhaustive p50 {r['exhaustive_p50_ms']:7.1f} "
        f"p95 {r['exhaustive_p95_ms']:7.1f} ms | recall@10 {r['recall_at_10']:.3f} | "
        f"RSS {r['rss_mb']:.0f} MB (anon {r['anon_mb']:.0f}, file {r['file_mb']:.0f}) | "
        f"build {r.get('build_s', 0):.0f} s, disk {r.get('disk_mb', 0):.0f} MB | "
        f"hit@5 {' '.join(f'{k} {v:.2f}' for k, v in hit.items())}"
    )


def plot(results: list[dict], path: Path) -> None:  # type: ignore[type-arg]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["chunks"] for r in results]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for key, label, style in (
        ("candidate", "candidates (default)", "o-"),
        ("exhaustive", "exhaustive", "s--"),
    ):
        ax.plot(n, [r[f"{key}_p50_ms"] for r in results], style, label=f"{label} p50")
        ax.plot(n, [r[f"{key}_p95_ms"] for r in results], style, alpha=0.4, label=f"{label} p95")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("retrieve latency per question (ms)")
    ax.set_title("Retrieval latency vs index size (2 CPU cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))))
