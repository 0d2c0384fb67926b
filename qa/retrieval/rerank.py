"""A learned second stage for English questions: a linear model over retrieval features.

English questions reach Chinese passages through weak evidence: two encoders
across languages and a dictionary translation that must guess each word's
sense.  The first stage (``qa.retrieval.retrieve``) fuses them with fixed
weights; this stage re-scores its best ``candidates`` chunks with a logistic
regression fitted on the public dev sets (``benchmarks/train_rerank.py``,
grouped cross-validation; figures in docs/evaluation.md) over these features:

- ``dense``, ``keyword``, ``aux``: each retriever's z-score, as fused;
- ``fused`` and ``rank``: the first stage's verdict;
- ``glossed``: BM25, over the candidates, of the question's English words against
  the English glosses of the chunk's words (CC-CEDICT, ``Dictionary.glosses``) — a
  match that needs no sense choice ("architecture" finds 架构 through its gloss);
- ``latin``: share of the question's Latin-script words found verbatim in the
  chunk or its title (names, acronyms, "EFS");
- ``numbers``: share of the question's numbers found in the chunk;
- ``coverage``: the idf-weighted share of translated keyword groups in the chunk.

The model is data (``qa/retrieval/models/rerank_en.json``): feature names,
standardisation, weights and the embedder it was fitted with (it applies to
that embedder only).  A model whose features this code does not know
is refused at load.

Leaves out: Chinese questions (their first stage is strong; not measured to
gain) and any neural cross-encoder (none ships inside a wheel here).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from index.store.view import IndexView
from qa.retrieval.crosslingual import content_stems
from qa.retrieval.query import Query

FEATURES = (
    "dense",
    "keyword",
    "aux",
    "fused",
    "rank",
    "glossed",
    "latin",
    "numbers",
    "coverage",
)
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9'-]+")
_NUMBER = re.compile(r"\d+")
BM25_K1, BM25_B, AVG_TERMS = 1.2, 0.75, 150.0


@dataclass(frozen=True)
class Candidates:
    """The first stage's best chunks: ids, fused scores, and each retriever's z-scores."""

    ids: np.ndarray
    fused: np.ndarray
    dense: np.ndarray
    keyword: np.ndarray
    aux: np.ndarray


@dataclass(frozen=True)
class Reranker:
    """Logistic-regression weights over `FEATURES`, with the dictionary's reverse glosses."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    candidates: int
    glosses: Mapping[str, frozenset[str]]
    embedder: str = ""  # the model whose z-scores it was fitted on

    @classmethod
    def load(cls, glosses: Mapping[str, frozenset[str]], path: Path | None = None) -> Reranker:
        raw = json.loads((path or _bundled()).read_text(encoding="utf-8"))
        unknown = set(raw["features"]) - set(FEATURES)
        if unknown:
            raise ValueError(f"the reranker model uses unknown features: {sorted(unknown)}")
        return cls(
            features=tuple(raw["features"]),
            mean=np.array(raw["mean"], dtype=np.float64),
            scale=np.array(raw["scale"], dtype=np.float64),
            coef=np.array(raw["coef"], dtype=np.float64),
            intercept=float(raw["intercept"]),
            candidates=int(raw["candidates"]),
            glosses=glosses,
            embedder=str(raw.get("embedder", "")),
        )

    def score(self, index: IndexView, query: Query, found: Candidates) -> np.ndarray:
        """The model's log-odds that each candidate is from the answering document."""
        table = features(index, query, found, self.glosses)
        columns = np.stack([table[name] for name in self.features], axis=1)
        return ((columns - self.mean) / self.scale) @ self.coef + self.intercept


def features(
    index: IndexView,
    query: Query,
    found: Candidates,
    glosses: Mapping[str, frozenset[str]],
) -> dict[str, np.ndarray]:
    """Every feature in `FEATURES`, one value per candidate (in ``found.ids`` order)."""
    chunks = [index.chunks[int(c)] for c in found.ids]
    n = len(chunks)
    texts = [f"{index.documents[c.doc_id].title}\n{c.text}".lower() for c in chunks]
    latin = [w.lower() for w in _LATIN.findall(query.text) if content_stems(w)]
    numbers = _NUMBER.findall(query.text)
    weights = [_group_weights(index, g) for g in query.groups]
    return {
        "dense": found.dense,
        "keyword": found.keyword,
        "aux": found.aux,
        "fused": found.fused,
        "rank": 1.0 / (1.0 + np.arange(n)),
        "glossed": _standardised(_glossed_bm25(query, [c.terms for c in chunks], glosses)),
        "latin": _share(latin, texts),
        "numbers": _share(numbers, [c.text for c in chunks]),
        "coverage": np.array([_coverage(weights, set(c.terms)) for c in chunks]),
    }


def _glossed_bm25(
    query: Query, terms: list[tuple[str, ...]], glosses: Mapping[str, frozenset[str]]
) -> np.ndarray:
    """BM25 of the question's English stems over the candidates' glossed words."""
    stems = set(content_stems(query.text))
    bags: list[dict[str, int]] = []
    for chunk_terms in terms:
        bag: dict[str, int] = {}
        for term in chunk_terms:
            for word in glosses.get(term, ()):
                if word in stems:
                    bag[word] = bag.get(word, 0) + 1
        bags.append(bag)
    n = len(bags)
    scores = np.zeros(n)
    for word in stems:
        df = sum(1 for bag in bags if word in bag)
        if not df:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for i, (bag, chunk_terms) in enumerate(zip(bags, terms, strict=True)):
            tf = bag.get(word, 0)
            norm = BM25_K1 * (1 - BM25_B + BM25_B * len(chunk_terms) / AVG_TERMS)
            scores[i] += idf * tf * (BM25_K1 + 1) / (tf + norm) if tf else 0.0
    return scores


def _standardised(values: np.ndarray) -> np.ndarray:
    sd = float(values.std())
    return (values - float(values.mean())) / sd if sd > 0 else np.zeros_like(values)


def _share(needles: list[str], haystacks: list[str]) -> np.ndarray:
    if not needles:
        return np.zeros(len(haystacks))
    return np.array([sum(n in h for n in needles) / len(needles) for h in haystacks])


def _group_weights(index: IndexView, group: dict[str, float]) -> dict[str, float]:
    from qa.retrieval.retrieve import group_weights  # one definition of a group's weights

    return group_weights(index, group)


def _coverage(weights: list[dict[str, float]], present: set[str]) -> float:
    total = sum(max(w.values()) for w in weights if w)
    found = sum(max((v for t, v in w.items() if t in present), default=0.0) for w in weights)
    return found / total if total > 0 else 0.0


def _bundled() -> Path:
    return Path(str(resources.files("qa.retrieval").joinpath("models/rerank_en.json")))
