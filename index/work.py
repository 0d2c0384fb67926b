"""The local index target: a new version being written in a staging directory.

`Work` starts as a copy of the current version (or empty, for a first ingest or ``--rebuild``),
takes documents, chunks and vectors, and `publish` writes the BM25 matrix, the HNSW graphs and
the manifest and makes it the current version (``index.store.versions``).  `check` refuses to
add to an index built with another model, encoder, chunking or unmeasured runtime.  `Target` is
what the ingest writes to: this, or Milvus (``index.store.milvus.writer.MilvusTarget``).

Leaves out: reading and preparing documents (``index.build``) and the storage formats
(``index.store``).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import IndexMismatch
from index.store import manifest, versions
from index.store.ann import write_graphs
from index.store.bm25 import BM25Index
from index.store.chunks import ChunkRecord, ChunkStore, DocumentInfo
from index.store.manifest import Manifest
from index.store.vectors import FaissIndex


class Target(Protocol):
    """Where an ingest writes: a local staging version (`_Work`) or Milvus (`MilvusTarget`)."""

    def content_hash(self, doc_id: str) -> str | None: ...

    def hashes(self) -> dict[str, str]:
        """Content hash -> document id, for every document."""
        ...

    def document(self, doc_id: str) -> DocumentInfo | None: ...

    def next_chunk_id(self) -> int: ...

    def remove(self, doc_id: str) -> None: ...

    def put(self, doc: DocumentInfo, text: str, chunks: list[ChunkRecord]) -> None: ...

    def add_vectors(self, ids: np.ndarray, dense: np.ndarray, aux: np.ndarray | None) -> None: ...

    def publish(self) -> str: ...

    def close(self) -> None: ...


@dataclass
class Work:
    """A version under construction in a staging directory."""

    directory: Path
    store: ChunkStore
    dense: FaissIndex
    aux: FaissIndex | None
    manifest: Manifest
    previous: Path | None = None  # the version this one started as a copy of
    added: list[int] = field(default_factory=list)
    removed: bool = False

    @classmethod
    def copy_of(cls, current: Path, meta: Manifest, index_dir: Path) -> Work:
        directory = versions.staging(index_dir)
        shutil.copyfile(current / ChunkStore.FILENAME, directory / ChunkStore.FILENAME)
        aux = FaissIndex.load(current, FaissIndex.AUX_FILENAME) if meta.aux_model_id else None
        store = ChunkStore(directory / ChunkStore.FILENAME)
        dense = FaissIndex.load(current)
        return cls(directory, store, dense, aux, meta, current, index_dir=index_dir)

    @classmethod
    def empty(cls, index_dir: Path, meta: Manifest) -> Work:
        directory = versions.staging(index_dir)
        aux = FaissIndex.create(meta.aux_dimension) if meta.aux_model_id else None
        store = ChunkStore(directory / ChunkStore.FILENAME)
        dense = FaissIndex.create(meta.dimension)
        return cls(directory, store, dense, aux, meta, index_dir=index_dir)

    index_dir: Path | None = None

    def content_hash(self, doc_id: str) -> str | None:
        return self.store.content_hash(doc_id)

    def hashes(self) -> dict[str, str]:
        return {d.content_hash: d.doc_id for d in self.store.documents()}

    def document(self, doc_id: str) -> DocumentInfo | None:
        found = self.store.document(doc_id)
        return found[0] if found else None

    def next_chunk_id(self) -> int:
        return self.store.next_chunk_id()

    def remove(self, doc_id: str) -> None:
        self.remove_chunks(self.store.remove(doc_id))

    def put(self, doc: DocumentInfo, text: str, chunks: list[ChunkRecord]) -> None:
        self.store.put(doc, text, chunks)

    def add_vectors(self, ids: np.ndarray, dense: np.ndarray, aux: np.ndarray | None) -> None:
        self.dense.add(ids, dense)
        self.added += ids.tolist()
        if aux is not None and self.aux is not None:
            self.aux.add(ids, aux)

    def publish(self) -> str:
        assert self.index_dir is not None
        return publish(self.index_dir, self).name

    def remove_chunks(self, ids: list[int]) -> None:
        array = np.array(ids, dtype=np.int64)
        self.removed = self.removed or bool(ids)
        self.dense.remove(array)
        if self.aux is not None:
            self.aux.remove(array)

    def close(self) -> None:
        self.store.close()
        if self.directory.exists():
            shutil.rmtree(self.directory, ignore_errors=True)


def open_work(index_dir: Path, fresh: Manifest, *, rebuild: bool) -> Work:
    if rebuild:
        return Work.empty(index_dir, fresh)
    current = versions.pointed(index_dir)  # a damaged pointer: say so, suggest --rebuild
    if current is None:
        return Work.empty(index_dir, fresh)
    meta = manifest.read(current)
    check(fresh, meta, local=True)
    return Work.copy_of(current, meta, index_dir)


def check(fresh: Manifest, meta: Manifest, *, local: bool = False) -> None:
    """Refuse to add to an index built with another model, encoder or chunking, or by an
    embedding runtime whose parity with this one was not measured; record this runtime."""
    meta.check_model(fresh.model_id, fresh.model_checksum)
    [(runtime, parity)] = fresh.runtimes.items()
    meta.check_runtime(runtime, parity)
    meta.runtimes = {**meta.runtimes, runtime: parity}  # this ingest may add its vectors
    if meta.aux_model_id != fresh.aux_model_id:
        raise IndexMismatch(
            f"The index has cross-lingual vectors from {meta.aux_model_id!r}, "
            f"this ingest would add {fresh.aux_model_id!r}; re-run with --rebuild."
        )
    if meta.chunking != fresh.chunking:
        raise IndexMismatch(
            f"The index was chunked with {meta.chunking}, not {fresh.chunking}; "
            "re-run with --rebuild to re-index every document with the new settings."
        )
    if local:
        meta.check_ann(fresh.ann)


def publish(index_dir: Path, work: Work) -> Path:
    work.store.commit()
    records = list(work.store.chunks())
    bm25 = BM25Index.build([c.id for c in records], [c.terms for c in records])
    files = [work.directory / ChunkStore.FILENAME, *work.dense.save(work.directory)]
    named = [(FaissIndex.FILENAME, work.dense)]
    if work.aux is not None:
        files += work.aux.save(work.directory, FaissIndex.AUX_FILENAME)
        named.append((FaissIndex.AUX_FILENAME, work.aux))
    files += bm25.save(work.directory)
    extend = work.previous is not None and work.manifest.ann_built and not work.removed
    added = np.array(work.added, dtype=np.int64) if extend else None
    graphs = write_graphs(work.directory, named, work.manifest.ann, work.previous, added)
    work.manifest.ann_built = bool(graphs)
    files += graphs
    work.manifest.documents = len(work.store.documents())
    work.manifest.chunks = len(records)
    work.manifest.built_at = datetime.now(UTC).isoformat(timespec="seconds")
    work.store.close()
    manifest.write(work.directory, work.manifest, files)
    published = versions.publish(index_dir, work.directory)
    return published
