"""Opening the current index version for serving.

``open_index`` verifies the manifest (checksums, embedding model), then loads
the dense vectors, the BM25 matrix and every chunk into memory: at this scale
(tens of thousands of chunks) that keeps a query free of disk reads.  The full
cleaned text of a document is read from SQLite only when asked for.

Leaves out: building versions (``index.build``) and ranking (``qa.retrieve``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from index import manifest, versions
from index.bm25 import BM25Index
from index.errors import IndexCorrupt, IndexMissing, NotFound
from index.manifest import Manifest
from index.store import ChunkRecord, ChunkStore, DocumentInfo
from index.vectors import FaissIndex


@dataclass
class LoadedIndex:
    directory: Path
    manifest: Manifest
    dense: FaissIndex
    bm25: BM25Index
    chunks: dict[int, ChunkRecord]
    documents: dict[str, DocumentInfo]
    chunk_counts: dict[str, int]

    @property
    def version(self) -> str:
        return self.directory.name

    def document_text(self, doc_id: str) -> tuple[DocumentInfo, str]:
        store = ChunkStore(self.directory / ChunkStore.FILENAME, readonly=True)
        try:
            found = store.document(doc_id)
        finally:
            store.close()
        if found is None:
            raise NotFound(f"No document with id {doc_id!r}.", detail={"doc_id": doc_id})
        return found


def open_index(
    index_dir: Path, *, model_id: str | None = None, model_checksum: str | None = None
) -> LoadedIndex:
    """Load the current version; refuse one built with a different embedding model."""
    directory = versions.current(index_dir)
    if directory is None:
        raise IndexMissing(
            f"No index found at {index_dir}. Build one with `qa ingest PATH` "
            "(or `make run`, which indexes the bundled sample articles)."
        )
    meta = manifest.read(directory, verify=True)
    if model_id is not None:
        meta.check_model(model_id, model_checksum)
    try:
        store = ChunkStore(directory / ChunkStore.FILENAME, readonly=True)
        try:
            chunks = {c.id: c for c in store.chunks()}
            documents = {d.doc_id: d for d in store.documents()}
            counts = store.chunk_counts()
        finally:
            store.close()
        dense = FaissIndex.load(directory)
        bm25 = BM25Index.load(directory)
    except (sqlite3.Error, RuntimeError, OSError, ValueError) as exc:
        raise IndexCorrupt(f"Could not load the index at {directory}: {exc}") from exc
    if len(dense) != len(chunks) or len(bm25) != len(chunks):
        raise IndexCorrupt(
            f"The index at {directory} is inconsistent: {len(chunks)} chunks, "
            f"{len(dense)} vectors, {len(bm25)} keyword rows. "
            "Rebuild it with `qa ingest --rebuild`."
        )
    return LoadedIndex(directory, meta, dense, bm25, chunks, documents, counts)
