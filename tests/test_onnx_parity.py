"""The ONNX runtimes against torch fp32 with the real e5-small (built by `make model`)."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from index.embed import onnx_model
from index.errors import ModelUnavailable

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def embedders():
    from qa.runtime import load_embedder
    from qa.settings import Settings

    return {r: load_embedder(Settings(embed_runtime=r)) for r in ("torch", "onnx", "onnx-int8")}


@pytest.fixture(scope="module")
def probe_vectors(embedders):
    passages, questions = onnx_model.probe()
    passages = passages[:36]  # a few dozen passages of the sample corpus, both scripts
    return {
        runtime: np.vstack([e.embed_documents(passages), *map(e.embed_query, questions)])
        for runtime, e in embedders.items()
    }


@pytest.mark.parametrize(
    ("runtime", "least", "mean"), [("onnx", 0.9999, 0.9999), ("onnx-int8", 0.98, 0.995)]
)
def test_onnx_vectors_match_torch_fp32(probe_vectors, runtime, least, mean):
    cosines = (probe_vectors[runtime] * probe_vectors["torch"]).sum(axis=1)
    print(f"\n{runtime}: cosine to torch min {cosines.min():.4f} mean {cosines.mean():.4f}")
    assert cosines.min() >= least and cosines.mean() >= mean


def test_token_counts_and_limits_agree(embedders):
    texts = [
        "兰州市委的决定要求什么？",
        "蘭州市委的決定",
        "What does the Lanzhou decision require?",
    ]
    for text in texts:
        assert len({e.count_tokens(text) for e in embedders.values()}) == 1, text
    assert len({(e.dimension, e.max_tokens) for e in embedders.values()}) == 1


def test_length_sorted_batches_keep_the_input_order(embedders):
    onnx = embedders["onnx"]
    texts = ["短", "兰州市第十四届委员会第八次全体会议" * 12, "a", "强基工程" * 40, "中"]
    batched = onnx.embed_documents(texts)
    alone = np.vstack([onnx.embed_documents([t]) for t in texts])
    assert np.allclose(batched, alone, atol=1e-4)


def test_long_passages_are_truncated_like_torch(embedders):
    text = "兰州市委的决定要求抓实抓好四项工程。" * 200  # far past 512 tokens
    a, b = (embedders[r].embed_documents([text])[0] for r in ("torch", "onnx"))
    assert float(a @ b) > 0.9999


def test_missing_onnx_files_fail_loading_with_make_model_and_readyz_says_so(tmp_path):
    from api.app import create_app
    from index.embed.e5_model import FOLDER_NAME
    from qa.runtime import load_embedder
    from qa.settings import Settings

    (tmp_path / FOLDER_NAME).symlink_to((Settings().model_cache_dir / FOLDER_NAME).resolve())
    settings = Settings(model_cache_dir=tmp_path, index_dir=tmp_path / "index")
    with pytest.raises(ModelUnavailable) as caught:
        load_embedder(settings)
    assert "make model" in caught.value.message
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_unavailable"
    assert "make model" in response.json()["error"]["message"]
