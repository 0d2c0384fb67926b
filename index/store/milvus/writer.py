"""The Milvus ingest target: a new generation written beside the published one, then switched.

`MilvusTarget` is what ``index.build`` writes to when ``QA_INDEX_BACKEND=milvus``: the same
calls as the local staging version (``content_hash``, ``next_chunk_id``, ``remove``, ``put``,
``add_vectors``, ``publish``).  Rows are inserted as generation ``g + 1``; a removed or
replaced document's rows are marked ``dead = g + 1``; ``publish`` writes the new moment sums
and then the one ``head`` row, so a reader switches from every old row to every new one at
once — no duplicates, no gap.  A writer that died before publishing leaves rows no reader
sees; the next writer deletes them and un-marks what it had marked (`_recover`).  Rows
retired two generations ago are deleted at each publish.

Concurrency.  Readers never block.  One writer at a time holds the ``writer`` lease in the
meta collection (renewed while it writes, expiring after ``LEASE`` seconds if it dies);
Milvus has no transactions, so two writers starting in the same instant are not excluded.
``--rebuild`` drops and recreates the collections (readers see no index meanwhile; for a
rebuild without downtime, build under another ``QA_MILVUS_COLLECTION`` and switch).

Leaves out: chunking and embedding (``index.build``) and reading (``reader``).
"""

from __future__ import annotations

import io
import json
import os
import socket
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import numpy as np

from index.errors import IndexBusy
from index.store.chunks import ChunkRecord, DocumentInfo
from index.store.manifest import Manifest
from index.store.milvus import schema
from index.store.milvus.client import Milvus
from index.store.milvus.reader import (
    CHUNK_FIELDS,
    iterate,
    load_documents,
    read_head,
    version_name,
)
from index.store.milvus.schema import cut_bytes, text_parts, visible
from index.text.textnorm import keyword_terms

LEASE = 600.0  # seconds a writer's lease lasts without renewal
_BATCH = 256


