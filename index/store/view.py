"""What query time reads from an index, whichever backend stores it.

`IndexView` is the seam between retrieval and storage: the documents, chunks
and texts of one published version, and its `Retrievers` — each retriever
(e5 dense, the cross-lingual encoder, BM25) proposes its top chunk ids as a
`Scored`: the candidates, the mean and standard deviation of its scores over
every chunk of the version, and a function that scores any chunk ids exactly.
Fusion (``qa.retrieval.candidates``) needs nothing else, so the same fusion
runs over the local FAISS/BM25 files (`LocalRetrievers`, wrapping
``index.store.loader.LoadedIndex``) and over Milvus (``index.milvus.reader``).

`SpanLookup` holds what both backends compute the same way from a version's
texts: the chunk at an offset and the sentences within a span.

Leaves out: loading a version (``index.store.loader``, ``index.milvus.reader``)
and fusing scores (``qa.retrieval``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.errors import NotFound
from index.store.ann import HnswIndex
from index.store.bm25 import BM25Index, moments, top_rows, touched
from index.store.chunks import ChunkRecord, DocumentInfo
from index.store.manifest import Manifest
from index.store.vectors import FaissIndex
from index.text.chunk import Span


@dataclass(frozen=True)
class Scored:
    """One retriever's answer for one question: its candidates and how its scores spread."""

    weight: float
    ids: np.ndarray  # its top chunk ids, best first
    mean: float
    sd: float
    score: Callable[[np.ndarray], np.ndarray]  # exact scores of any chunk ids

    def zscores(self, ids: np.ndarray) -> np.ndarray:
        """The exact scores of ``ids`` standardised by this retriever's statistics."""
        if self.sd <= 0:
            return np.zeros(len(ids))
        return (self.score(ids).astype(np.float64) - self.mean) / self.sd


class Retrievers(Protocol):
    """Candidates with exact scores and whole-version statistics, per retriever."""

    @property
    def has_aux(self) -> bool: ...

    def dense(self, query: np.ndarray, pool: int, weight: float, ef_search: int) -> Scored: ...

    def aux(self, query: np.ndarray, pool: int, weight: float, ef_search: int) -> Scored: ...

    def keyword(self, terms: Mapping[str, float], pool: int, weight: float) -> Scored: ...

    def cosines(self, query: np.ndarray, ids: Sequence[int]) -> list[float]: ...

    def knows(self, term: str) -> bool:
        """Whether any chunk of the version has ``term``."""
        ...


class ChunkLookup(Protocol):
    def __getitem__(self, chunk_id: int) -> ChunkRecord: ...

    def __len__(self) -> int: ...

    def by_number(self, doc_id: str, number: int) -> int | None: ...

    def values(self) -> Iterator[ChunkRecord]: ...


class DocLookup(Protocol):
    def ordinals(self, ids: np.ndarray) -> np.ndarray: ...

    def in_documents(self, ids: np.ndarray, doc_ids: frozenset[str]) -> np.ndarray: ...


class IndexView(Protocol):
    """One published index version, as query time sees it."""

    @property
    def manifest(self) -> Manifest: ...

    @property
    def documents(self) -> Mapping[str, DocumentInfo]: ...

    @property
    def chunk_counts(self) -> Mapping[str, int]: ...

    @property
    def texts(self) -> Mapping[str, str]: ...

    @property
    def sentences(self) -> Mapping[str, list[Span]]: ...

    @property
    def doc_chunks(self) -> Mapping[str, list[ChunkRecord]]: ...

    @property
    def version(self) -> str: ...

    @property
    def chunks(self) -> ChunkLookup: ...

    @property
    def doc_map(self) -> DocLookup: ...

    @property
    def retrievers(self) -> Retrievers: ...

    def document_text(self, doc_id: str) -> tuple[DocumentInfo, str]: ...

    def chunk_at(self, doc_id: str, offset: int) -> ChunkRecord: ...

    def neighbours(self, chunk: ChunkRecord) -> tuple[ChunkRecord | None, ChunkRecord | None]: ...

    def sentences_between(self, doc_id: str, start: int, end: int) -> list[Span]: ...


class SpanLookup:
    """Offsets and sentences over ``documents``, ``texts``, ``doc_chunks`` and ``sentences``."""

    documents: Mapping[str, DocumentInfo]
    texts: Mapping[str, str]
    sentences: Mapping[str, list[Span]]
    doc_chunks: Mapping[str, list[ChunkRecord]]

    def document_text(self, doc_id: str) -> tuple[DocumentInfo, str]:
        if doc_id not in self.documents:
            raise NotFound(f"No document with id {doc_id!r}.", detail={"doc_id": doc_id})
        return self.documents[doc_id], self.texts[doc_id]

    def chunk_at(self, doc_id: str, offset: int) -> ChunkRecord:
        """The document's chunk that contains ``offset`` (or the nearest before it)."""
        chunks = self.doc_chunks[doc_id]
        i = bisect.bisect_right(chunks, offset, key=lambda c: c.start)
        return chunks[max(i - 1, 0)]

    def neighbours(self, chunk: ChunkRecord) -> tuple[ChunkRecord | None, ChunkRecord | None]:
        """The chunks just before and just after ``chunk`` in its article (None at an end)."""
        chunks = self.doc_chunks[chunk.doc_id]
        at = next(i for i, c in enumerate(chunks) if c.id == chunk.id)
        return (chunks[at - 1] if at else None), (chunks[at + 1] if at + 1 < len(chunks) else None)

    def sentences_between(self, doc_id: str, start: int, end: int) -> list[Span]:
        """The document's whole sentences that overlap ``[start, end)``."""
        spans = self.sentences[doc_id]
        first = bisect.bisect_right(spans, start, key=lambda s: s.end)
        out = []
        for span in spans[first:]:
            if span.start >= end:
                break
            out.append(span)
        return out


class LocalRetrievers:
    """The retrievers over a local version's FAISS vectors, HNSW graphs and BM25 matrix."""

    def __init__(
        self,
        dense: FaissIndex,
        bm25: BM25Index,
        aux: FaissIndex | None = None,
        graphs: tuple[HnswIndex | None, HnswIndex | None] = (None, None),
    ) -> None:
        self._dense, self._bm25, self._aux, self._graphs = dense, bm25, aux, graphs

    @property
    def has_aux(self) -> bool:
        return self._aux is not None

    def dense(self, query: np.ndarray, pool: int, weight: float, ef_search: int) -> Scored:
        return _dense(self._dense, self._graphs[0], query, pool, weight, ef_search)

    def aux(self, query: np.ndarray, pool: int, weight: float, ef_search: int) -> Scored:
        if self._aux is None:
            raise ValueError("this index version has no cross-lingual vectors")
        return _dense(self._aux, self._graphs[1], query, pool, weight, ef_search)

    def keyword(self, terms: Mapping[str, float], pool: int, weight: float) -> Scored:
        """BM25 candidates from the query terms' postings."""
        bm25 = self._bm25
        scores = bm25.scores(terms)
        rows = touched(scores)
        mean, sd = moments(scores, rows)
        ids = bm25.ids[top_rows(scores, pool, rows)]
        return Scored(weight, ids, mean, sd, lambda chunk_ids: scores[bm25.rows_for(chunk_ids)])

    def cosines(self, query: np.ndarray, ids: Sequence[int]) -> list[float]:
        return self._dense.cosines(query, list(ids))

    def knows(self, term: str) -> bool:
        return self._bm25.idf(term) > 0


def _dense(
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
