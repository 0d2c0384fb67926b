"""Serving a published Milvus generation behind ``IndexView``.

`open_milvus` reads the ``head`` row, checks the manifest against the service's model,
loads the generation's document list and the e5 (and cross-lingual) moment sums, and
returns a `MilvusIndex`.  Its `MilvusRetrievers` ask Milvus for each retriever's top
candidates (dense search on ``e5``/``use``, BM25 full-text search on ``bm25``), always
filtered to the generation (``schema.visible``), and give fusion the same statistics the
local index does: a dense retriever's mean and standard deviation over every chunk come
from the stored sums (``q·Σx / N``, ``qᵀ(ΣxxT)q / N``); BM25's come from its top
``stats_limit`` hits, the other chunks scoring 0 (exact unless more chunks than that share a
query term).  A candidate's exact score under a retriever it was not proposed by comes
from a search filtered to those ids.  Chunks, texts and chunk→document ids are fetched on
demand and cached; every call is bounded and fails as ``IndexUnavailable``.

Leaves out: writing (``writer``) and fusion (``qa.retrieval.candidates``).
"""

from __future__ import annotations

import io
import json
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from index.errors import IndexCorrupt, IndexMissing
from index.store.chunks import ChunkRecord, DocumentInfo
from index.store.manifest import Manifest
from index.store.milvus.client import Milvus
from index.store.milvus.schema import visible
from index.store.reader import Cached
from index.store.view import Scored, SpanLookup
from index.text.chunk import Span, sentence_spans

CHUNK_FIELDS = ["id", "doc_id", "number", "start", "end", "text", "terms"]
_BATCH = 1000


def read_head(db: Milvus) -> dict[str, Any] | None:
    """The published ``head`` (generation, next id, manifest, counts), or None."""
    if db.config.meta not in set(db.call("list_collections")):
        return None
    value = db.get_meta("head")
    return json.loads(value) if value else None


def current_version(db: Milvus) -> str | None:
    head = read_head(db)
    return None if head is None else version_name(int(head["generation"]))


def version_name(generation: int) -> str:
    return f"g{generation:06d}"


def open_milvus(
    db: Milvus, *, model_id: str | None = None, model_checksum: str | None = None
) -> MilvusIndex:
    head = read_head(db)
    if head is None:
        raise IndexMissing(
            f"No index in {db.config.describe()}. Build one with "
            "`QA_INDEX_BACKEND=milvus qa ingest PATH`; the server serves it once published."
        )
    meta = Manifest.from_dict(head["manifest"])
    if model_id is not None:
        meta.check_model(model_id, model_checksum)
    generation = int(head["generation"])
    documents, counts = load_documents(db, generation)
    moments = {f: load_moments(db, f, generation, meta.chunks) for f in head["moments"]}
    return MilvusIndex(db, generation, meta, documents, counts, moments)


def load_documents(db: Milvus, generation: int) -> tuple[dict[str, DocumentInfo], dict[str, int]]:
    documents, counts = {}, {}
    rows = iterate(db, db.config.docs, f"part == 0 and {visible(generation)}", ["doc_id", "info"])
    for row in sorted(rows, key=lambda r: r["doc_id"]):
        info = json.loads(row["info"])
        counts[row["doc_id"]] = int(info.pop("chunks"))
        info["page_starts"] = tuple(info.get("page_starts") or ())
        info["warnings"] = tuple(info.get("warnings") or ())
        documents[row["doc_id"]] = DocumentInfo(**info)
    return documents, counts


def load_moments(db: Milvus, field: str, generation: int, n: int) -> np.ndarray:
    """(d + 1, d): the mean vector, then XᵀX / N, from the generation's stored sums."""
    blob = db.get_blob(f"moments/{field}/{generation}")
    if blob is None:
        raise IndexCorrupt(
            f"{db.config.describe()}: generation {generation} has no {field} statistics; "
            "re-run the ingest (or `qa ingest --rebuild PATH`)."
        )
    sums = np.load(io.BytesIO(blob))
    return sums / max(n, 1)


def iterate(db: Milvus, collection: str, expr: str, fields: list[str]) -> Iterator[dict[str, Any]]:
    """Every row matching ``expr``, in batches (Milvus caps one query at 16,384 rows)."""
    iterator = db.call(
        "query_iterator", collection, batch_size=_BATCH, filter=expr, output_fields=fields
    )
    with db.translated("query_iterator"):
        while batch := iterator.next():
            yield from batch
        iterator.close()


def _record(row: Mapping[str, Any]) -> ChunkRecord:
    terms = tuple(str(row["terms"]).split(" ")) if row["terms"] else ()
    return ChunkRecord(
        int(row["id"]),
        str(row["doc_id"]),
        int(row["number"]),
        int(row["start"]),
        int(row["end"]),
        str(row["text"]),
        terms,
    )


