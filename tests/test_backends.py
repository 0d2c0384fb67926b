"""One conformance suite for both index backends: `local` files and `milvus` (Milvus Lite).

Each test runs against both; the parity test compares the two directly: the same best
passage, the same dense scores and keyword coverage, fused scores within 0.25 (Milvus
segments the BM25 text with its own jieba analyzer, so keyword scores differ a little).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from index.build import ingest, remove
from index.errors import IndexMismatch, NotFound
from index.store.loader import open_index
from index.store.manifest import ChunkParams
from index.store.milvus.client import Milvus, MilvusConfig
from index.store.milvus.reader import open_milvus
from qa.retrieval.query import analyse
from qa.retrieval.retrieve import RetrievalConfig, retrieve
from tests.conftest import SAMPLE
from tests.fakes import FakeEmbedder

PARAMS = ChunkParams(256, 32)
QUESTIONS = [
    "兰州的决定要求什么？",
    "蘭州市委的決定",
    "上海证券交易所",
    "What does the Lanzhou decision require?",
    "细胞工程 头雁工程",
]
_names = itertools.count()


class Backend:
    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        if kind == "local":
            self.destination: Path | MilvusConfig = tmp / "index"
        else:  # one Milvus Lite file per test, collections named apart
            self.destination = MilvusConfig(
                uri=str(tmp / "milvus.db"), collection=f"t{next(_names)}"
            )

    def open(self, embedder: FakeEmbedder | None = None):
        model = embedder.model_id if embedder else None
        checksum = embedder.checksum if embedder else None
        if isinstance(self.destination, MilvusConfig):
            return open_milvus(Milvus(self.destination), model_id=model, model_checksum=checksum)
        return open_index(self.destination, model_id=model, model_checksum=checksum)


@pytest.fixture(params=["local", "milvus"])
def backend(request, tmp_path) -> Backend:
    return Backend(request.param, tmp_path)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def _hits(index, question: str, dictionary, embedder=None):
    embedder = embedder or FakeEmbedder()
    query = analyse(question, dictionary)
    config = RetrievalConfig(max_per_doc=2)
    return retrieve(index, embedder.embed_query(question), query, config, 5)


def test_ingest_keeps_spans_metadata_and_counts(backend):
    report = ingest(backend.destination, [SAMPLE], FakeEmbedder(), PARAMS)
    assert len(report.added) == 5 and not report.failed
    index = backend.open(FakeEmbedder())
    assert len(index.documents) == 5 and index.manifest.documents == 5
    assert index.manifest.chunks == sum(index.chunk_counts.values()) == len(index.chunks)
    assert index.manifest.model_id == "fake-embedder" and index.manifest.chunking == PARAMS
    for chunk in index.chunks.values():
        _, text = index.document_text(chunk.doc_id)
        assert text[chunk.start : chunk.end] == chunk.text
        assert index.chunks.by_number(chunk.doc_id, chunk.number) == chunk.id
        assert index.chunk_at(chunk.doc_id, chunk.start).start <= chunk.start
    assert index.documents["004_7c2c5349670b6628"].date == "2024-01-08"
    with pytest.raises(NotFound):
        index.document_text("nope")


def test_search_finds_the_article_in_both_scripts(backend, dictionary):
    ingest(backend.destination, [SAMPLE], FakeEmbedder(), PARAMS)
    index = backend.open()
    for question in ("兰州市委 决定 头雁工程", "蘭州市委 決定 頭雁工程"):
        hits = _hits(index, question, dictionary)
        assert hits[0].chunk.doc_id == "004_7c2c5349670b6628"
        assert hits[0].coverage > 0.5


def test_reingest_replaces_without_duplicates_and_remove_deletes(backend, tmp_path, dictionary):
    folder = tmp_path / "in"
    _write(folder, "a.txt", "兰州市委作出决定。要求抓实抓好细胞工程。" * 4)
    _write(folder, "b.txt", "上海证券交易所发布公告。" * 4)
    ingest(backend.destination, [folder], FakeEmbedder(), PARAMS)
    first = backend.open()
    _write(folder, "a.txt", "兰州市委作出新的决定。要求建设黄河风情线。" * 6)
    report = ingest(backend.destination, [folder], FakeEmbedder(), PARAMS)
    assert report.replaced == ["a"] and report.unchanged == ["b"]
    index = backend.open()
    chunks = list(index.chunks.values())
    assert len({c.id for c in chunks}) == len(chunks) == index.manifest.chunks
    assert all("细胞" not in c.text for c in chunks if c.doc_id == "a")
    assert "黄河风情线" in index.texts["a"]
    # the version a reader opened before the switch still reads whole (no gap)
    assert "细胞工程" in first.texts["a"]
    assert all(first.chunks[c.id].doc_id in ("a", "b") for c in first.chunks.values())
    remove(backend.destination, ["a"])
    after = backend.open()
    assert set(after.documents) == {"b"}
    assert all(h.chunk.doc_id == "b" for h in _hits(after, "兰州 决定", dictionary))
    with pytest.raises(NotFound):
        remove(backend.destination, ["a"])


def test_unchanged_ingest_writes_nothing(backend):
    ingest(backend.destination, [SAMPLE], FakeEmbedder(), PARAMS)
    version = backend.open().version
    report = ingest(backend.destination, [SAMPLE], FakeEmbedder(), PARAMS)
    assert report.version is None and len(report.unchanged) == 5
    assert backend.open().version == version


def test_other_model_or_chunking_is_refused(backend):
    ingest(backend.destination, [SAMPLE], FakeEmbedder(), PARAMS)
    other = FakeEmbedder(model_id="another-model")
    with pytest.raises(IndexMismatch, match="another-model"):
        ingest(backend.destination, [SAMPLE], other, PARAMS)
    with pytest.raises(IndexMismatch, match="chunked"):
        ingest(backend.destination, [SAMPLE], FakeEmbedder(), ChunkParams(128, 16))
    with pytest.raises(IndexMismatch):
        backend.open(other)
    report = ingest(backend.destination, [SAMPLE], other, PARAMS, rebuild=True)
    assert len(report.added) == 5
    assert backend.open(other).manifest.model_id == "another-model"


def test_bad_files_are_reported_and_the_rest_lands(backend, tmp_path):
    folder = tmp_path / "in"
    _write(folder, "good.txt", "兰州市委作出决定。" * 5)
    _write(folder, "empty.txt", "   \n")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    report = ingest(backend.destination, [folder, tmp_path / "missing"], FakeEmbedder(), PARAMS)
    assert report.added == ["good"]
    assert len(report.failed) == 3
    assert set(backend.open().documents) == {"good"}


def test_an_interrupted_ingest_leaves_nothing_and_the_next_one_completes(backend, tmp_path):
    ingest(backend.destination, [SAMPLE], FakeEmbedder(), PARAMS)
    before = backend.open()
    folder = tmp_path / "in"
    _write(folder, "c.txt", "甘肃省发布新的规划。" * 30)

    class Dies(FakeEmbedder):
        def embed_documents(self, texts):
            raise KeyboardInterrupt  # killed while embedding

    with pytest.raises(KeyboardInterrupt):
        ingest(backend.destination, [folder], Dies(), PARAMS)
    assert backend.open().version == before.version
    assert len(list(backend.open().chunks.values())) == before.manifest.chunks
    report = ingest(backend.destination, [folder], FakeEmbedder(), PARAMS)
    assert report.added == ["c"]
    index = backend.open()
    chunks = list(index.chunks.values())
    assert len(chunks) == len({c.id for c in chunks}) == index.manifest.chunks


def test_the_two_backends_rank_and_score_alike(tmp_path, dictionary):
    local, milvus = Backend("local", tmp_path), Backend("milvus", tmp_path)
    for b in (local, milvus):
        ingest(b.destination, [SAMPLE], FakeEmbedder(), PARAMS)
    a, b = local.open(), milvus.open()
    for question in QUESTIONS:
        left = {h.chunk.chunk_id: h for h in _hits(a, question, dictionary)}
        right = {h.chunk.chunk_id: h for h in _hits(b, question, dictionary)}
        assert next(iter(left)) == next(iter(right)), question  # the same best passage
        common = left.keys() & right.keys()
        assert len(common) >= 4, question
        for chunk_id in common:  # dense scores are the same; Milvus segments BM25 itself
            x, y = left[chunk_id], right[chunk_id]
            assert x.dense == pytest.approx(y.dense, abs=1e-4)
            assert x.coverage == pytest.approx(y.coverage)
            assert x.score == pytest.approx(y.score, abs=0.25), question
