"""Z-score fusion over candidates: each retriever proposes its top K, fusion fills the rest.

The exhaustive path (``retrieve._score_fusion``) scores every chunk with every
retriever.  Here each retriever — e5 dense, the cross-lingual encoder, BM25 over
the question or its translation — proposes its ``pool`` best chunk ids (HNSW
above the size threshold, an exact top-k below it, BM25 from its terms'
postings), and knows the mean and standard deviation of its scores over every
chunk without listing them (``FaissIndex.moments``, ``bm25.moments``).  Every
candidate of the union then gets every retriever's exact score
(``scores_for``: a dot product with its stored vector, its BM25 row), so a
candidate's fused score is exactly the one the exhaustive path gives it; the
two paths can differ only where a chunk outside every retriever's top K would
have fused into the top ranks, which the benchmark measures
(docs/scaling.md).  The best ``keep`` fused candidates are picked with
``argpartition``: nothing sorts all N.

Leaves out: the exhaustive path and diversity across documents (``qa.retrieval.retrieve``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from index.store.ann import HnswIndex
from index.store.bm25 import BM25Index, moments, top_rows, touched
from index.store.vectors import FaissIndex


@dataclass(frozen=True)
class Scored:
    """One retriever's answer for one question: its candidates and how its scores spread."""

    weight: float
    ids: np.ndarray  # its top chunk ids
    mean: float
    sd: float
    score: Callable[[np.ndarray], np.ndarray]  # exact scores of any chunk ids


def dense(
    vectors: FaissIndex,
    graph: HnswIndex | None,
    query: np.ndarray,
    pool: int,
    weight: float,
    ef_search: int,
) -> Scored:
    """e5 or cross-lingual candidates: the HNSW graph when the version has one, else exact."""
    if graph is not None:
        ids = graph.search(query, pool, ef_search)
    else:
        ids = np.array([c for c, _ in vectors.search(query, pool)], dtype=np.int64)
    mean, sd = vectors.moments(query)
    return Scored(weight, ids, mean, sd, lambda chunk_ids: vectors.scores_for(query, chunk_ids))


def keyword(bm25: BM25Index, terms: Mapping[str, float], pool: int, weight: float) -> Scored:
    """BM25 candidates from the query terms' postings."""
    scores = bm25.scores(terms)
    rows = touched(scores)
    mean, sd = moments(scores, rows)
    ids = bm25.ids[top_rows(scores, pool, rows)]
    return Scored(weight, ids, mean, sd, lambda chunk_ids: scores[bm25.rows_for(chunk_ids)])


def fuse(
    lists: list[Scored], excluded: Callable[[np.ndarray], np.ndarray], keep: int
) -> dict[int, float]:
    """The ``keep`` best candidates by weighted z-score sum, minus ``excluded`` ones."""
    union = np.unique(np.concatenate([s.ids for s in lists])) if lists else np.zeros(0, np.int64)
    union = union[~excluded(union)] if len(union) else union
    total = np.zeros(len(union), dtype=np.float64)
    for s in lists:
        if s.weight == 0 or s.sd <= 0 or len(union) == 0:
            continue
        total += s.weight * (s.score(union).astype(np.float64) - s.mean) / s.sd
    best = np.argpartition(-total, keep - 1)[:keep] if len(union) > keep else np.arange(len(union))
    best = best[np.argsort(-total[best], kind="stable")]
    return {int(union[i]): float(total[i]) for i in best}
