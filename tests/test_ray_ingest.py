"""Bulk embedding on a local Ray, and resuming an ingest that was killed while embedding."""

from __future__ import annotations

import numpy as np
import pytest

from index.build import ingest
from index.bulk import Eta, embed_on_ray
from index.store.loader import open_index
from index.store.manifest import ChunkParams
from index.text.sources import discover
from tests.conftest import ROOT, SAMPLE
from tests.fakes import FakeEmbedder

PARAMS = ChunkParams(256, 32)


class Counting(FakeEmbedder):
    """Counts the passages it embeds; can die after ``limit`` of them."""

    def __init__(self, limit: int | None = None) -> None:
        super().__init__()
        self.texts, self.limit = 0, limit

    def embed_documents(self, texts):
        if self.limit is not None and self.texts + len(texts) > self.limit:
            raise KeyboardInterrupt  # the process is killed here
        self.texts += len(texts)
        return super().embed_documents(texts)


def _vectors(directory):
    index = open_index(directory)
    chunks = sorted(index.chunks.values(), key=lambda c: c.id)
    vectors = index.dense.vectors_of(np.array([c.id for c in chunks], dtype=np.int64))
    return chunks, vectors


@pytest.mark.ray
def test_ray_pipeline_gives_the_in_process_index_and_embeds_nothing_twice(tmp_path, monkeypatch):
    import ray

    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # Ray's workers import tests.fakes
    cache = tmp_path / "cache"
    lines: list[str] = []
    eta = Eta()
    try:
        chunks = embed_on_ray(
            discover([SAMPLE]),
            (FakeEmbedder, None),
            PARAMS,
            cache,
            actors=2,
            batch_docs=2,
            progress=lambda d, t, c: lines.append(eta.line(d, t, c)),
        )
    finally:
        ray.shutdown()
    assert chunks == 61 and "5/5 articles (100%)" in lines[-1] and "ETA" in lines[-1]
    counting = Counting()
    ray_report = ingest(tmp_path / "ray", [SAMPLE], counting, PARAMS, cache_dir=cache)
    assert counting.texts == 0  # every vector came from the actors, through the cache
    assert ray_report.chunks_embedded == 61 and not list(cache.iterdir())  # cache cleared
    ingest(tmp_path / "plain", [SAMPLE], FakeEmbedder(), PARAMS)
    (ray_chunks, ray_vectors), (chunks_, vectors) = (
        _vectors(tmp_path / "ray"),
        _vectors(tmp_path / "plain"),
    )
    assert ray_chunks == chunks_
    assert np.array_equal(ray_vectors, vectors)


def test_a_killed_ingest_resumes_without_embedding_again(tmp_path):
    small = ChunkParams(64, 8)  # more chunks than one embedding batch (64)
    total = ingest(tmp_path / "reference", [SAMPLE], FakeEmbedder(), small).chunks_embedded
    assert total > 128
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):  # killed after two batches were embedded
        ingest(tmp_path / "index", [SAMPLE], Counting(limit=128), small, cache_dir=cache)
    assert list(cache.iterdir())  # what was embedded is kept
    again = Counting()
    report = ingest(tmp_path / "index", [SAMPLE], again, small, cache_dir=cache)
    assert len(report.added) == 5 and report.chunks_embedded == total
    assert again.texts == total - 128  # only what the killed run had not embedded
    assert _vectors(tmp_path / "index")[0] == _vectors(tmp_path / "reference")[0]