class MilvusChunks(Cached[int, ChunkRecord]):
    """Chunk id → record for one generation, fetched in batches and cached."""

    def __init__(self, db: Milvus, generation: int, count: int, size: int = 8192) -> None:
        self._db, self._filter, self._count = db, visible(generation), count
        super().__init__(self._one, self._ids, size)

    def _one(self, chunk_id: int) -> ChunkRecord | None:
        found = self.many([int(chunk_id)])
        return found.get(int(chunk_id))

    def many(self, ids: Sequence[int]) -> dict[int, ChunkRecord]:
        """Records of ``ids`` (those the generation has), one query for the uncached ones."""
        out: dict[int, ChunkRecord] = {}
        missing = []
        for chunk_id in ids:
            with self._lock:
                cached = self._cache.get(chunk_id)
            if cached is None:
                missing.append(int(chunk_id))
            else:
                out[chunk_id] = cached
        for i in range(0, len(missing), _BATCH):
            part = missing[i : i + _BATCH]
            expr = f"id in {part} and {self._filter}"
            for row in self._db.call(
                "query", self._db.config.chunks, filter=expr, output_fields=CHUNK_FIELDS
            ):
                record = _record(row)
                out[record.id] = record
                self._remember(record)
        return out

    def _remember(self, record: ChunkRecord) -> None:
        with self._lock:
            self._cache[record.id] = record
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)

    def _ids(self) -> list[int]:
        return [
            int(r["id"]) for r in iterate(self._db, self._db.config.chunks, self._filter, ["id"])
        ]

    def __len__(self) -> int:
        return self._count

    def values(self) -> Iterator[ChunkRecord]:  # type: ignore[override]
        """Every chunk of the generation in id order (for harnesses, not queries)."""
        rows = iterate(self._db, self._db.config.chunks, self._filter, CHUNK_FIELDS)
        return iter(sorted((_record(r) for r in rows), key=lambda c: c.id))

    def of_document(self, doc_id: str) -> list[ChunkRecord]:
        expr = f"doc_id == {json.dumps(doc_id)} and {self._filter}"
        rows = self._db.call(
            "query", self._db.config.chunks, filter=expr, output_fields=CHUNK_FIELDS
        )
        return sorted((_record(r) for r in rows), key=lambda c: c.start)

    def by_number(self, doc_id: str, number: int) -> int | None:
        expr = f"doc_id == {json.dumps(doc_id)} and number == {int(number)} and {self._filter}"
        rows = self._db.call("query", self._db.config.chunks, filter=expr, output_fields=["id"])
        return int(rows[0]["id"]) if rows else None


class MilvusDocMap:
    """Which document each chunk belongs to, through the chunk records."""

    def __init__(self, chunks: MilvusChunks, doc_ids: Sequence[str]) -> None:
        self._chunks = chunks
        self._ordinal = {d: i for i, d in enumerate(doc_ids)}

    def ordinals(self, chunk_ids: np.ndarray) -> np.ndarray:
        records = self._chunks.many([int(c) for c in chunk_ids])
        return np.array(
            [
                self._ordinal.get(records[int(c)].doc_id, -1) if int(c) in records else -1
                for c in chunk_ids
            ],
            dtype=np.int64,
        )

    def in_documents(self, chunk_ids: np.ndarray, doc_ids: frozenset[str]) -> np.ndarray:
        wanted = [self._ordinal[d] for d in doc_ids if d in self._ordinal]
        return np.isin(self.ordinals(chunk_ids), wanted)


def query_text(terms: Mapping[str, float], scale: float = 4.0, cap: int = 12) -> str:
    """Weighted terms as BM25 query text: Milvus weighs a term by its count in the query."""
    words = []
    for term, weight in terms.items():
        if weight > 0:
            words += [term] * max(1, min(cap, round(weight * scale)))
    return " ".join(words)


