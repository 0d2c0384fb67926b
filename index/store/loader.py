"""Opening the current index version for serving.

``open_index`` verifies the manifest (its own checksum, every file's size and
checksum, the embedding model and the candidate-search parameters), then
memory-maps the dense vectors and HNSW graphs (shared between worker
processes, ``index.store.vectors``, ``index.store.ann``) and loads the BM25
matrix and the document list.  Chunks, document texts and sentence spans are
read from the chunk store when a query needs them (``index.store.reader``),
with a bounded cache: memory stays flat from five articles to a million
chunks.  Which document each chunk belongs to is one array (`DocMap`).
Every failure names the file and how to fix it: no index or
a ``CURRENT`` naming a missing version is `IndexMissing`; a damaged manifest,
a truncated or altered file, or files that disagree are `IndexCorrupt`.  If a
writer switched versions (and pruned the one being read) while it loaded,
``open_index`` starts again on the new one rather than report it as corrupt.

Leaves out: building versions (``index.build``) and ranking (``qa.retrieval.retrieve``).
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from index.errors import REBUILD_HINT, IndexCorrupt, IndexMissing
from index.store import manifest, versions
from index.store.ann import HnswIndex, graph_filename
from index.store.bm25 import BM25Index
from index.store.chunks import ChunkRecord, ChunkStore, DocumentInfo, doc_columns
from index.store.manifest import AnnParams, Manifest
from index.store.reader import Cached, ChunkTable, DocMap, Reader, TextTable
from index.store.vectors import FaissIndex
from index.store.view import LocalRetrievers, SpanLookup
from index.text.chunk import Span, sentence_spans

V = TypeVar("V")
_ATTEMPTS = 3  # loads of a version a writer keeps replacing before giving up


@dataclass
class LoadedIndex(SpanLookup):
    directory: Path
    manifest: Manifest
    dense: FaissIndex
    aux: FaissIndex | None
    bm25: BM25Index
    chunks: ChunkTable
    documents: dict[str, DocumentInfo]
    chunk_counts: dict[str, int]
    texts: Mapping[str, str]
    sentences: Mapping[str, list[Span]]
    doc_chunks: Mapping[str, list[ChunkRecord]]
    doc_map: DocMap
    dense_graph: HnswIndex | None = None
    aux_graph: HnswIndex | None = None

    @property
    def version(self) -> str:
        return self.directory.name

    @functools.cached_property
    def retrievers(self) -> LocalRetrievers:
        graphs = (self.dense_graph, self.aux_graph)
        return LocalRetrievers(self.dense, self.bm25, self.aux, graphs)


def open_index(
    index_dir: Path,
    *,
    model_id: str | None = None,
    model_checksum: str | None = None,
    ann: AnnParams | None = None,
) -> LoadedIndex:
    """Load the current version; refuse one built with a different embedding model
    or (given ``ann``) other candidate-search parameters."""
    for attempt in range(_ATTEMPTS):
        directory = versions.pointed(index_dir)
        if directory is None:
            raise IndexMissing(
                f"No index found at {index_dir}. Build one with `qa ingest PATH` "
                "(or `make run`, which indexes the bundled sample articles)."
            )
        try:
            return _load(directory, model_id, model_checksum, ann)
        except (IndexCorrupt, IndexMissing):
            if attempt + 1 == _ATTEMPTS or versions.current(index_dir) in (None, directory):
                raise  # not a version switch under our feet: the version itself is bad
    raise AssertionError("unreachable")


def _load(
    directory: Path, model_id: str | None, model_checksum: str | None, ann: AnnParams | None
) -> LoadedIndex:
    meta = manifest.read(directory, verify=True)
    if model_id is not None:
        meta.check_model(model_id, model_checksum)
    if ann is not None:
        meta.check_ann(ann)
    with _reading(directory / ChunkStore.FILENAME):
        reader = Reader(directory / ChunkStore.FILENAME)
        documents = {d.doc_id: d for d in _documents(reader)}
        counts = {str(d): int(n) for d, n in reader.rows(_COUNTS)}  # type: ignore[call-overload]
        orphans = [str(r[0]) for r in reader.rows(_ORPHANS)]
        doc_map = DocMap(reader, list(documents))
    n_chunks = len(doc_map.ids)
    dense, aux, graphs = _vectors(directory, meta)
    with _reading(directory / "bm25.npz"):
        bm25 = BM25Index.load(directory)
    if len(dense) != n_chunks or len(bm25) != n_chunks or (aux and len(aux) != n_chunks):
        raise IndexCorrupt(
            f"The index at {directory} is inconsistent: {n_chunks} chunks, "
            f"{len(dense)} vectors, {len(bm25)} keyword rows"
            + (f", {len(aux)} cross-lingual vectors" if aux is not None else "")
            + f". {REBUILD_HINT}."
        )
    if orphans:
        raise IndexCorrupt(
            f"The chunk store {directory / ChunkStore.FILENAME} is inconsistent: it has chunks "
            f"of documents it does not list ({', '.join(orphans)}). {REBUILD_HINT}."
        )
    chunks = ChunkTable(reader, doc_map.ids)
    texts = TextTable(reader, documents)
    return LoadedIndex(
        directory,
        meta,
        dense,
        aux,
        bm25,
        chunks,
        documents,
        counts,
        texts,
        _per_document(documents, lambda d: sentence_spans(texts[d])),
        _per_document(documents, chunks.of_document),
        doc_map,
        *graphs,
    )


_COUNTS = "SELECT doc_id, COUNT(*) FROM chunks GROUP BY doc_id"
_ORPHANS = (
    "SELECT DISTINCT c.doc_id FROM chunks c LEFT JOIN documents d ON c.doc_id = d.doc_id "
    "WHERE d.doc_id IS NULL LIMIT 3"
)


def _documents(reader: Reader) -> list[DocumentInfo]:
    present = {str(row[1]) for row in reader.rows("PRAGMA table_info(documents)")}
    rows = reader.rows(f"SELECT {doc_columns(present)} FROM documents ORDER BY doc_id")
    return [DocumentInfo.from_row(row) for row in rows]


def _per_document(documents: Mapping[str, object], fetch: Callable[[str], V]) -> Mapping[str, V]:
    """A lazily filled document id → value mapping over the version's documents."""
    return Cached(lambda d: fetch(d) if d in documents else None, lambda: list(documents), 256)


def _vectors(
    directory: Path, meta: Manifest
) -> tuple[FaissIndex, FaissIndex | None, tuple[HnswIndex | None, HnswIndex | None]]:
    """The flat vectors (e5 and, when built, cross-lingual) and their HNSW graphs, if any."""
    loaded: list[FaissIndex | None] = []
    graphs: list[HnswIndex | None] = []
    names = [FaissIndex.FILENAME] + ([FaissIndex.AUX_FILENAME] if meta.aux_model_id else [])
    for name in names:
        with _reading(directory / name):
            loaded.append(FaissIndex.load(directory, name))
        graph = directory / graph_filename(name)
        with _reading(graph):
            graphs.append(HnswIndex.load(graph) if meta.ann_built else None)
    dense = loaded[0]
    assert dense is not None
    aux = loaded[1] if len(loaded) > 1 else None
    return dense, aux, (graphs[0], graphs[1] if len(graphs) > 1 else None)


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
