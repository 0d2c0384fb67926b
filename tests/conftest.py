from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
PARAMS_TOKENS, PARAMS_OVERLAP = 256, 32


@pytest.fixture(scope="session")
def dictionary():
    from qa.crosslingual import Dictionary

    return Dictionary.load()


@pytest.fixture(scope="session")
def fake_index_dir(tmp_path_factory) -> Path:
    """The sample corpus indexed with the fake embedder."""
    from index.build import ingest
    from index.manifest import ChunkParams
    from tests.fakes import FakeEmbedder

    directory = tmp_path_factory.mktemp("fake-index")
    report = ingest(directory, [SAMPLE], FakeEmbedder(), ChunkParams(PARAMS_TOKENS, PARAMS_OVERLAP))
    assert not report.failed, report.failed
    return directory


@pytest.fixture
def fake_service(fake_index_dir, dictionary):
    from index.loader import open_index
    from qa.extractive import ExtractiveGenerator
    from qa.retrieve import RetrievalConfig
    from qa.service import QAService
    from tests.fakes import FakeEmbedder

    index = open_index(fake_index_dir)
    config = RetrievalConfig(min_dense_score=0.6, min_keyword_coverage=0.5, max_per_doc=5)
    return QAService(index, FakeEmbedder(), ExtractiveGenerator(index), config, dictionary)
