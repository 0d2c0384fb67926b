"""Fit the English reranker (qa/retrieval/models/rerank_en.json) on the public dev sets.

For every English dev question (300 per set, all 242 for mlqa-en2zh) the first
stage's best candidates and their features (``qa.retrieval.rerank.features``)
are computed over the cached eval index; a logistic regression learns whether a
candidate comes from the gold passage.  Figures are out-of-fold: five folds
grouped by question, so no question is scored by a model that saw it.  It
prints hit@1 / hit@5 / MRR@10 of the first stage and of the reranked list per
set, then fits on every question and writes the model.  Run ``qa eval`` first
(it builds and caches the index)::

    python benchmarks/train_rerank.py --data ../shared/eval --limit 300

Leaves out: Chinese questions, and choosing the features (the code's `FEATURES`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.tune_retrieval import _question_vectors  # noqa: E402
from evaluation import data as eval_data  # noqa: E402
from evaluation.evaluate import eval_index  # noqa: E402
from evaluation.metrics import gold_rank  # noqa: E402
from index.store.loader import open_index  # noqa: E402
from qa.retrieval.crosslingual import Dictionary  # noqa: E402
from qa.retrieval.query import analyse  # noqa: E402
from qa.retrieval.rerank import FEATURES, features  # noqa: E402
from qa.retrieval.retrieve import _diverse, first_stage  # noqa: E402
from qa.runtime import load_aux_embedder, load_embedder, retrieval_config  # noqa: E402
from qa.settings import Settings  # noqa: E402

CANDIDATES = 50


def _model(c: float):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000, class_weight="balanced")


OUT = ROOT / "qa" / "retrieval" / "models" / "rerank_en.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "eval" / "cache")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    args = parser.parse_args()
    settings = Settings()
    embedder, aux = load_embedder(settings), load_aux_embedder(settings)
    data = eval_data.load(args.data, None, args.limit)
    index = open_index(eval_index(settings, data, embedder, args.cache, aux))
    dictionary = Dictionary.load()
    vectors = _question_vectors(data, embedder, aux, dictionary, args.cache)
    config = replace(retrieval_config(settings), reranker=None)
    rows = []
    for q in data.questions:
        query = analyse(q.question, dictionary)
        if not query.translated:
            continue
        vector, aux_vector = vectors[q.question]
        found = first_stage(index, vector, aux_vector, query, config, frozenset(), CANDIDATES)
        table = features(index, query, found, dictionary.glosses)
        x = np.stack([table[name] for name in FEATURES], axis=1)
        gold = set(q.gold_doc_ids)
        y = np.array([index.chunks[int(c)].doc_id in gold for c in found.ids], dtype=float)
        rows.append((q, found.ids, x, y))
    out_of_fold = _cross_validated(rows, args.c)
    _report(index, rows, out_of_fold)
    _write(rows, args.c, args.out, embedder.model_id)


def _cross_validated(rows: list, c: float) -> list[np.ndarray]:
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    x = np.concatenate([r[2] for r in rows])
    y = np.concatenate([r[3] for r in rows])
    groups = np.concatenate([[i] * len(r[3]) for i, r in enumerate(rows)])
    predicted = np.zeros(len(y))
    for train, test in GroupKFold(5).split(x, y, groups):
        scaler = StandardScaler().fit(x[train])
        model = _model(c).fit(scaler.transform(x[train]), y[train])
        predicted[test] = model.decision_function(scaler.transform(x[test]))
    bounds = np.cumsum([0] + [len(r[3]) for r in rows])
    return [predicted[a:b] for a, b in itertools.pairwise(bounds)]


def _report(index: object, rows: list, scores: list[np.ndarray]) -> None:
    per_set: dict[str, dict[str, list[int | None]]] = {}
    for (q, ids, _x, _), score in zip(rows, scores, strict=True):
        for name, order in (("first stage", np.arange(len(ids))), ("reranked", np.argsort(-score))):
            ranked = _diverse(index, [int(ids[i]) for i in order], 10, 1)  # type: ignore[arg-type]
            docs = [index.chunks[c].doc_id for c in ranked]  # type: ignore[attr-defined]
            per_set.setdefault(q.set_name, {}).setdefault(name, []).append(
                gold_rank(docs, q.gold_doc_ids)
            )
    for set_name, runs in sorted(per_set.items()):
        for name, ranks in runs.items():
            n = len(ranks)
            h1 = sum(r == 1 for r in ranks) / n
            h5 = sum(bool(r) and r <= 5 for r in ranks) / n  # type: ignore[operator]
            mrr = sum(1 / r for r in ranks if r) / n
            print(f"{set_name} ({n}) {name}: hit@1 {h1:.3f} hit@5 {h5:.3f} MRR@10 {mrr:.3f}")


def _write(rows: list, c: float, out: Path, embedder_id: str) -> None:
    from sklearn.preprocessing import StandardScaler

    x = np.concatenate([r[2] for r in rows])
    y = np.concatenate([r[3] for r in rows])
    scaler = StandardScaler().fit(x)
    model = _model(c).fit(scaler.transform(x), y)
    body = {
        "features": list(FEATURES),
        "mean": scaler.mean_.round(6).tolist(),
        "scale": scaler.scale_.round(6).tolist(),
        "coef": model.coef_[0].round(6).tolist(),
        "intercept": round(float(model.intercept_[0]), 6),
        "candidates": CANDIDATES,
        "embedder": embedder_id,
        "fitted_on": f"{len(rows)} English dev questions (xquad-en2zh, mlqa-en2zh), C={c}",
    }
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
