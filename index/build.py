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
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.docs.ocr import Ocr
from index.embed.cache import CachedEmbedder, cache_path
from index.embed.embedder import Embedder
from index.embedding import caches_for, embed_chunks
from index.errors import ArticleQAError, IngestError, NotFound
from index.prepare import Pending, prepare
from index.store import manifest, versions
from index.store.loader import open_index
from index.store.manifest import AnnParams, ChunkParams, Manifest
from index.store.milvus.client import Milvus, MilvusConfig
from index.store.milvus.reader import read_head
from index.store.milvus.writer import MilvusTarget
from index.store.originals import Originals, kept_hashes
from index.text.sources import Record, Source, discover, display, read_source, record_source
from index.work import Target, Work, check, open_work

Progress = Callable[[int, int], None]
Known = Callable[[str], str | None]  # a document id -> the content hash the index has for it
Loader = Callable[[Known], Source]
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
    force: Mapping[str, str] | None = None,
    ocr: Ocr | None = None,
) -> Report:
    """Ingest files and folders; ``aux`` adds USE vectors (``index.embed.use_encoder``),
    ``ann`` sets how dense candidates are searched (``index.store.ann``), ``cache_dir``
    keeps computed vectors until the ingest publishes (``index.embed.cache``), ``workers``
    embedding calls run at once (each on its own batch), ``originals`` keeps a copy of each
    file for re-ingesting (``index.store.originals``), the documents in ``force`` (id ->
    the content hash they must still have) are ingested again even when unchanged, and ``ocr``
    reads scans (default: an engine for this ingest, loaded only if a scan arrives)."""
    loaders: list[tuple[str, Loader]] = []
    ocr = ocr or Ocr()
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
    keep = _Keep(Originals(originals) if originals else None, dict(force or {}))
    return _ingest(index_dir, loaders, (embedder, aux), build, rebuild, progress, cache_dir, keep)


def _fail(exc: ArticleQAError, known: Known | None = None) -> Source:
    raise exc


@dataclass(frozen=True)
class _Keep:
    """Where originals are kept (None: nowhere), and the documents to ingest regardless
    (id -> the content hash they must still have when the ingest holds the index)."""

    originals: Originals | None = None
    force: Mapping[str, str] = field(default_factory=dict)


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
    loaders: list[tuple[str, Loader]] = [(r.doc_id, functools.partial(_record, r)) for r in records]
    build = (params, ann, workers)
    return _ingest(index_dir, loaders, (embedder, aux), build, rebuild, progress, cache_dir)


def _record(record: Record, known: Known | None = None) -> Source:
    return record_source(record)


def _ingest(
    index_dir: Destination,
    loaders: Sequence[tuple[str, Loader]],
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
            hashes = set(work.hashes())
            report.version = work.publish()
            _prune(keep.originals, index_dir, hashes)
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
        checked = functools.partial(check, fresh)
        with (
            contextlib.closing(Milvus(destination)) as db,
            contextlib.closing(MilvusTarget.open(db, fresh, checked, rebuild=rebuild)) as target,
        ):
            yield target
        return
    with (
        versions.writer_lock(destination),
        contextlib.closing(open_work(destination, fresh, rebuild=rebuild)) as work,
    ):
        yield work


def remove(index_dir: Destination, doc_ids: Sequence[str], originals: Path | None = None) -> Report:
    """Remove documents (and their kept originals, when ``originals`` is given)."""
    report = Report()
    with existing(index_dir) as work:
        for doc_id in doc_ids:
            if work.content_hash(doc_id) is None:
                raise NotFound(f"No document with id {doc_id!r} in the index.")
            work.remove(doc_id)
            report.removed.append(doc_id)
        hashes = set(work.hashes())
        report.version = work.publish()
        _prune(Originals(originals) if originals else None, index_dir, hashes)
    return report


def _prune(originals: Originals | None, destination: Destination, current: set[str]) -> None:
    """Drop the originals no kept version refers to (called holding the writer's lock)."""
    if originals is None:
        return
    if isinstance(destination, Path):
        current |= kept_hashes(destination)
    originals.prune(current)


@contextlib.contextmanager
def existing(destination: Destination) -> Iterator[Target]:
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
        with contextlib.closing(Work.copy_of(current, manifest.read(current), destination)) as work:
            yield work


def _fresh_manifest(
    embedder: Embedder, aux: Embedder | None, params: ChunkParams, ann: AnnParams
) -> Manifest:
    fresh = Manifest(embedder.model_id, embedder.checksum, embedder.dimension, params, ann=ann)
    fresh.runtimes = {embedder.runtime: embedder.parity}
    if aux is not None:
        fresh.aux_model_id, fresh.aux_dimension = aux.model_id, aux.dimension
    return fresh


def _staged(
    work: Target,
    loaders: Sequence[tuple[str, Loader]],
    how: tuple[ChunkParams, Embedder, _Keep],
    report: Report,
) -> Iterator[Pending]:
    """Each document read, cleaned, chunked and put into ``work`` (its original kept); unchanged
    and failed files are recorded in ``report`` instead."""
    params, embedder, keep = how
    batch = _Batch(work, keep)
    next_id = work.next_chunk_id()
    for path, load in loaders:
        try:
            source = load(batch.known)
            known_hash = batch.admit(source, path)
            if keep.originals and source.path.is_file():
                keep.originals.put(source.content_hash, source.path)
            if known_hash == source.content_hash and source.doc_id not in keep.force:
                report.unchanged.append(source.doc_id)
                continue
            item = prepare(source, params, embedder, next_id)
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


class _Batch:
    """What one ingest has seen: ids, files by content (one copy of a file is indexed)."""

    def __init__(self, work: Target, keep: _Keep) -> None:
        self.work, self.keep = work, keep
        self.ids: set[str] = set()
        self.by_hash = work.hashes()

    def known(self, doc_id: str) -> str | None:
        """The hash a file must have to be skipped unread (never for a forced document)."""
        return None if doc_id in self.keep.force else self.work.content_hash(doc_id)

    def admit(self, source: Source, path: str) -> str | None:
        """The index's hash for ``source``'s id; IngestError if it must not be ingested."""
        doc_id, digest = source.doc_id, source.content_hash
        if doc_id in self.ids:
            raise IngestError(f"{path}: another input in this batch has id {doc_id!r}")
        self.ids.add(doc_id)
        known = self.work.content_hash(doc_id)
        expected = self.keep.force.get(doc_id)
        if expected is not None and known != expected:
            raise IngestError(
                f"{path}: {doc_id!r} was removed or replaced meanwhile; not re-ingested"
            )
        twin = self.by_hash.get(digest)
        if twin is not None and twin != doc_id:
            raise IngestError(
                f"{path}: the same file is already indexed as {twin!r}; not indexed twice "
                f"(remove {twin!r} first to index it under the name {doc_id!r})"
            )
        self.by_hash[digest] = doc_id
        return known
