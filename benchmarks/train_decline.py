"""Fit the decision to decline (qa/retrieval/models/decline.json) on the public dev sets.

Every dev question (300 per set) is retrieved twice with the serving
configuration (reranker included): as asked, where it is answerable, and with
its gold passages removed, where the remaining passages do not answer it (the
same construction ``qa eval`` uses to measure declining).  A logistic regression
per language group (``zh``, ``en``) over the size-independent ``qa.retrieval.decide.INPUTS`` learns
which is which.  Figures are out-of-fold (five folds grouped by question).
The threshold of each group is the one with the best out-of-fold balanced
accuracy among those that answer at least as many answerable questions as the
old fixed thresholds did, less ``--recall-drop`` (3 points).  It prints both
decisions' figures, then fits on every question and writes the model; with
``--plot`` it also draws each group's out-of-fold trade-off (answerable questions
answered against unanswerable ones declined, over every threshold)::

    python benchmarks/train_decline.py --data ../shared/eval --limit 300 \
        --plot docs/eval/declining.png

Leaves out: the retrieval it decides on (``qa.retrieval.retrieve``).
"""

from __future__ import annotations

import argparse
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
from index.store.loader import open_index  # noqa: E402
from qa.retrieval.crosslingual import Dictionary  # noqa: E402
from qa.retrieval.decide import INPUTS, group, inputs  # noqa: E402
from qa.retrieval.query import analyse  # noqa: E402
from qa.retrieval.retrieve import is_relevant, retrieve  # noqa: E402
from qa.runtime import load_aux_embedder, load_embedder, retrieval_config  # noqa: E402
from qa.settings import Settings  # noqa: E402

OUT = ROOT / "qa" / "retrieval" / "models" / "decline.json"
# Inputs that do not depend on the size of the index (see qa.retrieval.decide).
USED = tuple(n for n in INPUTS if n not in ("top", "margin"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "eval" / "cache")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--recall-drop", type=float, default=0.03)
    parser.add_argument("--plot", type=Path, help="write the trade-off curves to this PNG")
    args = parser.parse_args()
    settings = Settings()
    embedder, aux = load_embedder(settings), load_aux_embedder(settings)
    data = eval_data.load(args.data, None, args.limit)
    index = open_index(eval_index(settings, data, embedder, args.cache, aux))
    dictionary = Dictionary.load()
    vectors = _question_vectors(data, embedder, aux, dictionary, args.cache)
    config = replace(retrieval_config(settings, dictionary), decider=None)
    rows: dict[str, list[tuple[int, list[float], int, bool]]] = {"zh": [], "en": []}
    for number, q in enumerate(data.questions):
        query = analyse(q.question, dictionary)
        vector, aux_vector = vectors[q.question]
        for answerable in (True, False):
            exclude = frozenset() if answerable else frozenset(q.gold_doc_ids)
            hits = retrieve(index, vector, query, config, config.top_k, exclude, aux_vector)
            values = inputs(hits)
            old = is_relevant(hits, query, config)
            rows[group(query)].append((number, [values[n] for n in USED], answerable, old))
    curves: dict[str, dict] = {}  # type: ignore[type-arg]
    models = {
        name: _fit(name, group_rows, args.recall_drop, curves) for name, group_rows in rows.items()
    }
    if args.plot:
        _plot(curves, args.plot)
    body = {
        "models": models,
        "embedder": embedder.model_id,
        "fitted_on": f"{len(data.questions)} dev questions, twice each",
    }
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(f"wrote {args.out}")


def _fit(name: str, rows: list, recall_drop: float, curves: dict) -> dict:  # type: ignore[type-arg]
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    groups = np.array([r[0] for r in rows])
    x = np.array([r[1] for r in rows], dtype=np.float64)
    y = np.array([r[2] for r in rows], dtype=bool)
    old = np.array([r[3] for r in rows], dtype=bool)
    p = np.zeros(len(y))
    for train, test in GroupKFold(5).split(x, y, groups):
        scaler = StandardScaler().fit(x[train])
        model = LogisticRegression(max_iter=5000).fit(scaler.transform(x[train]), y[train])
        p[test] = model.predict_proba(scaler.transform(x[test]))[:, 1]
    old_recall = old[y].mean()
    _print(name, "fixed thresholds", old[y].mean(), (~old[~y]).mean())
    best = (-1.0, 0.5)
    for t in np.arange(0.05, 0.96, 0.01):
        recall, declined = (p[y] >= t).mean(), (p[~y] < t).mean()
        if recall >= old_recall - recall_drop and (recall + declined) / 2 > best[0]:
            best = ((recall + declined) / 2, float(t))
    t = best[1]
    _print(name, f"calibrated, threshold {t:.2f}", (p[y] >= t).mean(), (p[~y] < t).mean())
    grid = np.linspace(0, 1, 201)
    curves[name] = {
        "curve": ([(p[~y] < g).mean() for g in grid], [(p[y] >= g).mean() for g in grid]),
        "fixed": ((~old[~y]).mean(), old[y].mean()),
        "chosen": ((p[~y] < t).mean(), (p[y] >= t).mean()),
        "n": len(set(groups.tolist())),
    }
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(max_iter=5000).fit(scaler.transform(x), y)
    return {
        "inputs": list(USED),
        "mean": scaler.mean_.round(6).tolist(),
        "scale": scaler.scale_.round(6).tolist(),
        "coef": model.coef_[0].round(6).tolist(),
        "intercept": round(float(model.intercept_[0]), 6),
        "threshold": round(t, 2),
    }


def _plot(curves: dict, path: Path) -> None:  # type: ignore[type-arg]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = {"zh": 0.85, "en": 0.80}  # issue 17: balanced accuracy
    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 4.6))
    for ax, (name, c) in zip(np.atleast_1d(axes), curves.items(), strict=True):
        ax.plot(*c["curve"], label="calibrated, every threshold (out of fold)")
        ax.plot(*c["fixed"], "s", color="grey", label="fixed thresholds")
        ax.plot(*c["chosen"], "o", color="red", label="shipped threshold")
        xs = np.linspace(0, 1, 50)
        ax.plot(xs, 2 * targets[name] - xs, ":", color="green", label=f"balanced {targets[name]}")
        ax.set(xlim=(0, 1), ylim=(0, 1.02), title=f"{name} ({c['n']} questions, twice each)")
        ax.set(xlabel="unanswerable questions declined", ylabel="answerable questions answered")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def _print(name: str, label: str, answered: float, declined: float) -> None:
    balanced = (answered + declined) / 2
    print(
        f"{name} {label}: answers {answered:.3f} of answerable, declines {declined:.3f} of "
        f"unanswerable, balanced accuracy {balanced:.3f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
