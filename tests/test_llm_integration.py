"""Against a real OpenAI-compatible LLM server, when one is configured; skipped otherwise.

Set ``QA_TEST_LLM_BASE_URL`` (e.g. ``http://127.0.0.1:11434/v1`` for Ollama),
``QA_TEST_LLM_MODEL`` and, if the server needs one, ``QA_TEST_LLM_API_KEY``;
``QA_TEST_LLM_TIMEOUT`` (seconds, default 120) bounds each request.  The
sample articles are indexed with the real embedding model, as in
``test_e2e.py``.  These tests check what must hold whatever the model writes:
the answer path used the LLM, every ``[n]`` names a returned citation whose
quote is the article's text, the answer is in the question's language and
script, streaming and the OpenAI endpoint work, and follow-ups are rewritten
by the LLM.  See docs/llm.md ("Testing against a real LLM server").
"""

from __future__ import annotations

import os
import re

import openai
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.answering.conversation import Message
from qa.language import detect
from tests.conftest import SAMPLE
from tests.sse import read_events

BASE_URL = os.environ.get("QA_TEST_LLM_BASE_URL", "")
MODEL = os.environ.get("QA_TEST_LLM_MODEL", "default")
STUB = MODEL.startswith("stub-")  # tests/openai_stub.py: a protocol check, not an LLM
LANZHOU = "004_7c2c5349670b6628"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not BASE_URL, reason="QA_TEST_LLM_BASE_URL is not set"),
]


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    from qa.settings import Settings

    return Settings(
        index_dir=tmp_path_factory.mktemp("llm-index"),
        llm_base_url=BASE_URL,
        llm_model=MODEL,
        llm_api_key=os.environ.get("QA_TEST_LLM_API_KEY") or None,
        llm_timeout=float(os.environ.get("QA_TEST_LLM_TIMEOUT", "120")),
        llm_max_retries=0,
    )


@pytest.fixture(scope="module")
def service(settings, dictionary):
    from index.build import ingest
    from qa.runtime import build_service, load_embedder

    embedder = load_embedder(settings)
    report = ingest(settings.index_dir, [SAMPLE], embedder, settings.chunk_params)
    assert not report.failed
    return build_service(settings, embedder=embedder, dictionary=dictionary)


def assert_generated_and_honest(service, answer) -> None:
    print(f"\n{answer.question}\n{answer.text}\n{answer.verification}")
    assert answer.mode == "llm", answer.notices
    assert "llm_unavailable" not in [n.code for n in answer.notices]
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert cited == {c.n for c in answer.citations}
    for c in answer.citations:
        _, text = service.index.document_text(c.doc_id)
        assert text[c.start : c.end] == c.quote
    v = answer.verification
    assert v is not None and v.checked >= v.corrected + v.removed


def latin_share(text: str) -> float:
    latin = len(re.findall(r"[A-Za-z]", text))
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    return latin / max(latin + han, 1)


@pytest.mark.parametrize(
    ("question", "language"),
    [("兰州市委的决定要求什么?", "zh-Hans"), ("蘭州市委的決定要求什麼?", "zh-Hant")],
)
def test_chinese_questions_get_cited_answers_in_their_script(service, question, language):
    answer = service.ask(question)
    assert_generated_and_honest(service, answer)
    assert not answer.declined and answer.citations
    assert any(c.doc_id == LANZHOU for c in answer.citations)
    assert detect(answer.text) == language


def test_an_english_question_gets_an_english_answer(service):
    answer = service.ask("What does the Lanzhou decision require?")
    assert_generated_and_honest(service, answer)
    assert answer.language == "en"
    if not STUB:
        assert latin_share(answer.text) >= 0.5


def test_an_unrelated_question_is_declined(service):
    answer = service.ask("Who won the 2022 FIFA World Cup?")
    assert answer.declined and not answer.citations


def test_a_follow_up_is_rewritten_by_the_llm(service):
    history = [Message("user", "兰州市委的决定要求什么?"), Message("assistant", "……")]
    answer = service.ask("它是哪次会议通过的？", history=history)
    assert answer.rewritten_query
    assert "rewrite_fallback" not in [n.code for n in answer.notices]


def test_the_stream_and_the_openai_endpoint(settings, service):
    with TestClient(create_app(settings, service=service)) as client:
        with client.stream(
            "POST", "/v1/ask/stream", json={"question": "兰州市委的决定要求什么?"}
        ) as r:
            events = list(read_events(r.iter_lines()))
        sdk = openai.OpenAI(base_url="http://testserver/v1", api_key="x", http_client=client)
        chunks = list(
            sdk.chat.completions.create(
                model="article-qa",
                messages=[{"role": "user", "content": "兰州市委的决定要求什么?"}],
                stream=True,
            )
        )
    names = [name for name, _ in events]
    assert names[0] == "citations" and names[-1] == "done" and "token" in names
    assert events[-1][1]["mode"] == "llm"
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert content and chunks[-1].model_extra["article_qa"]["mode"] == "llm"
