"""Hybrid retrieval: dense (FAISS) and BM25 scores fused per query by z-score.

Each retriever scores the question against the chunks; each score list is
standardised over all chunks and summed with weights:
``z(e5) + keyword_weight * z(BM25)`` for Chinese questions.  English questions
over Chinese text add the cross-lingual encoder (``index.embed.use_encoder``, when
the index has its vectors) and search BM25 with their dictionary translations
at ``translated_keyword_weight`` (see ``qa.retrieval.fusion``, ``qa.retrieval.query``).  Reciprocal
rank fusion of the two rankings (``fusion="rrf"``, the earlier default) stays
available for comparison; score fusion beat it on every Chinese dev set
(docs/evaluation.md).  By default each retriever only proposes its best
``pool`` candidates and fusion runs over their union with exact scores and
exact per-list statistics (``qa.retrieval.candidates``), so a query's cost
grows with the pool, not with the index; ``exhaustive=True`` scores every
chunk instead (``qa.retrieval.fusion.zscore``), the reference the candidate
path is measured against (docs/scaling.md).

Every returned hit also carries its exact cosine with the
question and its keyword coverage: the share of the question's keyword
groups, weighted by idf, that the chunk contains.  Those two decide whether
the articles answer the question at all (``is_relevant``).

Leaves out: embedding the question (the caller passes the vector) and answering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from index.store.chunks import ChunkRecord, DocumentInfo
from index.store.loader import LoadedIndex
from index.store.view import IndexView
from index.text.textnorm import general_idf
from qa.retrieval import candidates as cand
from qa.retrieval.decide import Decider
from qa.retrieval.fusion import rrf, zscore
from qa.retrieval.query import Query
from qa.retrieval.rerank import Candidates, Reranker


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
    rrf_k: int = 10
    translated_keyword_weight: float = 0.2
    aux_weight: float = 1.0
    min_dense_score: float = 0.90
    min_dense_score_crosslingual: float = 0.78
    min_keyword_coverage: float = 0.55
    mode: Literal["hybrid", "dense", "keyword"] = "hybrid"
    max_per_doc: int = 1
    keyword_weight: float = 0.2
    fusion: Literal["zscore", "rrf"] = "zscore"
    pool: int = 400
    ef_search: int = 1024
    exhaustive: bool = False
    reranker: Reranker | None = field(default=None, compare=False, repr=False)
    decider: Decider | None = field(default=None, compare=False, repr=False)


def retrieve(
    index: IndexView,
    vector: np.ndarray,
    query: Query,
    config: RetrievalConfig,
    top_k: int,
    exclude: frozenset[str] = frozenset(),
    aux_vector: np.ndarray | None = None,
) -> list[Hit]:
    """The ``top_k`` fused hits; documents in ``exclude`` are treated as absent.

    ``aux_vector`` is the question under the cross-lingual encoder, used (with
    the index's matching vectors) for English questions.
    """
    if config.mode == "hybrid" and (query.translated or config.fusion == "zscore"):
        fused = _score_fusion(index, vector, aux_vector, query, config, exclude)
    else:
        fused = _monolingual(index, vector, query, config, exclude)
    best = _diverse(index, sorted(fused, key=lambda cid: -fused[cid]), top_k, config.max_per_doc)
    cosines = index.retrievers.cosines(vector, best)
    hits = []
    for chunk_id, cosine in zip(best, cosines, strict=True):
        chunk = index.chunks[chunk_id]
        terms = set(chunk.terms)
        coverage = keyword_coverage(index, query, terms.__contains__)
        hits.append(Hit(chunk, index.documents[chunk.doc_id], fused[chunk_id], cosine, coverage))
    return hits


def _diverse(index: IndexView, ranked: list[int], top_k: int, max_per_doc: int) -> list[int]:
    """The first ``top_k`` chunks, at most ``max_per_doc`` from any one document."""
    taken: dict[int, int] = {}
    out: list[int] = []
    docs = index.doc_map.ordinals(np.array(ranked, dtype=np.int64)).tolist() if ranked else []
    for chunk_id, doc_id in zip(ranked, docs, strict=True):
        if taken.get(doc_id, 0) < max_per_doc:
            taken[doc_id] = taken.get(doc_id, 0) + 1
            out.append(chunk_id)
            if len(out) == top_k:
                break
    return out


def _monolingual(
    index: IndexView,
    vector: np.ndarray,
    query: Query,
    config: RetrievalConfig,
    exclude: frozenset[str],
) -> dict[int, float]:
    """RRF of the dense and BM25 rankings (or one of them alone, for ablations)."""
    keyword_weight = config.translated_keyword_weight if query.translated else 1.0
    found = index.retrievers
    rankings: list[tuple[float, list[int]]] = []
    if config.mode != "keyword":
        dense = found.dense(vector, config.candidates, 1.0, config.ef_search)
        rankings.append((1.0, dense.ids.tolist()))
    if config.mode != "dense":
        keyword = found.keyword(query.flat_terms(), config.candidates, keyword_weight)
        rankings.append((keyword_weight, keyword.ids.tolist()))
    excluded = _excluded(index, exclude)
    kept = [
        (w, [c for c, x in zip(r, excluded(np.array(r, np.int64)), strict=True) if not x])
        for w, r in rankings
    ]
    return rrf(kept, config.rrf_k)


def _excluded(index: IndexView, exclude: frozenset[str]) -> Callable[[np.ndarray], np.ndarray]:
    """A mask function: which chunk ids belong to an excluded document."""
    if not exclude:
        return lambda ids: np.zeros(len(ids), dtype=bool)
    return lambda ids: index.doc_map.in_documents(ids, exclude)


def _score_fusion(
    index: IndexView,
    vector: np.ndarray,
    aux_vector: np.ndarray | None,
    query: Query,
    config: RetrievalConfig,
    exclude: frozenset[str],
) -> dict[int, float]:
    """Z-score fusion of e5, BM25 and (English) the cross-lingual encoder, over candidates."""
    if config.exhaustive:
        return _exhaustive_fusion(index, vector, aux_vector, query, config, exclude)
    reranker = config.reranker if query.translated else None
    if reranker is None:
        return cand.fuse(
            _lists(index, vector, aux_vector, query, config, exclude),
            _excluded(index, exclude),
            config.candidates,
        )
    found = first_stage(index, vector, aux_vector, query, config, exclude, reranker.candidates)
    return _reranked(index, query, reranker, found)


def _lists(
    index: IndexView,
    vector: np.ndarray,
    aux_vector: np.ndarray | None,
    query: Query,
    config: RetrievalConfig,
    exclude: frozenset[str],
) -> list[cand.Scored]:
    """Each retriever's candidates: e5, BM25 and (English, if indexed) the cross-lingual one."""
    weight = config.translated_keyword_weight if query.translated else config.keyword_weight
    pool = config.pool + sum(index.chunk_counts.get(d, 0) for d in exclude)
    ef = config.ef_search
    found = index.retrievers
    lists = [found.dense(vector, pool, 1.0, ef), found.keyword(query.flat_terms(), pool, weight)]
    if query.translated and found.has_aux and aux_vector is not None:
        lists.append(found.aux(aux_vector, pool, config.aux_weight, ef))
    return lists


def first_stage(
    index: IndexView,
    vector: np.ndarray,
    aux_vector: np.ndarray | None,
    query: Query,
    config: RetrievalConfig,
    exclude: frozenset[str],
    n: int,
) -> Candidates:
    """The ``n`` best fused candidates with each retriever's z-scores (the reranker's input)."""
    lists = _lists(index, vector, aux_vector, query, config, exclude)
    fused = cand.fuse(lists, _excluded(index, exclude), n)
    ids = np.fromiter(fused, dtype=np.int64, count=len(fused))
    z = [s.zscores(ids) for s in lists] + [np.zeros(len(ids))] * (3 - len(lists))
    return Candidates(ids, np.fromiter(fused.values(), dtype=np.float64, count=len(ids)), *z)


def _reranked(
    index: IndexView, query: Query, reranker: Reranker, found: Candidates
) -> dict[int, float]:
    """The candidates re-scored by the learned second stage, best first."""
    if len(found.ids) == 0:
        return {}
    scores = reranker.score(index, query, found)
    order = np.argsort(-scores, kind="stable")
    return {int(found.ids[i]): float(scores[i]) for i in order}


def _exhaustive_fusion(
    index: IndexView,
    vector: np.ndarray,
    aux_vector: np.ndarray | None,
    query: Query,
    config: RetrievalConfig,
    exclude: frozenset[str],
) -> dict[int, float]:
    """Z-score fusion over every chunk: the reference for the candidate path (local only)."""
    if not isinstance(index, LoadedIndex):
        raise ValueError("exhaustive retrieval scores every chunk of a local index only")
    ids, dense = index.dense.all_scores(vector)
    weight = config.translated_keyword_weight if query.translated else config.keyword_weight
    keyword = index.bm25.scores(query.flat_terms())
    if not np.array_equal(index.bm25.ids, ids):  # both are in chunk-id order when built
        order = np.argsort(index.bm25.ids, kind="stable")
        keyword = keyword[order[np.searchsorted(index.bm25.ids, ids, sorter=order)]]
    lists = [(1.0, dense), (weight, keyword)]
    if query.translated and index.aux is not None and aux_vector is not None:
        lists.append((config.aux_weight, index.aux.all_scores(aux_vector)[1]))
    fused = zscore(lists)
    if exclude:
        fused[_excluded(index, exclude)(ids)] = -np.inf
    best = np.argsort(-fused)[: config.candidates]
    return {int(ids[i]): float(fused[i]) for i in best if np.isfinite(fused[i])}


def keyword_coverage(index: IndexView, query: Query, present: Callable[[str], bool]) -> float:
    """Idf-weighted share of the query's keyword groups with a term for which ``present``."""
    total = found = 0.0
    for group in query.groups:
        weights = group_weights(index, group)
        total += max(weights.values())
        found += max((v for t, v in weights.items() if present(t)), default=0.0)
    return found / total if total > 0 else 0.0


def group_weights(index: IndexView, group: dict[str, float]) -> dict[str, float]:
    """Each alternative's weight times how informative it is in general Chinese.

    Informativeness comes from general word frequencies, not from the index, so
    that "今天" weighs little even in a corpus where it occurs once.  Alternatives
    the index never saw weigh nothing while another alternative is known; a group
    with no known term keeps its weights: the question asks about something the
    articles never mention.
    """
    known = {t for t in group if index.retrievers.knows(t)}
    return {t: w * general_idf(t) if not known or t in known else 0.0 for t, w in group.items()}


def is_relevant(hits: list[Hit], query: Query, config: RetrievalConfig) -> bool:
    """Whether any hit is close enough, in meaning or in keywords, to answer from.

    With a fitted ``config.decider`` (``qa.retrieval.decide``) its calibrated
    model decides.  Otherwise two thresholds do; cosines across languages run
    lower than within one, so English questions over Chinese text have their own.
    """
    if config.decider is not None:
        return config.decider.answers(hits, query)
    floor = config.min_dense_score_crosslingual if query.translated else config.min_dense_score
    return any(h.dense >= floor or h.coverage >= config.min_keyword_coverage for h in hits)
