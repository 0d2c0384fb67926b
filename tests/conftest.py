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
    from qa.retrieval.crosslingual import Dictionary

    return Dictionary.load()


@pytest.fixture(scope="session")
def fake_index_dir(tmp_path_factory) -> Path:
    """The sample corpus indexed with the fake embedder."""
    from index.build import ingest
    from index.store.manifest import ChunkParams
    from tests.fakes import FakeEmbedder

    directory = tmp_path_factory.mktemp("fake-index")
    report = ingest(directory, [SAMPLE], FakeEmbedder(), ChunkParams(PARAMS_TOKENS, PARAMS_OVERLAP))
    assert not report.failed, report.failed
    return directory


@pytest.fixture
def fake_service(fake_index_dir, dictionary):
    from index.store.loader import open_index
    from qa.answering.extractive import ExtractiveGenerator
    from qa.retrieval.retrieve import RetrievalConfig
    from qa.service import QAService
    from tests.fakes import FakeEmbedder

    index = open_index(fake_index_dir)
    config = RetrievalConfig(min_dense_score=0.6, min_keyword_coverage=0.5, max_per_doc=5)
    return QAService(index, FakeEmbedder(), ExtractiveGenerator(index), config, dictionary)


# Time per marker, printed after every run: which groups make `make test` long. A test counts
# under the first of these markers it carries (crash_safety tests are e2e too), else "unit".
TIMED_MARKERS = ("crash_safety", "fuzz", "browser", "e2e", "milvus", "ray", "ocr")
_timings: dict[str, list[float]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    group = next((m for m in TIMED_MARKERS if m in report.keywords), "unit")
    seconds, tests = _timings.setdefault(group, [0.0, 0])
    _timings[group] = [seconds + report.duration, tests + (report.when == "call")]


def pytest_terminal_summary(terminalreporter) -> None:
    if not _timings:
        return
    terminalreporter.section("time per marker")
    for group, (seconds, tests) in sorted(_timings.items(), key=lambda kv: -kv[1][0]):
        terminalreporter.write_line(f"{group:>13}: {seconds:7.1f} s  {int(tests):4d} tests")
