"""The embedding runtime seam without the real model: the manifest's runtime rule, the runtime
setting, parallel embedding at ingest, and missing or damaged ONNX files."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from index.build import ingest
from index.embed import onnx_model
from index.embed.onnx_embedder import OnnxEmbedder
from index.errors import IndexMismatch, ModelUnavailable
from index.store import manifest, versions
from index.store.loader import open_index
from index.store.manifest import ChunkParams, Manifest
from qa.settings import Settings
from tests.conftest import SAMPLE
from tests.fakes import FakeEmbedder

PARAMS = ChunkParams(256, 32)


def _fake(runtime: str, parity: float | None) -> FakeEmbedder:
    embedder = FakeEmbedder()
    embedder.runtime, embedder.parity = runtime, parity
    return embedder


def _manifest(runtimes: dict[str, float | None]) -> Manifest:
    meta = Manifest("m", "c", 4, PARAMS)
    meta.runtimes = runtimes
    return meta


def test_same_runtime_passes_silently():
    assert _manifest({"onnx-int8": 0.9947}).check_runtime("onnx-int8", 0.9947) is None


def test_another_runtime_is_served_when_both_parities_were_measured_above_the_floor():
    note = _manifest({"torch": 1.0}).check_runtime("onnx-int8", 0.9947)
    assert note and "onnx-int8 0.9947" in note and "torch 1.0000" in note


@pytest.mark.parametrize(
    ("runtimes", "runtime", "parity"),
    [
        ({"torch": 1.0}, "onnx-int8", None),  # never measured
        ({"torch": 1.0}, "onnx-int8", 0.95),  # measured, below the floor
        ({"onnx-int8": None}, "torch", 1.0),  # the index's own runtime was never measured
    ],
)
def test_another_runtime_is_refused_without_measured_parity(runtimes, runtime, parity):
    with pytest.raises(IndexMismatch) as caught:
        _manifest(runtimes).check_runtime(runtime, parity)
    assert "QA_EMBED_RUNTIME" in caught.value.message and "make model" in caught.value.message
    assert caught.value.detail["service_runtime"] == runtime


def test_manifests_from_before_the_field_were_built_by_torch(tmp_path):
    ingest(tmp_path, [SAMPLE], FakeEmbedder(), PARAMS)
    path = versions.pointed(tmp_path) / manifest.FILENAME
    data = json.loads(path.read_text())
    del data["runtimes"]
    data["checksum"] = manifest._digest(data)
    path.write_text(json.dumps(data))
    assert manifest.read(path.parent, verify=False).runtimes == {"torch": 1.0}


def test_ingest_records_its_runtime_and_adds_a_measured_one(tmp_path):
    ingest(tmp_path, [SAMPLE], _fake("torch", 1.0), PARAMS)
    assert open_index(tmp_path).manifest.runtimes == {"torch": 1.0}
    extra = tmp_path.parent / f"{tmp_path.name}-more"
    extra.mkdir()
    (extra / "new.txt").write_text("兰州新区的新文章。" * 20, encoding="utf-8")
    report = ingest(tmp_path, [extra], _fake("onnx-int8", 0.9947), PARAMS)
    assert report.added == ["new"]
    assert open_index(tmp_path).manifest.runtimes == {"torch": 1.0, "onnx-int8": 0.9947}
    with pytest.raises(IndexMismatch):
        ingest(tmp_path, [extra], _fake("onnx", None), PARAMS, rebuild=False)


def test_runtime_setting_is_validated():
    assert Settings(embed_runtime="onnx").embed_runtime == "onnx"
    with pytest.raises(ValidationError):
        Settings(embed_runtime="tensorrt")


def test_ingest_threads_and_workers_follow_the_runtime(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    torch = Settings(embed_runtime="torch")
    assert (torch.ingest_threads(), torch.ingest_workers()) == (2, 1)
    onnx = Settings(embed_runtime="onnx-int8")
    assert (onnx.ingest_threads(), onnx.ingest_workers()) == (1, 2)
    tuned = Settings(embed_runtime="onnx-int8", embed_threads=2, embed_workers=3)
    assert (tuned.ingest_threads(), tuned.ingest_workers()) == (2, 3)


class _Recording(FakeEmbedder):
    """A fake that notes which threads embedded and how many calls overlapped."""

    def __init__(self) -> None:
        super().__init__()
        self.lock, self.active, self.overlap = threading.Lock(), 0, 0

    def embed_documents(self, texts):
        with self.lock:
            self.active += 1
            self.overlap = max(self.overlap, self.active)
        try:
            threading.Event().wait(0.3)
            return super().embed_documents(texts)
        finally:
            with self.lock:
                self.active -= 1


def test_parallel_ingest_gives_the_same_index_as_one_worker(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    ingest(one, [SAMPLE], FakeEmbedder(), PARAMS, workers=1)
    recording = _Recording()
    report = ingest(two, [SAMPLE], recording, PARAMS, workers=3)
    assert recording.overlap > 1 and report.chunks_embedded > 32
    a, b = open_index(one), open_index(two)
    assert sorted(a.chunks) == sorted(b.chunks)
    ids = np.array(sorted(a.chunks), dtype=np.int64)
    assert np.array_equal(a.dense.vectors_of(ids), b.dense.vectors_of(ids))


def _tokenizer_folder(folder: Path) -> Path:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    folder.mkdir(parents=True)
    tokenizer = Tokenizer(WordLevel({"<pad>": 0, "[UNK]": 1}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


def test_onnx_never_built_names_make_model(tmp_path):
    st = _tokenizer_folder(tmp_path / "e5")
    with pytest.raises(ModelUnavailable) as caught:
        onnx_model.find_variant(st, tmp_path, "abc", "onnx-int8")
    assert "make model" in caught.value.message and caught.value.code == "model_unavailable"


def _record(tmp_path: Path, st: Path, sizes: dict[str, int]) -> Path:
    folder = onnx_model.variant_folder(st, tmp_path, "abc")
    folder.mkdir()
    files = {}
    for name, size in sizes.items():
        (folder / name).write_bytes(b"\x00garbage" * (size // 8))
        files[name] = {"sha256": "0" * 64, "size": size // 8 * 8}
    parity = {r: {"min": 0.99, "mean": 0.997} for r in onnx_model.FILES}
    record = {"format": onnx_model._FORMAT, "files": files, "parity": parity}
    (folder / onnx_model.RECORD).write_text(json.dumps(record))
    return folder


def test_truncated_onnx_file_names_make_model(tmp_path):
    st = _tokenizer_folder(tmp_path / "e5")
    folder = _record(tmp_path, st, {"model.onnx": 800, "model_qint8.onnx": 800})
    with (folder / "model_qint8.onnx").open("r+b") as f:
        f.truncate(100)
    with pytest.raises(ModelUnavailable) as caught:
        onnx_model.find_variant(st, tmp_path, "abc", "onnx-int8")
    assert "damaged" in caught.value.message and "make model" in caught.value.message
    path, parity = onnx_model.find_variant(st, tmp_path, "abc", "onnx")  # the other is intact
    assert path.name == "model.onnx" and parity["min"] == 0.99


def test_corrupt_onnx_file_of_the_right_size_names_make_model(tmp_path):
    st = _tokenizer_folder(tmp_path / "e5")
    _record(tmp_path, st, {"model.onnx": 800, "model_qint8.onnx": 800})
    path, _ = onnx_model.find_variant(st, tmp_path, "abc", "onnx-int8")
    with pytest.raises(ModelUnavailable) as caught:
        OnnxEmbedder(st, path, model_id="m", runtime="onnx-int8")
    assert "cannot be loaded" in caught.value.message and "make model" in caught.value.message
