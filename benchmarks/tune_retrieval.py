"""Grid search of retrieval weights on the public dev sets, over the cached eval index.

Embeds every question once (e5, and the cross-lingual encoder for English),
then re-ranks with each candidate configuration — cheap, since retrieval is a
few milliseconds — and prints hit@1/hit@5/MRR@10 per set for each.  Run
``qa eval`` first so the index of the pooled corpus is cached, then::

    python benchmarks/tune_retrieval.py --data ../shared/eval --limit 300

Leaves out: anything that needs re-indexing (chunk sizes: ``qa eval --chunk-tokens``).
"""

from __future__ import annotations

import argparse
import pickle
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation import data as eval_data  # noqa: E402
from evaluation.evaluate import eval_index  # noqa: E402
from evaluation.metrics import gold_rank  # noqa: E402
from index.store.loader import open_index  # noqa: E402
from qa.retrieval.crosslingual import Dictionary  # noqa: E402
from qa.retrieval.query import analyse  # noqa: E402
from qa.retrieval.retrieve import RetrievalConfig, retrieve  # noqa: E402
from qa.runtime import load_aux_embedder, load_embedder, retrieval_config  # noqa: E402
from qa.settings import Settings  # noqa: E402

GRIDS: dict[str, list[dict[str, Any]]] = {
    "en": [
        {"translated_keyword_weight": w, "aux_weight": a, "max_per_doc": m}
        for w in (0.1, 0.2, 0.3, 0.5)
        for a in (0.5, 1.0, 1.5)
        for m in (1, 2, 1000)
    ],
    "zh": [
        {"keyword_weight": w, "max_per_doc": m}
        for w in (0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 1.0)
        for m in (1, 2, 1000)
    ]
    + [{"fusion": "rrf", "rrf_k": k, "max_per_doc": 1} for k in (10, 30, 60, 100)],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "eval" / "cache")
    parser.add_argument("--thresholds", action="store_true", help="tune declining instead")
    args = parser.parse_args()
    settings = Settings()
    embedder, aux = load_embedder(settings), load_aux_embedder(settings)
    data = eval_data.load(args.data, None, args.limit)
    index = open_index(eval_index(settings, data, embedder, args.cache, aux))
    dictionary = Dictionary.load()
    vectors = _question_vectors(data, embedder, aux, dictionary, args.cache)
    prepared = [(q, analyse(q.question, dictionary), *vectors[q.question]) for q in data.questions]
    base = retrieval_config(settings)
    if args.thresholds:
        _thresholds(index, prepared, base)
        return
    for group, grid in GRIDS.items():
        for change in grid:
            config = replace(base, **change)
            _report(group, change, index, prepared, config)


def _question_vectors(data, embedder, aux, dictionary, cache: Path) -> dict:  # type: ignore[no-untyped-def]
    """Question vectors, cached on disk next to the index (embedding is the slow part)."""
    path = cache / f"questions-{data.corpus_hash}-{len(data.questions)}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    out = {}
    for q in data.questions:
        english = analyse(q.question, dictionary).translated
        aux_vector = aux.embed_query(q.question) if aux and english else None
        out[q.question] = (embedder.embed_query(q.question), aux_vector)
    path.write_bytes(pickle.dumps(out))
    return out


def _thresholds(index: object, prepared: list, config: RetrievalConfig) -> None:
    """Balanced accuracy of declining (answer the answerable, decline with gold removed)."""
    evidence: dict[str, tuple[list, list]] = {"zh": ([], []), "en": ([], [])}
    for q, query, vector, aux_vector in prepared:
        group = "en" if q.lang == "en" else "zh"
        for gold_removed in (False, True):
            exclude = frozenset(q.gold_doc_ids) if gold_removed else frozenset()
            hits = retrieve(index, vector, query, config, config.top_k, exclude, aux_vector)  # type: ignore[arg-type]
            best = (max(h.dense for h in hits), max(h.coverage for h in hits))
            evidence[group][gold_removed].append(best)
    for group, (answerable, unanswerable) in evidence.items():
        rows = []
        for dense in (0.78, 0.80, 0.82, 0.84, 0.86, 0.88, 0.90, 0.92, 0.94):
            for coverage in (0.3, 0.4, 0.5, 0.55, 0.6, 0.7, 0.8):
                answered = sum(d >= dense or c >= coverage for d, c in answerable) / len(answerable)
                declined = sum(d < dense and c < coverage for d, c in unanswerable) / len(
                    unanswerable
                )
                rows.append(((answered + declined) / 2, dense, coverage, answered, declined))
        for row in sorted(rows, reverse=True)[:8]:
            print(
                f"{group} dense>={row[1]} or coverage>={row[2]}: balanced {row[0]:.3f} "
                f"(answers {row[3]:.3f} of answerable, declines {row[4]:.3f} of unanswerable)"
            )


def _report(
    group: str, change: dict, index: object, prepared: list, config: RetrievalConfig
) -> None:
    per_set: dict[str, list[int | None]] = {}
    for q, query, vector, aux_vector in prepared:
        if (q.lang == "en") != (group == "en"):
            continue
        hits = retrieve(index, vector, query, config, 10, aux_vector=aux_vector)  # type: ignore[arg-type]
        rank = gold_rank([h.chunk.doc_id for h in hits], q.gold_doc_ids)
        per_set.setdefault(q.set_name, []).append(rank)
    cells = []
    for name, ranks in sorted(per_set.items()):
        n = len(ranks)
        h1 = sum(1 for r in ranks if r == 1) / n
        h5 = sum(1 for r in ranks if r and r <= 5) / n
        mrr = sum(1 / r for r in ranks if r) / n
        cells.append(f"{name} {h1:.3f}/{h5:.3f}/{mrr:.3f}")
    print(f"{group} {change}: " + "  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
