"""Ingest and removal: build a new index version from the current one plus changes.

``ingest`` reads, cleans, chunks and embeds the given files and writes a new
version (see ``index.store.versions``): the previous chunk store and vectors are
carried over, a changed article's chunks are replaced, an unchanged article
(same content hash) costs nothing, and when nothing changed no version is
written at all.  A file that fails — unreadable, binary, too big, empty after
cleaning, or anything it makes the cleaner raise — is reported with its reason
in ``Report.failed`` and the rest of the batch still lands, in one version; so
is a path that does not exist or a folder without articles.  ``remove`` deletes
documents the same way.  A crash at any point leaves the previous version
served (see ``index.store.versions``).

Leaves out: query-time loading (``index.store.loader``).
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.docs.ocr import Ocr
from index.embed.cache import CachedEmbedder, cache_path
from index.embed.embedder import Embedder
from index.embedding import caches_for, embed_chunks
from index.errors import ArticleQAError, IndexMismatch, IngestError, NotFound
from index.store import manifest, versions
from index.store.ann import write_graphs
from index.store.bm25 import BM25Index
from index.store.chunks import ChunkRecord, ChunkStore, DocumentInfo
from index.store.loader import open_index
from index.store.manifest import AnnParams, ChunkParams, Manifest
from index.store.milvus.client import Milvus, MilvusConfig
from index.store.milvus.reader import read_head
from index.store.milvus.writer import MilvusTarget
from index.store.originals import Originals
from index.store.vectors import FaissIndex
from index.text.chunk import chunk_text
from index.text.clean import clean_document
from index.text.sources import Record, Source, discover, display, read_source, record_source
from index.text.textnorm import keyword_terms

Progress = Callable[[int, int], None]
Destination = Path | MilvusConfig  # a local index folder, or a Milvus


@dataclass
class Report:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # ingested, with a problem
    chunks_embedded: int = 0
    seconds: float = 0.0
    version: str | None = None


def ingest(
    index_dir: Destination,
    paths: Iterable[Path],
    embedder: Embedder,
    params: ChunkParams,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    aux: Embedder | None = None,
    ann: AnnParams | None = None,
    cache_dir: Path | None = None,
    workers: int = 1,
    originals: Path | None = None,
    force: frozenset[str] = frozenset(),
) -> Report:
    """Ingest files and folders; ``aux`` adds USE vectors (``index.embed.use_encoder``),
    ``ann`` sets how dense candidates are searched (``index.store.ann``), ``cache_dir``
    keeps computed vectors until the ingest publishes (``index.embed.cache``), ``workers``
    embedding calls run at once (each on its own batch), ``originals`` keeps a copy of each
    file for re-ingesting (``index.store.originals``), and the documents in ``force`` are
    ingested again even when their file is unchanged."""
    loaders: list[tuple[str, Callable[[], Source]]] = []
    ocr = Ocr()  # one OCR engine for the batch, loaded only if a scan arrives
    for path in paths:
        try:
            found = discover([path])
            if not found and path.is_dir():
                raise IngestError(
                    f"{display(path)}: no articles or documents in this folder "
                    "(.txt, .md, .html, .pdf, .docx, images)"
                )
        except ArticleQAError as exc:
            loaders.append((display(path), functools.partial(_fail, exc)))
            continue
        loaders += [(display(p), functools.partial(read_source, p, ocr)) for p in found]
    build = (params, ann, workers)
    keep = _Keep(Originals(originals) if originals else None, force)
    return _ingest(index_dir, loaders, (embedder, aux), build, rebuild, progress, cache_dir, keep)


def _fail(exc: ArticleQAError) -> Source:
    raise exc


@dataclass(frozen=True)
class _Keep:
    """Where originals are kept (None: nowhere), and the documents to ingest regardless."""

    originals: Originals | None = None
    force: frozenset[str] = frozenset()


def reingest(
    index_dir: Destination,
    doc_id: str,
    embedder: Embedder,
    params: ChunkParams,
    *,
    originals: Path,
    **options: Any,
) -> Report:
    """Ingest one document again from its kept original (after extraction changed, say)."""
    with _existing(index_dir) as work:
        found = work.document(doc_id)
    if found is None:
        raise NotFound(f"No document with id {doc_id!r} in the index.")
    kept = Originals(originals).get(found.content_hash)
    if kept is None:
        raise NotFound(
            f"The original file of {doc_id!r} ({found.source}) is not kept (it was ingested "
            "before originals were kept, or from data); ingest the file again instead."
        )
    with tempfile.TemporaryDirectory(prefix="qa-reingest-") as folder:
        path = Path(folder) / found.source
        shutil.copyfile(kept, path)
        return ingest(
            index_dir, [path], embedder, params, originals=originals, force=frozenset({doc_id}),
            **options,
        )  # fmt: skip


def ingest_records(
    index_dir: Destination,
    records: Iterable[Record],
    embedder: Embedder,
    params: ChunkParams,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    aux: Embedder | None = None,
    ann: AnnParams | None = None,
    cache_dir: Path | None = None,
    workers: int = 1,
) -> Report:
    """Ingest in-memory articles (e.g. an evaluation corpus) through the same path as files."""
    loaders = [(r.doc_id, functools.partial(record_source, r)) for r in records]
    build = (params, ann, workers)
    return _ingest(index_dir, loaders, (embedder, aux), build, rebuild, progress, cache_dir)


def _ingest(
    index_dir: Destination,
    loaders: Sequence[tuple[str, Callable[[], Source]]],
    embedders: tuple[Embedder, Embedder | None],
    build: tuple[ChunkParams, AnnParams | None, int],
    rebuild: bool,
    progress: Progress | None,
    cache_dir: Path | None = None,
    keep: _Keep = _Keep(),
) -> Report:
    embedder, aux = embedders
    params, ann, workers = build[0], build[1] or AnnParams(), build[2]
    started, report = time.perf_counter(), Report()
    fresh = _fresh_manifest(embedder, aux, params, ann)
    caches = caches_for(cache_dir, embedder, aux)
    if caches:
        embedders = (caches[0], caches[1] if len(caches) > 1 else None)
    with _writing(index_dir, fresh, rebuild) as work:
        staged = [0]  # chunks staged so far: the progress total until staging ends

        def items() -> Iterator[tuple[int, str]]:  # staged while earlier batches embed
            for p in _staged(work, loaders, (params, embedder, keep), report):
                staged[0] += len(p.chunks)
                yield from zip((c.id for c in p.chunks), p.embed_texts, strict=True)

        def done(n: int) -> None:
            report.chunks_embedded += n
            if progress:
                progress(report.chunks_embedded, staged[0])

        embed_chunks(work, items(), embedders, done, workers)
        if report.added or report.replaced or rebuild:
            hashes = work.content_hashes()
            report.version = work.publish()
            if keep.originals:
                keep.originals.prune(hashes)
    for cache in caches:  # published (or nothing to publish): the vectors are in the index
        cache.clear()
    report.seconds = time.perf_counter() - started
    return report


def seed_cache(index_dir: Path, cache_dir: Path, embedder: Embedder, aux: Embedder | None) -> int:
    """Copy a local index's vectors into the embedding cache: ingesting the same articles
    into another backend (or folder) then embeds nothing.  Returns the chunks copied."""
    index = open_index(index_dir, model_id=embedder.model_id, model_checksum=embedder.checksum)
    if set(index.manifest.runtimes) != {embedder.runtime}:
        return 0  # vectors of another runtime would be cached as this one's
    chunks = sorted(index.chunks.values(), key=lambda c: c.id)
    texts = [f"{index.documents[c.doc_id].title}\n{c.text}" for c in chunks]
    ids = np.array([c.id for c in chunks], dtype=np.int64)
    pairs = [(embedder, index.dense)] + ([(aux, index.aux)] if aux and index.aux else [])
    for model, vectors in pairs:
        cache = CachedEmbedder(model, cache_path(cache_dir, model))
        for i in range(0, len(ids), 4096):
            cache.store(texts[i : i + 4096], vectors.vectors_of(ids[i : i + 4096]))
        cache.close()
    return len(chunks)


@contextlib.contextmanager
def _writing(destination: Destination, fresh: Manifest, rebuild: bool) -> Iterator[Target]:
    """The target for ``destination`` (a local index folder or a Milvus), closed after use."""
    if isinstance(destination, MilvusConfig):
        check = functools.partial(_check, fresh)
        with (
            contextlib.closing(Milvus(destination)) as db,
            contextlib.closing(MilvusTarget.open(db, fresh, check, rebuild=rebuild)) as target,
        ):
            yield target
        return
    with (
        versions.writer_lock(destination),
        contextlib.closing(_open_work(destination, fresh, rebuild=rebuild)) as work,
    ):
        yield work


def remove(index_dir: Destination, doc_ids: Sequence[str], originals: Path | None = None) -> Report:
    """Remove documents (and their kept originals, when ``originals`` is given)."""
    report = Report()
    with _existing(index_dir) as work:
        for doc_id in doc_ids:
            if work.content_hash(doc_id) is None:
                raise NotFound(f"No document with id {doc_id!r} in the index.")
            work.remove(doc_id)
            report.removed.append(doc_id)
        hashes = work.content_hashes()
        report.version = work.publish()
    if originals:
        Originals(originals).prune(hashes)
    return report


@contextlib.contextmanager
def _existing(destination: Destination) -> Iterator[Target]:
    """The target over an index that must exist already."""
    if isinstance(destination, MilvusConfig):
        with contextlib.closing(Milvus(destination)) as db:
            head = read_head(db)
            if head is None:
                raise NotFound(f"There is no index in {destination.describe()}.")
            meta = Manifest.from_dict(head["manifest"])
            with contextlib.closing(
                MilvusTarget.open(db, meta, lambda _: None, rebuild=False)
            ) as target:
                yield target
        return
    with versions.writer_lock(destination):
        current = versions.pointed(destination)
        if current is None:
            raise NotFound(f"There is no index at {destination}.")
        with contextlib.closing(
            _Work.copy_of(current, manifest.read(current), destination)
        ) as work:
            yield work


class Target(Protocol):
    """Where an ingest writes: a local staging version (`_Work`) or Milvus (`MilvusTarget`)."""

    def content_hash(self, doc_id: str) -> str | None: ...

    def content_hashes(self) -> set[str]: ...

    def document(self, doc_id: str) -> DocumentInfo | None: ...

    def next_chunk_id(self) -> int: ...

    def remove(self, doc_id: str) -> None: ...

    def put(self, doc: DocumentInfo, text: str, chunks: list[ChunkRecord]) -> None: ...

    def add_vectors(self, ids: np.ndarray, dense: np.ndarray, aux: np.ndarray | None) -> None: ...

    def publish(self) -> str: ...

    def close(self) -> None: ...


@dataclass
class _Work:
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
    def copy_of(cls, current: Path, meta: Manifest, index_dir: Path) -> _Work:
        directory = versions.staging(index_dir)
        shutil.copyfile(current / ChunkStore.FILENAME, directory / ChunkStore.FILENAME)
        aux = FaissIndex.load(current, FaissIndex.AUX_FILENAME) if meta.aux_model_id else None
        store = ChunkStore(directory / ChunkStore.FILENAME)
        dense = FaissIndex.load(current)
        return cls(directory, store, dense, aux, meta, current, index_dir=index_dir)

    @classmethod
    def empty(cls, index_dir: Path, meta: Manifest) -> _Work:
        directory = versions.staging(index_dir)
        aux = FaissIndex.create(meta.aux_dimension) if meta.aux_model_id else None
        store = ChunkStore(directory / ChunkStore.FILENAME)
        dense = FaissIndex.create(meta.dimension)
        return cls(directory, store, dense, aux, meta, index_dir=index_dir)

    index_dir: Path | None = None

    def content_hash(self, doc_id: str) -> str | None:
        return self.store.content_hash(doc_id)

    def content_hashes(self) -> set[str]:
        return {d.content_hash for d in self.store.documents()}

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
        return _publish(self.index_dir, self).name

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


def _fresh_manifest(
    embedder: Embedder, aux: Embedder | None, params: ChunkParams, ann: AnnParams
) -> Manifest:
    fresh = Manifest(embedder.model_id, embedder.checksum, embedder.dimension, params, ann=ann)
    fresh.runtimes = {embedder.runtime: embedder.parity}
    if aux is not None:
        fresh.aux_model_id, fresh.aux_dimension = aux.model_id, aux.dimension
    return fresh


def _open_work(index_dir: Path, fresh: Manifest, *, rebuild: bool) -> _Work:
    if rebuild:
        return _Work.empty(index_dir, fresh)
    current = versions.pointed(index_dir)  # a damaged pointer: say so, suggest --rebuild
    if current is None:
        return _Work.empty(index_dir, fresh)
    meta = manifest.read(current)
    _check(fresh, meta, local=True)
    return _Work.copy_of(current, meta, index_dir)


def _check(fresh: Manifest, meta: Manifest, *, local: bool = False) -> None:
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


@dataclass
class _Pending:
    doc: DocumentInfo
    text: str
    chunks: list[ChunkRecord]
    embed_texts: list[str]


def _staged(
    work: Target,
    loaders: Sequence[tuple[str, Callable[[], Source]]],
    how: tuple[ChunkParams, Embedder, _Keep],
    report: Report,
) -> Iterator[_Pending]:
    """Each document read, cleaned, chunked and put into ``work`` (its original kept); unchanged
    and failed files are recorded in ``report`` instead."""
    params, embedder, keep = how
    seen: set[str] = set()
    next_id = work.next_chunk_id()
    for path, load in loaders:
        try:
            source = load()
            if source.doc_id in seen:
                raise IngestError(f"{path}: another input in this batch has id {source.doc_id!r}")
            seen.add(source.doc_id)
            known_hash = work.content_hash(source.doc_id)
            if known_hash == source.content_hash and source.doc_id not in keep.force:
                report.unchanged.append(source.doc_id)
                continue
            item = prepare(source, params, embedder, next_id)
            if keep.originals and source.path.is_file():
                keep.originals.put(source.content_hash, source.path)
        except ArticleQAError as exc:
            report.failed.append((path, exc.message))
            continue
        except OSError as exc:
            report.failed.append((path, f"{path}: cannot be read ({exc.strerror or exc})"))
            continue
        except Exception as exc:  # whatever one hostile file makes the cleaner raise
            reason = f"{type(exc).__name__}: {exc}"[:300]
            report.failed.append((path, f"{path}: could not be ingested ({reason})"))
            continue
        next_id += len(item.chunks)
        report.warnings += [(path, w) for w in item.doc.warnings]
        if known_hash is not None:
            work.remove(source.doc_id)
            report.replaced.append(source.doc_id)
        else:
            report.added.append(source.doc_id)
        work.put(item.doc, item.text, item.chunks)
        yield item


def prepare(source: Source, params: ChunkParams, embedder: Embedder, first_id: int) -> _Pending:
    doc, text = _document(source)
    title = doc.title

    def fits(text: str) -> bool:
        return embedder.count_tokens(f"{title}\n{text}") <= embedder.max_tokens

    pieces = chunk_text(text, params.max_tokens, params.overlap_tokens, fits)
    chunks = [
        ChunkRecord(
            first_id + i,
            doc.doc_id,
            c.number,
            c.start,
            c.end,
            c.text,
            tuple(keyword_terms(f"{title}\n{c.text}")),
        )
        for i, c in enumerate(pieces)
    ]
    return _Pending(doc, text, chunks, [f"{title}\n{c.text}" for c in chunks])


def _document(source: Source) -> tuple[DocumentInfo, str]:
    """The document's row and its text: a scraped article cleaned, a document as extracted."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    name = display(source.path.name)
    ex = source.extracted
    if ex is not None:  # PDF, Word, image: extraction already removed what is not text
        title = source.title or ex.title or source.doc_id
        info = (title, ex.date, ex.issuer, None, ex.author, name, source.content_hash, now)
        doc = DocumentInfo(source.doc_id, *info, ex.fmt, ex.pages, ex.page_starts, ex.warnings)
        return doc, ex.text
    cleaned = clean_document(source.text, fmt=source.fmt, source_name=source.path.name)
    if not cleaned.text.strip():
        raise IngestError(f"{source.path}: no article text left after cleaning")
    title = source.title or cleaned.title or source.doc_id
    meta = (cleaned.date, cleaned.outlet, cleaned.origin, cleaned.author)
    doc = DocumentInfo(source.doc_id, title, *meta, name, source.content_hash, now, source.fmt)
    return doc, cleaned.text


def _publish(index_dir: Path, work: _Work) -> Path:
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
