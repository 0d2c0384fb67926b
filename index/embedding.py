"""The embedding stage of an ingest: (chunk id, text) pairs in, vectors added to a target.

Chunks are embedded in batches, ``workers`` batches at a time on a thread pool (ONNX Runtime
and numpy release the GIL, so on 2 cores two single-threaded calls beat one two-threaded
call: measured in docs/embedding.md); vectors reach the target in order, from the calling
thread only.  ``caches_for`` wraps the embedders in the resumable vector cache.

Leaves out: cleaning and chunking (``index.prepare``); the embedders themselves.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from index.embed.cache import CachedEmbedder, cache_path
from index.embed.embedder import Embedder

A = TypeVar("A")
R = TypeVar("R")
Vectors = tuple[np.ndarray, np.ndarray, np.ndarray | None]  # ids, e5 vectors, aux vectors


class VectorSink(Protocol):
    def add_vectors(self, ids: np.ndarray, dense: np.ndarray, aux: np.ndarray | None) -> None: ...


def caches_for(
    cache_dir: Path | None, embedder: Embedder, aux: Embedder | None
) -> list[CachedEmbedder]:
    """The embedders wrapped in their vector caches under ``cache_dir`` (none without one)."""
    if cache_dir is None:
        return []
    models = [embedder, *([aux] if aux is not None else [])]
    return [CachedEmbedder(m, cache_path(cache_dir, m)) for m in models]


def embed_chunks(
    sink: VectorSink,
    items: Iterable[tuple[int, str]],
    embedders: tuple[Embedder, Embedder | None],
    done: Callable[[int], None],
    workers: int = 1,
    batch: int = 32,
) -> None:
    """Embed ``items`` with both embedders; ``done(n)`` after each batch of ``n`` is added.
    ``items`` is consumed lazily on this thread, so it may stage documents as it goes."""
    embedder, aux = embedders
    parts = _batches(items, batch)

    def compute(part: Sequence[tuple[int, str]]) -> Vectors:
        texts = [t for _, t in part]
        aux_vectors = aux.embed_documents(texts) if aux is not None else None
        ids = np.array([cid for cid, _ in part], dtype=np.int64)
        return ids, embedder.embed_documents(texts), aux_vectors

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="embed") as pool:
        for ids, vectors, aux_vectors in in_order(pool, compute, parts, ahead=2 * workers):
            sink.add_vectors(ids, vectors, aux_vectors)
            done(len(ids))


def _batches(items: Iterable[A], size: int) -> Iterator[list[A]]:
    iterator = iter(items)
    while part := list(itertools.islice(iterator, size)):
        yield part


def in_order(pool: Executor, fn: Callable[[A], R], items: Iterable[A], ahead: int) -> Iterator[R]:
    """``map(fn, items)`` on ``pool``, at most ``ahead`` calls ahead of the consumer; on an
    error (or an interrupt) the calls not yet started are cancelled."""
    futures: collections.deque[Future[R]] = collections.deque()
    try:
        for item in items:
            futures.append(pool.submit(fn, item))
            if len(futures) >= max(1, ahead):
                yield futures.popleft().result()
        while futures:
            yield futures.popleft().result()
    finally:
        for future in futures:
            future.cancel()
