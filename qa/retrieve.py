"""Hybrid retrieval: dense (FAISS) and BM25 rankings fused by reciprocal rank.

Each retriever contributes its best ``candidates`` chunks; a chunk's fused
score is ``sum(1 / (rrf_k + rank))`` over the rankings it appears in.  Chinese
questions use both rankings; English questions use dense only (see
``qa.query``).  Every returned hit also carries its exact cosine with the
question and its keyword coverage: the share of the question's keyword
groups, weighted by idf, that the chunk contains.  Those two decide whether
the articles answer the question at all (``is_relevant``).

Leaves out: embedding the question (the caller passes the vector) and answering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from index.loader import LoadedIndex
from index.store import ChunkRecord, DocumentInfo
from qa.query import Query


@dataclass(frozen=True)
class Hit:
    chunk: ChunkRecord
    document: DocumentInfo
    score: float
    dense: float
    coverage: float


@dataclass(frozen=True)
class RetrievalConfig:
    top_k: int = 5
    candidates: int = 50
    rrf_k: int = 60
    min_dense_score: float = 0.80
    min_keyword_coverage: float = 0.5


def retrieve(
    index: LoadedIndex, vector: np.ndarray, query: Query, config: RetrievalConfig, top_k: int
) -> list[Hit]:
    rankings = [index.dense.search(vector, config.candidates)]
    if query.keyword_search:
        rankings.append(index.bm25.search(query.flat_terms(), config.candidates))
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (chunk_id, _) in enumerate(ranking):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (config.rrf_k + rank + 1)
    best = sorted(fused, key=lambda cid: -fused[cid])[:top_k]
    cosines = index.dense.cosines(vector, best)
    hits = []
    for chunk_id, cosine in zip(best, cosines, strict=True):
        chunk = index.chunks[chunk_id]
        terms = set(chunk.terms)
        coverage = keyword_coverage(index, query, terms.__contains__)
        hits.append(Hit(chunk, index.documents[chunk.doc_id], fused[chunk_id], cosine, coverage))
    return hits


def keyword_coverage(index: LoadedIndex, query: Query, present: Callable[[str], bool]) -> float:
    """Idf-weighted share of the query's keyword groups with a term for which ``present``."""
    total = found = 0.0
    for group in query.groups:
        weights = {t: idf_weight(index, t) * w for t, w in group.items()}
        total += max(weights.values())
        found += max((v for t, v in weights.items() if present(t)), default=0.0)
    return found / total if total > 0 else 0.0


def idf_weight(index: LoadedIndex, term: str) -> float:
    """A term's idf in the index; a term the index never saw counts as the rarest."""
    idf = index.bm25.idf(term)
    return idf if idf > 0 else index.bm25.max_idf()


def is_relevant(hits: list[Hit], config: RetrievalConfig) -> bool:
    """Whether any hit is close enough, in meaning or in keywords, to answer from."""
    return any(
        h.dense >= config.min_dense_score or h.coverage >= config.min_keyword_coverage for h in hits
    )
