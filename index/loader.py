"""Opening the current index version for serving.

``open_index`` verifies the manifest (checksums, embedding model), then loads
the dense vectors, the BM25 matrix and every chunk into memory: at this scale
(tens of thousands of chunks) that keeps a query free of disk reads.  Each
document's cleaned text and sentence spans are kept too, so answers can quote
whole sentences even where a chunk boundary cut one.

Leaves out: building versions (``index.build``) and ranking (``qa.retrieve``).
"""

from __future__ import annotations

import bisect
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from index import manifest, versions
from index.bm25 import BM25Index
from index.chunk import Span, sentence_spans
from index.errors import IndexCorrupt, IndexMissing, NotFound
from index.manifest import Manifest
from index.store import ChunkRecord, ChunkStore, DocumentInfo
from index.vectors import FaissIndex


@dataclass
class LoadedIndex:
    directory: Path
    manifest: Manifest
    dense: FaissIndex
    aux: FaissIndex | None
    bm25: BM25Index
    chunks: dict[int, ChunkRecord]
    documents: dict[str, DocumentInfo]
    chunk_counts: dict[str, int]
    texts: dict[str, str]
    sentences: dict[str, list[Span]]
    doc_chunks: dict[str, list[ChunkRecord]]

    @property
    def version(self) -> str:
        return self.directory.name

    def document_text(self, doc_id: str) -> tuple[DocumentInfo, str]:
        if doc_id not in self.documents:
            raise NotFound(f"No document with id {doc_id!r}.", detail={"doc_id": doc_id})
        return self.documents[doc_id], self.texts[doc_id]

    def chunk_at(self, doc_id: str, offset: int) -> ChunkRecord:
        """The document's chunk that contains ``offset`` (or the nearest before it)."""
        chunks = self.doc_chunks[doc_id]
        i = bisect.bisect_right(chunks, offset, key=lambda c: c.start)
        return chunks[max(i - 1, 0)]

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
            texts = store.texts()
            counts = store.chunk_counts()
        finally:
            store.close()
        dense = FaissIndex.load(directory)
        aux = FaissIndex.load(directory, FaissIndex.AUX_FILENAME) if meta.aux_model_id else None
        bm25 = BM25Index.load(directory)
    except (sqlite3.Error, RuntimeError, OSError, ValueError) as exc:
        raise IndexCorrupt(f"Could not load the index at {directory}: {exc}") from exc
    if len(dense) != len(chunks) or len(bm25) != len(chunks) or (aux and len(aux) != len(chunks)):
        raise IndexCorrupt(
            f"The index at {directory} is inconsistent: {len(chunks)} chunks, "
            f"{len(dense)} vectors, {len(bm25)} keyword rows. "
            "Rebuild it with `qa ingest --rebuild`."
        )
    sentences = {doc_id: sentence_spans(text) for doc_id, text in texts.items()}
    doc_chunks: dict[str, list[ChunkRecord]] = {doc_id: [] for doc_id in documents}
    for chunk in sorted(chunks.values(), key=lambda c: (c.doc_id, c.start)):
        doc_chunks[chunk.doc_id].append(chunk)
    return LoadedIndex(
        directory, meta, dense, aux, bm25, chunks, documents, counts, texts, sentences, doc_chunks
    )
