"""Ingest, re-ingest, replace, remove; atomic versions; refusing a foreign model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from index.build import ingest, remove
from index.errors import IndexCorrupt, IndexMismatch, IndexMissing, NotFound
from index.store import versions
from index.store.loader import open_index
from index.store.manifest import ChunkParams
from tests.conftest import SAMPLE
from tests.fakes import FakeEmbedder

PARAMS = ChunkParams(128, 16)
ARTICLE = "兰州市委作出决定。要求抓实抓好细胞工程和头雁工程。" * 3


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_corpus_indexes_with_spans_and_metadata(fake_index_dir):
    index = open_index(fake_index_dir)
    assert len(index.documents) == 5
    assert index.manifest.chunks == len(index.chunks) == len(index.dense) == len(index.bm25)
    assert index.manifest.model_id == "fake-embedder"
    assert index.manifest.chunking == ChunkParams(256, 32)
    for chunk in index.chunks.values():
        _, text = index.document_text(chunk.doc_id)
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.chunk_id == f"{chunk.doc_id}#{chunk.number}"
    lanzhou = index.documents["004_7c2c5349670b6628"]
    assert lanzhou.date == "2024-01-08"


def test_reingest_unchanged_costs_nothing_and_changed_is_replaced(tmp_path):
    src, idx = tmp_path / "src", tmp_path / "idx"
    src.mkdir()
    _write(src, "a.txt", "标题甲\n\n" + ARTICLE)
    embedder = FakeEmbedder()
    first = ingest(idx, [src], embedder, PARAMS)
    assert first.added == ["a"] and first.version == "v000001"
    calls = embedder.calls
    again = ingest(idx, [src], embedder, PARAMS)
    assert again.unchanged == ["a"] and again.version is None and embedder.calls == calls
    assert versions.current(idx).name == "v000001"
    _write(src, "a.txt", "标题甲\n\n" + ARTICLE.replace("细胞工程", "先锋工程"))
    changed = ingest(idx, [src], embedder, PARAMS)
    assert changed.replaced == ["a"]
    index = open_index(idx)
    assert all("细胞工程" not in c.text for c in index.chunks.values())
    assert len(index.chunks) == len(index.dense)


def test_bad_files_fail_alone_and_the_rest_lands(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _write(src, "good.txt", "好文章\n\n" + ARTICLE)
    (src / "empty.txt").write_bytes(b"")
    (src / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (src / "gbk.txt").write_bytes(("GBK文章\n\n" + ARTICLE).encode("gbk"))
    report = ingest(tmp_path / "idx", [src], FakeEmbedder(), PARAMS)
    assert sorted(report.added) == ["gbk", "good"]
    failed = dict(report.failed)
    assert "empty" in failed[str(src / "empty.txt")]
    assert "binary" in failed[str(src / "binary.txt")]


def test_remove_and_missing_ids(tmp_path):
    src, idx = tmp_path / "src", tmp_path / "idx"
    src.mkdir()
    _write(src, "a.txt", "甲\n\n" + ARTICLE)
    _write(src, "b.txt", "乙\n\n" + ARTICLE.replace("兰州", "西宁"))
    ingest(idx, [src], FakeEmbedder(), PARAMS)
    report = remove(idx, ["a"])
    assert report.removed == ["a"]
    index = open_index(idx)
    assert set(index.documents) == {"b"}
    assert {c.doc_id for c in index.chunks.values()} == {"b"} and len(index.dense) == len(
        index.chunks
    )
    with pytest.raises(NotFound):
        remove(idx, ["nope"])


def test_refuses_index_built_with_another_model(fake_index_dir, tmp_path):
    with pytest.raises(IndexMismatch, match="embedding model"):
        open_index(fake_index_dir, model_id="intfloat/other", model_checksum="x")
    copy = tmp_path / "copy"
    shutil.copytree(fake_index_dir, copy)
    with pytest.raises(IndexMismatch):
        ingest(copy, [SAMPLE], FakeEmbedder(model_id="other-model"), ChunkParams(256, 32))


def test_missing_and_corrupt_index_are_reported(fake_index_dir, tmp_path):
    with pytest.raises(IndexMissing, match="qa ingest"):
        open_index(tmp_path / "nothing")
    copy = tmp_path / "copy"
    shutil.copytree(fake_index_dir, copy)
    current = versions.current(copy)
    data = (current / "dense.faiss").read_bytes()
    (current / "dense.faiss").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorrupt, match="checksum"):
        open_index(copy)


def test_crash_during_ingest_keeps_previous_version(tmp_path, monkeypatch):
    src, idx = tmp_path / "src", tmp_path / "idx"
    src.mkdir()
    _write(src, "a.txt", "甲\n\n" + ARTICLE)
    ingest(idx, [src], FakeEmbedder(), PARAMS)
    _write(src, "b.txt", "乙\n\n" + ARTICLE)

    class Crash(FakeEmbedder):
        def embed_documents(self, texts):
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        ingest(idx, [src], Crash(), PARAMS)
    index = open_index(idx)
    assert set(index.documents) == {"a"}
    assert not list(idx.glob("staging-*"))
    assert np.isfinite(index.dense.search(FakeEmbedder().embed_query("兰州"), 1)[0][1])
