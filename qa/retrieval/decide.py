"""Whether the retrieved passages answer the question: a calibrated decision per language.

Two fixed thresholds (best cosine, best keyword coverage) used to decide; on
the dev sets with the gold passage removed they declined only about half of
the unanswerable questions.  This module replaces them with a logistic
regression per language group (``zh`` for either Chinese script, ``en``)
fitted on the public dev sets with grouped cross-validation
(``benchmarks/train_decline.py``; figures in docs/evaluation.md).  Its inputs,
all from the retrieved hits:

- ``top``: the best hit's score (the fused z-score; the reranker's log-odds for
  English questions) and ``margin``, its lead over the second.  Computed, but
  the shipped models leave them out: z-scores grow with the number of chunks
  (a top hit at 9 sd in the 8,000-chunk dev pool is at 3 sd among the five
  sample articles), so a model using them declines everything on a small index;
- ``cosine`` and ``cosine_top``: the best cosine of any hit, and the top hit's;
  ``cosine_margin``, the top hit's cosine less the second's;
- ``coverage`` and ``coverage_top``: the same for keyword coverage;
- ``dense_agrees`` and ``keyword_agrees``: whether the top hit is also the
  closest in meaning and the richest in keywords among the hits.

The model gives the probability that the passages answer; the question is
answered at ``threshold`` or above (chosen on dev to keep answered questions
answered, see the training script).  Cosines are the embedding model's own
scale, so a model applies only to the embedder it was fitted with
(``Decider.embedder``); with any other the fixed thresholds decide.  Each model is data in
``qa/retrieval/models/decline.json``.

Leaves out: answer types and anything the generator knows; retrieval itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from qa.retrieval.query import Query

INPUTS = (
    "top",
    "margin",
    "cosine_margin",
    "cosine",
    "cosine_top",
    "coverage",
    "coverage_top",
    "dense_agrees",
    "keyword_agrees",
)


class Evidence(Protocol):
    """What a hit tells the decision (``qa.retrieval.retrieve.Hit`` has these)."""

    @property
    def score(self) -> float: ...

    @property
    def dense(self) -> float: ...

    @property
    def coverage(self) -> float: ...


def inputs(hits: Sequence[Evidence]) -> dict[str, float]:
    """Every input in `INPUTS` for one question's hits (best first; at least one)."""
    top = hits[0]
    second = hits[1].score if len(hits) > 1 else top.score
    return {
        "top": top.score,
        "margin": top.score - second,
        "cosine_margin": top.dense - (hits[1].dense if len(hits) > 1 else top.dense),
        "cosine": max(h.dense for h in hits),
        "cosine_top": top.dense,
        "coverage": max(h.coverage for h in hits),
        "coverage_top": top.coverage,
        "dense_agrees": float(top.dense >= max(h.dense for h in hits)),
        "keyword_agrees": float(top.coverage >= max(h.coverage for h in hits)),
    }


@dataclass(frozen=True)
class Model:
    """One language group's logistic regression and its answering threshold."""

    inputs: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float

    def probability(self, values: dict[str, float]) -> float:
        x = np.array([values[name] for name in self.inputs], dtype=np.float64)
        logit = float(((x - self.mean) / self.scale) @ self.coef + self.intercept)
        return 1.0 / (1.0 + math.exp(-max(min(logit, 50.0), -50.0)))


@dataclass(frozen=True)
class Decider:
    """The fitted models by language group: ``zh`` and ``en``."""

    models: dict[str, Model]
    embedder: str = ""  # the model whose cosines it was fitted on

    @classmethod
    def load(cls, path: Path | None = None) -> Decider:
        raw = json.loads((path or _bundled()).read_text(encoding="utf-8"))
        models = {}
        for group, body in raw["models"].items():
            unknown = set(body["inputs"]) - set(INPUTS)
            if unknown:
                raise ValueError(f"the decline model uses unknown inputs: {sorted(unknown)}")
            models[group] = Model(
                inputs=tuple(body["inputs"]),
                mean=np.array(body["mean"], dtype=np.float64),
                scale=np.array(body["scale"], dtype=np.float64),
                coef=np.array(body["coef"], dtype=np.float64),
                intercept=float(body["intercept"]),
                threshold=float(body["threshold"]),
            )
        if set(models) != {"zh", "en"}:
            raise ValueError(f"the decline model needs groups zh and en, has {sorted(models)}")
        return cls(models, str(raw.get("embedder", "")))

    def probability(self, hits: Sequence[Evidence], query: Query) -> float:
        """The probability that ``hits`` answer ``query`` (0 when there are none)."""
        if not hits:
            return 0.0
        return self.models[group(query)].probability(inputs(hits))

    def answers(self, hits: Sequence[Evidence], query: Query) -> bool:
        return bool(hits) and self.probability(hits, query) >= self.models[group(query)].threshold


def group(query: Query) -> str:
    """The model a question uses: English questions over Chinese text have their own."""
    return "en" if query.translated or query.language == "en" else "zh"


def _bundled() -> Path:
    return Path(str(resources.files("qa.retrieval").joinpath("models/decline.json")))
