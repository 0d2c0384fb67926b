"""Hybrid retrieval: dense (FAISS) and BM25 rankings fused by reciprocal rank.

Each retriever contributes its best ``candidates`` chunks; a chunk's fused
score is ``sum(1 / (rrf_k + rank))`` over the rankings it appears in.  Chinese
questions use both rankings at equal weight; English questions use dense and
BM25 over their dictionary translations, the latter at a reduced weight (see
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
from index.textnorm import general_idf
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
    translated_keyword_weight: float = 0.5
    min_dense_score: float = 0.88
    min_dense_score_crosslingual: float = 0.78
    min_keyword_coverage: float = 0.5


def retrieve(
    index: LoadedIndex, vector: np.ndarray, query: Query, config: RetrievalConfig, top_k: int
) -> list[Hit]:
    keyword_weight = config.translated_keyword_weight if query.translated else 1.0
    rankings = [
        (1.0, index.dense.search(vector, config.candidates)),
        (keyword_weight, index.bm25.search(query.flat_terms(), config.candidates)),
    ]
    fused: dict[int, float] = {}
    for weight, ranking in rankings:
        for rank, (chunk_id, _) in enumerate(ranking):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (config.rrf_k + rank + 1)
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
        weights = group_weights(index, group)
        total += max(weights.values())
        found += max((v for t, v in weights.items() if present(t)), default=0.0)
    return found / total if total > 0 else 0.0


def group_weights(index: LoadedIndex, group: dict[str, float]) -> dict[str, float]:
    """Each alternative's weight times how informative it is in general Chinese.

    Informativeness comes from general word frequencies, not from the index, so
    that "今天" weighs little even in a corpus where it occurs once.  Alternatives
    the index never saw weigh nothing while another alternative is known; a group
    with no known term keeps its weights: the question asks about something the
    articles never mention.
    """
    known = {t for t in group if index.bm25.idf(t) > 0}
    return {t: w * general_idf(t) if not known or t in known else 0.0 for t, w in group.items()}


def is_relevant(hits: list[Hit], query: Query, config: RetrievalConfig) -> bool:
    """Whether any hit is close enough, in meaning or in keywords, to answer from.

    Cosines across languages run lower than within one, so English questions
    over Chinese text have their own threshold.
    """
    floor = config.min_dense_score_crosslingual if query.translated else config.min_dense_score
    return any(h.dense >= floor or h.coverage >= config.min_keyword_coverage for h in hits)
