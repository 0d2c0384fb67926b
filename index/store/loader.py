"""Opening the current index version for serving.

``open_index`` verifies the manifest (its own checksum, every file's size and
checksum, the embedding model), then memory-maps the dense vectors (shared
between worker processes, ``index.store.vectors``) and loads the BM25 matrix and
every chunk into memory: at this scale (tens of thousands of chunks) that
keeps a query free of disk reads.  Each document's cleaned text and sentence
spans are kept too, so answers can quote whole sentences even where a chunk
boundary cut one.  Every failure names the file and how to fix it: no index or
a ``CURRENT`` naming a missing version is `IndexMissing`; a damaged manifest,
a truncated or altered file, or files that disagree are `IndexCorrupt`.  If a
writer switched versions (and pruned the one being read) while it loaded,
``open_index`` starts again on the new one rather than report it as corrupt.

Leaves out: building versions (``index.build``) and ranking (``qa.retrieval.retrieve``).
"""

from __future__ import annotations

import bisect
import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from index.errors import REBUILD_HINT, IndexCorrupt, IndexMissing, NotFound
from index.store import manifest, versions
from index.store.bm25 import BM25Index
from index.store.chunks import ChunkRecord, ChunkStore, DocumentInfo
from index.store.manifest import Manifest
from index.store.vectors import FaissIndex
from index.text.chunk import Span, sentence_spans

_ATTEMPTS = 3  # loads of a version a writer keeps replacing before giving up


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
    for attempt in range(_ATTEMPTS):
        directory = versions.pointed(index_dir)
        if directory is None:
            raise IndexMissing(
                f"No index found at {index_dir}. Build one with `qa ingest PATH` "
                "(or `make run`, which indexes the bundled sample articles)."
            )
        try:
            return _load(directory, model_id, model_checksum)
        except (IndexCorrupt, IndexMissing):
            if attempt + 1 == _ATTEMPTS or versions.current(index_dir) in (None, directory):
                raise  # not a version switch under our feet: the version itself is bad
    raise AssertionError("unreachable")


def _load(directory: Path, model_id: str | None, model_checksum: str | None) -> LoadedIndex:
    meta = manifest.read(directory, verify=True)
    if model_id is not None:
        meta.check_model(model_id, model_checksum)
    with _reading(directory / ChunkStore.FILENAME):
        store = ChunkStore(directory / ChunkStore.FILENAME, readonly=True)
        try:
            chunks = {c.id: c for c in store.chunks()}
            documents = {d.doc_id: d for d in store.documents()}
            texts = store.texts()
            counts = store.chunk_counts()
        finally:
            store.close()
    with _reading(directory / FaissIndex.FILENAME):
        dense = FaissIndex.load(directory)
    aux = None
    if meta.aux_model_id:
        with _reading(directory / FaissIndex.AUX_FILENAME):
            aux = FaissIndex.load(directory, FaissIndex.AUX_FILENAME)
    with _reading(directory / "bm25.npz"):
        bm25 = BM25Index.load(directory)
    if len(dense) != len(chunks) or len(bm25) != len(chunks) or (aux and len(aux) != len(chunks)):
        raise IndexCorrupt(
            f"The index at {directory} is inconsistent: {len(chunks)} chunks, "
            f"{len(dense)} vectors, {len(bm25)} keyword rows"
            + (f", {len(aux)} cross-lingual vectors" if aux is not None else "")
            + f". {REBUILD_HINT}."
        )
    orphans = {c.doc_id for c in chunks.values()} - documents.keys()
    if orphans:
        raise IndexCorrupt(
            f"The chunk store {directory / ChunkStore.FILENAME} is inconsistent: it has chunks "
            f"of documents it does not list ({', '.join(sorted(orphans)[:3])}). {REBUILD_HINT}."
        )
    sentences = {doc_id: sentence_spans(text) for doc_id, text in texts.items()}
    doc_chunks: dict[str, list[ChunkRecord]] = {doc_id: [] for doc_id in documents}
    for chunk in sorted(chunks.values(), key=lambda c: (c.doc_id, c.start)):
        doc_chunks[chunk.doc_id].append(chunk)
    return LoadedIndex(
        directory, meta, dense, aux, bm25, chunks, documents, counts, texts, sentences, doc_chunks
    )


@contextlib.contextmanager
def _reading(file: Path) -> Iterator[None]:
    """Report a file that passed its checksum but does not load as corrupt, by name."""
    try:
        yield
    except (sqlite3.Error, RuntimeError, OSError, ValueError, KeyError, EOFError) as exc:
        raise IndexCorrupt(
            f"Index file {file} could not be loaded ({type(exc).__name__}: {exc}); the index "
            f"version {file.parent.name} is corrupt. {REBUILD_HINT}.",
            detail={"file": file.name, "version": file.parent.name},
        ) from exc