class MilvusRetrievers:
    """Dense and BM25 candidates from Milvus, with the statistics fusion needs."""

    def __init__(self, db: Milvus, generation: int, n: int, moments: dict[str, np.ndarray]) -> None:
        self._db, self._filter, self._n, self._moments = db, visible(generation), n, moments
        self._known: OrderedDict[str, bool] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def has_aux(self) -> bool:
        return "use" in self._moments

    def dense(self, query: np.ndarray, pool: int, weight: float, ef_search: int) -> Scored:
        return self._vector("e5", query, pool, weight, ef_search)

    def aux(self, query: np.ndarray, pool: int, weight: float, ef_search: int) -> Scored:
        if not self.has_aux:
            raise ValueError("this index generation has no cross-lingual vectors")
        return self._vector("use", query, pool, weight, ef_search)

    def _vector(self, field: str, query: np.ndarray, pool: int, weight: float, ef: int) -> Scored:
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        hits = self._search(
            field, q.tolist(), min(pool, 16_384), self._filter, {"ef": max(ef, pool)}
        )
        ids = np.array([h[0] for h in hits], dtype=np.int64)
        moments = self._moments[field]
        q64 = q.astype(np.float64)
        mean = float(q64 @ moments[0])
        sd = float(np.sqrt(max(float(q64 @ moments[1:] @ q64) - mean * mean, 0.0)))
        known = dict(hits)

        def score(chunk_ids: np.ndarray) -> np.ndarray:
            return self._exact(field, q.tolist(), chunk_ids, known, {})

        return Scored(weight, ids, mean, sd, score)

    def keyword(self, terms: Mapping[str, float], pool: int, weight: float) -> Scored:
        text = query_text(terms)
        if not text:
            return Scored(weight, np.zeros(0, np.int64), 0.0, 0.0, lambda c: np.zeros(len(c)))
        limit = max(pool, min(self._db.config.stats_limit, max(self._n, 1)))
        hits = self._search("bm25", text, limit, self._filter, {})
        scores = np.array([s for _, s in hits], dtype=np.float64)
        n = max(self._n, 1)
        mean = float(scores.sum() / n)
        sd = float(np.sqrt(max(float((scores * scores).sum() / n) - mean * mean, 0.0)))
        known = dict(hits)
        complete = len(hits) < limit  # every chunk with a query term is among the hits

        def score(chunk_ids: np.ndarray) -> np.ndarray:
            if complete:
                return np.array([known.get(int(c), 0.0) for c in chunk_ids])
            return self._exact("bm25", text, chunk_ids, known, {})

        ids = np.array([h[0] for h in hits[:pool]], dtype=np.int64)
        return Scored(weight, ids, mean, sd, score)

    def cosines(self, query: np.ndarray, ids: Sequence[int]) -> list[float]:
        q = np.asarray(query, dtype=np.float32).reshape(-1).tolist()
        return self._exact("e5", q, np.array(list(ids), dtype=np.int64), {}, {}).tolist()

    def knows(self, term: str) -> bool:
        with self._lock:
            if term in self._known:
                return self._known[term]
        found = bool(self._search("bm25", term, 1, self._filter, {}))
        with self._lock:
            self._known[term] = found
            if len(self._known) > 65_536:
                self._known.popitem(last=False)
        return found

    def _exact(
        self,
        field: str,
        data: Any,
        chunk_ids: np.ndarray,
        known: dict[int, float],
        params: dict[str, Any],
    ) -> np.ndarray:
        """Scores of ``chunk_ids``: those already known, the rest by a search filtered to them."""
        missing = [int(c) for c in chunk_ids if int(c) not in known]
        found = dict(known)
        for i in range(0, len(missing), _BATCH):
            part = missing[i : i + _BATCH]
            found.update(self._search(field, data, len(part), f"id in {part}", params))
        return np.array([found.get(int(c), 0.0) for c in chunk_ids], dtype=np.float64)

    def _search(
        self, field: str, data: Any, limit: int, expr: str, params: dict[str, Any]
    ) -> list[tuple[int, float]]:
        metric = "BM25" if field == "bm25" else "IP"
        result = self._db.call(
            "search",
            self._db.config.chunks,
            data=[data],
            anns_field=field,
            limit=limit,
            filter=expr,
            search_params={"metric_type": metric, "params": params},
            output_fields=["id"],  # an empty list returns every field, sparse vectors included
        )
        # Milvus Lite reports BM25 as a negated distance, Milvus as the score itself.
        sign = abs if metric == "BM25" else float
        return [(int(h["id"]), float(sign(h["distance"]))) for h in result[0]]


class MilvusIndex(SpanLookup):
    """One published generation of a Milvus index, as query time sees it."""

    def __init__(
        self,
        db: Milvus,
        generation: int,
        meta: Manifest,
        documents: dict[str, DocumentInfo],
        counts: dict[str, int],
        moments: dict[str, np.ndarray],
    ) -> None:
        self.db, self.generation, self.manifest = db, generation, meta
        self.documents, self.chunk_counts = documents, counts
        self._chunks = MilvusChunks(db, generation, meta.chunks)
        self._doc_map = MilvusDocMap(self._chunks, list(documents))
        self._retrievers = MilvusRetrievers(db, generation, meta.chunks, moments)
        self.texts: Mapping[str, str] = Cached(self._text, lambda: list(documents), 256)
        self.sentences: Mapping[str, list[Span]] = Cached(
            lambda d: sentence_spans(self.texts[d]) if d in documents else None,
            lambda: list(documents),
            256,
        )
        self.doc_chunks: Mapping[str, list[ChunkRecord]] = Cached(
            lambda d: self._chunks.of_document(d) if d in documents else None,
            lambda: list(documents),
            256,
        )

    @property
    def version(self) -> str:
        return version_name(self.generation)

    @property
    def chunks(self) -> MilvusChunks:
        return self._chunks

    @property
    def doc_map(self) -> MilvusDocMap:
        return self._doc_map

    @property
    def retrievers(self) -> MilvusRetrievers:
        return self._retrievers

    def _text(self, doc_id: str) -> str | None:
        if doc_id not in self.documents:
            return None
        expr = f"doc_id == {json.dumps(doc_id)} and {visible(self.generation)}"
        rows = self.db.call(
            "query", self.db.config.docs, filter=expr, output_fields=["part", "text"]
        )
        return "".join(r["text"] for r in sorted(rows, key=lambda r: r["part"]))
