"""Bulk embedding on Ray: ``qa ingest --ray [ADDRESS]``.

`embed_on_ray` runs reading, cleaning, chunking and embedding as a ``ray.data`` pipeline:
the input files become a dataset, and ``map_batches`` hands batches of files to a pool of
`EmbedActor` actors, each of which loads the embedders once (from a picklable factory)
and writes every vector it computes to the shared embedding cache
(``index.embed.cache``).  Articles whose content hash the index already holds are skipped.
The ingest that follows (``index.build.ingest`` with the same cache) then finds every
vector in the cache, so it assigns ids, writes and publishes exactly as an in-process
ingest would: the result is the same index.  A killed run, re-run, finds what its actors
had embedded and continues from there.  ``address`` is ``local`` (start Ray on this
machine) or a cluster (``ray://host:10001`` or ``auto``); the cache directory must then be
on storage every node shares.

Leaves out: writing the index (``index.build``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embed.cache import CachedEmbedder, cache_path
from index.embed.embedder import Embedder
from index.errors import ArticleQAError, IngestError
from index.store.manifest import ChunkParams
from index.text.sources import read_source

Factory = Callable[[], Embedder]
Progress = Callable[[int, int, int], None]  # documents done, documents in all, chunks embedded


class EmbedActor:
    """One Ray actor: the embedders, loaded once, and the cache they fill."""

    def __init__(
        self,
        factories: tuple[Factory, Factory | None],
        cache_dir: str,
        params: ChunkParams,
        known: Mapping[str, str],
    ) -> None:
        self.embedders = [f() for f in factories if f is not None]
        self.caches = [CachedEmbedder(e, cache_path(Path(cache_dir), e)) for e in self.embedders]
        self.params, self.known = params, dict(known)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from index.prepare import prepare  # the same cleaning and chunking as in-process

        chunks, errors = [], []
        for path in batch["path"].tolist():
            try:
                source = read_source(Path(path))
                if self.known.get(source.doc_id) == source.content_hash:
                    chunks.append(0)
                    errors.append("")
                    continue
                item = prepare(source, self.params, self.caches[0], 0)
                for cache in self.caches:
                    cache.embed_documents(item.embed_texts)
                chunks.append(len(item.chunks))
                errors.append("")
            except ArticleQAError as exc:  # reported again, per file, by the ingest itself
                chunks.append(0)
                errors.append(exc.message)
        return {"path": batch["path"], "chunks": np.array(chunks), "error": np.array(errors)}


def embed_on_ray(
    files: Sequence[Path],
    factories: tuple[Factory, Factory | None],
    params: ChunkParams,
    cache_dir: Path,
    *,
    address: str = "local",
    actors: int = 2,
    batch_docs: int = 8,
    known: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> int:
    """Embed ``files`` into the cache on Ray; the number of chunks embedded or found."""
    import ray

    _start(ray, address, actors)
    dataset = ray.data.from_items([{"path": str(p)} for p in files]).map_batches(
        EmbedActor,
        fn_constructor_kwargs={
            "factories": factories,
            "cache_dir": str(cache_dir),
            "params": params,
            "known": dict(known or {}),
        },
        batch_size=batch_docs,
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=1,
    )
    done = total_chunks = 0
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        done += len(batch["path"])
        total_chunks += int(batch["chunks"].sum())
        if progress:
            progress(done, len(files), total_chunks)
    return total_chunks


def _start(ray: Any, address: str, actors: int) -> None:
    if ray.is_initialized():
        return
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "configure_logging": False,
    }
    try:
        if address == "local":
            ray.init(num_cpus=actors + 1, **options)
        else:
            ray.init(address=address, **options)
    except Exception as exc:  # Ray's own startup errors: say which cluster, keep one line
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise IngestError(
            f"Ray did not start (--ray {address}): {reason}. Nothing was ingested; "
            "run without --ray to ingest in this process."
        ) from exc
    ray.data.DataContext.get_current().enable_progress_bars = False


class Eta:
    """Documents done → a progress line with rate and time left."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def line(self, done: int, total: int, chunks: int) -> str:
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate > 0 else float("inf")
        eta = f"{int(left // 60)}m{int(left % 60):02d}s" if left != float("inf") else "?"
        return (
            f"embedded {done}/{total} articles ({100 * done / max(total, 1):.0f}%), "
            f"{chunks} chunks, {chunks / elapsed if elapsed else 0:.1f} chunks/s, ETA {eta}"
        )