class MilvusTarget:
    def __init__(self, db: Milvus, meta: Manifest, head: dict[str, Any] | None) -> None:
        self.db, self.manifest = db, meta
        self.published = int(head["generation"]) if head else 0
        self.generation = self.published + 1
        self.next_id = int(head["next_id"]) if head else 0
        self.fields = ["e5"] + (["use"] if meta.aux_model_id else [])
        self.documents, self.counts = load_documents(db, self.published) if head else ({}, {})
        self.sums = {f: self._sums(f, head) for f in self.fields}
        self.pending: dict[int, tuple[ChunkRecord, str]] = {}
        self.retire_chunks: list[dict[str, Any]] = []
        self.retire_docs: list[dict[str, Any]] = []
        self.added = 0
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{time.time()}"
        self._renewed = 0.0

    @classmethod
    def open(cls, db: Milvus, fresh: Manifest, check: Any, *, rebuild: bool) -> MilvusTarget:
        """The target over the published generation; ``check(old_manifest)`` refuses a mismatch."""
        if rebuild:
            _refuse_if_leased(db)
            schema.drop(db)
        head = read_head(db)
        meta = fresh
        if head is not None:
            meta = Manifest.from_dict(head["manifest"])
            check(meta)
        schema.ensure(db, meta.dimension, meta.aux_dimension)
        _refuse_if_leased(db)
        target = cls(db, meta, head)
        target.renew()
        target._recover()
        return target

    def _sums(self, field: str, head: dict[str, Any] | None) -> np.ndarray:
        dim = self.manifest.dimension if field == "e5" else self.manifest.aux_dimension
        blob = self.db.get_blob(f"moments/{field}/{self.published}") if head else None
        return np.load(io.BytesIO(blob)) if blob else np.zeros((dim + 1, dim), dtype=np.float64)

    def renew(self) -> None:
        if time.monotonic() - self._renewed > LEASE / 10:
            lease = {"owner": self.owner, "expires": time.time() + LEASE}
            self.db.put_meta("writer", json.dumps(lease))
            self._renewed = time.monotonic()

    def _recover(self) -> None:
        """Undo what a writer that died before publishing left behind."""
        g = self.published
        for collection in (self.db.config.chunks, self.db.config.docs):
            self.db.call("delete", collection, filter=f"born > {g}")
        stale = list(iterate(self.db, self.db.config.chunks, f"dead > {g}", self._chunk_fields()))
        stale_docs = list(iterate(self.db, self.db.config.docs, f"dead > {g}", _DOC_FIELDS))
        for collection, rows in ((self.db.config.chunks, stale), (self.db.config.docs, stale_docs)):
            for i in range(0, len(rows), _BATCH):
                self.db.call("upsert", collection, [{**r, "dead": 0} for r in rows[i : i + _BATCH]])

    def _chunk_fields(self) -> list[str]:
        return [*CHUNK_FIELDS, "born", "dead", "bm25_text", *self.fields]

    # the calls index.build makes
    def content_hash(self, doc_id: str) -> str | None:
        doc = self.documents.get(doc_id)
        return doc.content_hash if doc else None

    def hashes(self) -> dict[str, str]:
        return {d.content_hash: d.doc_id for d in self.documents.values()}

    def document(self, doc_id: str) -> DocumentInfo | None:
        return self.documents.get(doc_id)

    def next_chunk_id(self) -> int:
        return self.next_id

    def remove(self, doc_id: str) -> None:
        expr = f"doc_id == {json.dumps(doc_id)} and {visible(self.published)}"
        rows = list(iterate(self.db, self.db.config.chunks, expr, self._chunk_fields()))
        for row in rows:
            for field in self.fields:
                self._account(field, np.asarray([row[field]], dtype=np.float64), -1)
        self.retire_chunks += rows
        self.retire_docs += list(iterate(self.db, self.db.config.docs, expr, _DOC_FIELDS))
        self.documents.pop(doc_id, None)
        self.counts.pop(doc_id, None)

    def put(self, doc: DocumentInfo, text: str, chunks: list[ChunkRecord]) -> None:
        self.renew()
        info = json.dumps({**asdict(doc), "chunks": len(chunks)}, ensure_ascii=False)
        rows = [
            {
                "key": f"{doc.doc_id}\x1f{self.generation}\x1f{i}",
                "doc_id": doc.doc_id,
                "born": self.generation,
                "dead": 0,
                "part": i,
                "info": cut_bytes(info) if i == 0 else "",
                "text": part,
                schema.PLACEHOLDER: [0.0, 0.0],
            }
            for i, part in enumerate(text_parts(text))
        ]
        self.db.call("insert", self.db.config.docs, rows)
        for c in chunks:
            self.pending[c.id] = (c, " ".join(keyword_terms(f"{doc.title}\n{c.text}")))
        self.documents[doc.doc_id], self.counts[doc.doc_id] = doc, len(chunks)
        self.next_id = max(self.next_id, *(c.id + 1 for c in chunks)) if chunks else self.next_id

    def add_vectors(self, ids: np.ndarray, dense: np.ndarray, aux: np.ndarray | None) -> None:
        self.renew()
        vectors = {"e5": dense, **({"use": aux} if aux is not None else {})}
        rows = []
        for i, chunk_id in enumerate(ids.tolist()):
            chunk, bm25_text = self.pending.pop(int(chunk_id))
            row = {
                "id": chunk.id,
                "doc_id": chunk.doc_id,
                "number": chunk.number,
                "start": chunk.start,
                "end": chunk.end,
                "born": self.generation,
                "dead": 0,
                "text": cut_bytes(chunk.text),
                "terms": cut_bytes(" ".join(chunk.terms)),
                "bm25_text": cut_bytes(bm25_text),
            }
            for field in self.fields:
                row[field] = vectors[field][i].astype(np.float32).tolist()
            rows.append(row)
        for field in self.fields:
            self._account(field, np.asarray(vectors[field], dtype=np.float64), +1)
        for i in range(0, len(rows), _BATCH):
            self.db.call("insert", self.db.config.chunks, rows[i : i + _BATCH])
        self.added += len(rows)

    def _account(self, field: str, x: np.ndarray, sign: int) -> None:
        self.sums[field][0] += sign * x.sum(axis=0)
        self.sums[field][1:] += sign * (x.T @ x)

    def publish(self) -> str:
        g, db = self.generation, self.db
        for collection, rows in (
            (db.config.chunks, self.retire_chunks),
            (db.config.docs, self.retire_docs),
        ):
            for i in range(0, len(rows), _BATCH):
                db.call("upsert", collection, [{**r, "dead": g} for r in rows[i : i + _BATCH]])
        for field in self.fields:
            buffer = io.BytesIO()
            np.save(buffer, self.sums[field])
            db.put_blob(f"moments/{field}/{g}", buffer.getvalue())
        for collection in (db.config.chunks, db.config.docs, db.config.meta):
            db.call("flush", collection)
        self.manifest.documents = len(self.documents)
        self.manifest.chunks = sum(self.counts.values())
        self.manifest.built_at = datetime.now(UTC).isoformat(timespec="seconds")
        head = {
            "generation": g,
            "next_id": self.next_id,
            "manifest": json.loads(self.manifest.to_json()),
            "moments": self.fields,
        }
        db.put_meta("head", json.dumps(head, ensure_ascii=False))
        db.call("flush", db.config.meta)
        self._collect(g)
        return version_name(g)

    def _collect(self, g: int) -> None:
        """Delete rows and statistics no reader within one generation of ``g`` can see."""
        for collection in (self.db.config.chunks, self.db.config.docs):
            self.db.call("delete", collection, filter=f"dead > 0 and dead < {g}")
        for field in self.fields:
            for old in range(max(g - 8, 0), g - 1):
                self.db.delete_blob(f"moments/{field}/{old}")

    def close(self) -> None:
        lease = self.db.get_meta("writer")
        if lease and json.loads(lease).get("owner") == self.owner:
            self.db.call("delete", self.db.config.meta, ids=["writer"])


_DOC_FIELDS = ["key", "doc_id", "born", "dead", "part", "info", "text", schema.PLACEHOLDER]


def _refuse_if_leased(db: Milvus) -> None:
    if db.config.meta not in set(db.call("list_collections")):
        return
    lease = db.get_meta("writer")
    if lease is None:
        return
    held = json.loads(lease)
    if float(held.get("expires", 0)) > time.time():
        raise IndexBusy(
            f"Another ingest ({held.get('owner')}) is writing to {db.config.describe()}; "
            "try again when it has finished (its lease expires within "
            f"{int(float(held['expires']) - time.time())} s if it died)."
        )
