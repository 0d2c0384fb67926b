"""Generated answers with LangChain fake chat models: prompts, checking, fallbacks, assembly."""

from __future__ import annotations

import itertools
import socket

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from pydantic import ValidationError

from api.app import create_app
from index.text.chunk import count_tokens
from qa.answer import GenerationError, Sources
from qa.answering.conversation import HeuristicRewriter
from qa.answering.extractive import ExtractiveGenerator
from qa.answering.llm import LLMGenerator, LLMRewriter
from qa.answering.prompting import AnswerPrompt, pack
from qa.language import detect
from qa.runtime import load_chat_model
from qa.settings import Settings
from tests.llm_fakes import (
    LANZHOU,
    Slow,
    broken,
    connection_refused,
    llm_service,
    passage_numbers,
    recording,
    scripted,
    sentence_of,
    server_error,
    timed_out,
)
from tests.openai_stub import running_stub

QUESTION = "兰州市委的决定要求什么?"
PLENARY, PROJECTS = f"{LANZHOU}#0", f"{LANZHOU}#1"
DECLINE = "这些文章中没有这个问题的答案。"


@pytest.fixture
def make(fake_index_dir, dictionary):
    def build(chat_model, **settings):
        return llm_service(fake_index_dir, dictionary, chat_model, **settings)

    return build


def hits_for(service, question=QUESTION):
    turn = service.understand(question, [])
    return service.search(turn, None)


# the prompt ------------------------------------------------------------------------------


def test_the_prompt_numbers_passages_with_title_and_date_and_states_the_rules(make):
    service = make(scripted("unused"))
    query, hits, _ = hits_for(service)
    messages, sources = AnswerPrompt("strict", 3000).build(query, hits)
    system, user = messages[0].content, messages[1].content
    assert "Simplified Chinese" in system and DECLINE in system
    assert "[2]" in system and "only the passages" in system
    assert [s.n for s in sources] == list(range(1, len(hits) + 1))
    assert [s.chunk_id for s in sources] == [h.chunk.chunk_id for h in hits]
    first = sources[0]
    assert f"[1] {first.title} ({first.date}, {first.outlet})\n" in user
    assert user.rstrip().endswith(f"Question: {QUESTION}")


def test_general_grounding_names_the_heading(make):
    service = make(scripted("unused"))
    query, hits, _ = hits_for(service)
    messages, _ = AnswerPrompt("general", 3000).build(query, hits)
    assert "一般知识（并非出自文章）：" in messages[0].content


def test_passages_are_packed_to_the_token_budget(make):
    service = make(scripted("unused"))
    _, hits, _ = hits_for(service)
    assert len(pack(hits, 100_000)) == len(hits)
    assert 1 <= len(pack(hits, 400)) < len(hits)
    [cut] = pack(hits, 60)
    assert hits[0].chunk.text.startswith(cut.chunk.text) and cut.chunk.text != hits[0].chunk.text


def test_spare_budget_widens_passages_by_their_neighbouring_chunks(make):
    service = make(scripted("unused"))
    _, all_hits, _ = hits_for(service)
    index = service.index
    together = pack(all_hits, 100_000, index, widened=50)  # two hits of an article share no chunk
    spans = sorted((h.chunk.doc_id, h.chunk.start, h.chunk.end) for h in together)
    assert all(a[0] != b[0] or a[2] <= b[1] for a, b in itertools.pairwise(spans))
    hits = [
        h
        for i, h in enumerate(all_hits)
        if h.chunk.doc_id not in {g.chunk.doc_id for g in all_hits[:i]}
    ]
    wide = pack(hits, 100_000, index, widened=len(hits))
    assert [h.chunk.id for h in wide] == [h.chunk.id for h in hits]
    for plain, grown in zip(hits, wide, strict=True):
        chunks = index.doc_chunks[plain.chunk.doc_id]
        at = next(i for i, c in enumerate(chunks) if c.id == plain.chunk.id)
        assert grown.chunk.start == chunks[max(at - 1, 0)].start
        assert grown.chunk.end == chunks[min(at + 1, len(chunks) - 1)].end
        assert (
            grown.chunk.text == index.texts[plain.chunk.doc_id][grown.chunk.start : grown.chunk.end]
        )
    plain_cost = sum(count_tokens(h.chunk.text) + 48 for h in pack(hits, 100_000))
    tight = pack(hits, plain_cost, index, widened=len(hits))
    assert [h.chunk.text for h in tight] == [h.chunk.text for h in hits]  # nothing to spare
    top = hits[0].chunk
    neighbours = index.doc_chunks[top.doc_id]
    one_more = next(c for c in neighbours if c.id != top.id and abs(c.number - top.number) == 1)
    some = pack(hits, plain_cost + count_tokens(one_more.text), index, widened=len(hits))
    assert some[0].chunk.text != top.text and top.text in some[0].chunk.text  # the best first
    assert [h.chunk.text for h in some[1:]] == [h.chunk.text for h in hits[1:]]
    _, sources = AnswerPrompt("strict", 100_000, index).build(hits_for(service)[0], hits)
    default = pack(hits, 100_000, index)  # QA_LLM_WIDENED_PASSAGES: the best one only
    assert default[0].chunk.text == wide[0].chunk.text
    assert [h.chunk.text for h in default[1:]] == [h.chunk.text for h in hits[1:]]
    assert [h.chunk.text for h in pack(hits, 100_000, index, widened=0)] == [
        h.chunk.text for h in hits
    ]
    assert (sources[0].passage_start, sources[0].passage_end) == (
        wide[0].chunk.start,
        wide[0].chunk.end,
    )


# the generator ---------------------------------------------------------------------------


def test_generate_returns_the_reply_with_every_passage_citable(make):
    service = make(scripted("<think>let me see</think>\n答案[1]。"))
    query, hits, _ = hits_for(service)
    draft = LLMGenerator(service.generator.model, AnswerPrompt()).generate(query, hits)
    assert draft.text == "答案[1]。" and draft.mode == "llm"
    assert len(draft.citations) == len(hits) and not draft.citations[0].highlights


@pytest.mark.parametrize(
    "model",
    [
        scripted(""),
        scripted("<think>only thinking</think>"),
        GenericFakeChatModel(messages=iter([AIMessage(content=[{"type": "image", "url": "x"}])])),
        broken(connection_refused()),
        broken(server_error()),
        broken(timed_out()),
    ],
    ids=["empty", "only-thinking", "no-text", "refused", "5xx", "timeout"],
)
def test_failures_raise_generation_error(make, model):
    service = make(scripted("unused"))
    query, hits, _ = hits_for(service)
    with pytest.raises(GenerationError):
        LLMGenerator(model, AnswerPrompt()).generate(query, hits)


def test_stream_yields_sources_then_text_then_the_draft(make):
    service = make(scripted("unused"))
    query, hits, _ = hits_for(service)
    pieces = list(
        LLMGenerator(scripted("<think>hm</think>答案[1]。"), AnswerPrompt()).stream(query, hits)
    )
    assert isinstance(pieces[0], Sources) and pieces[0].mode == "llm"
    assert "".join(p for p in pieces if isinstance(p, str)) == "答案[1]。"
    assert pieces[-1].text == "答案[1]。"


def test_a_stream_that_breaks_raises_generation_error(make):
    service = make(scripted("unused"))
    query, hits, _ = hits_for(service)
    stream = LLMGenerator(scripted("答案很长很长。", error_on_chunk_number=3), AnswerPrompt())
    with pytest.raises(GenerationError):
        list(stream.stream(query, hits))


def test_closing_the_stream_closes_the_model_stream(make):
    service = make(scripted("unused"))
    query, hits, _ = hits_for(service)
    model = Slow(responses=["unused"], tokens=50, delay=0.001)
    stream = LLMGenerator(model, AnswerPrompt()).stream(query, hits)
    next(stream), next(stream), next(stream)
    stream.close()
    assert model.closed and model.produced < 50


# answers through the service -------------------------------------------------------------


def test_wrong_citation_numbers_are_corrected_in_the_answer(make):
    service = make(scripted("unused"))
    numbers = passage_numbers(service, QUESTION)
    projects = sentence_of(service, PROJECTS)
    wrong = numbers[PLENARY]
    service = make(scripted(f"{projects}[{wrong}]兰州市将在2030年前建成十座机场[{wrong}]。"))
    answer = service.ask(QUESTION)
    assert answer.mode == "llm" and not answer.declined
    assert answer.text.startswith(f"{projects}[{numbers[PROJECTS]}]")
    v = answer.verification
    assert (v.checked, v.corrected, v.removed) == (2, 1, 1)
    assert v.unsupported[0].text.startswith("兰州市将在2030年")
    assert [n.code for n in answer.notices] == ["unsupported"]
    assert [c.chunk_id for c in answer.citations] == [PROJECTS]
    assert set(answer.timings_ms) == {"retrieve", "answer", "verify", "total"}


def test_a_traditional_question_gets_a_traditional_answer(make):
    service = make(scripted("unused"))
    plenary = sentence_of(service, PLENARY)
    number = passage_numbers(service, QUESTION)[PLENARY]
    service = make(scripted(f"{plenary}[{number}]"))  # the model drifted to simplified
    answer = service.ask("蘭州市委的決定要求什麼?")
    assert answer.language == "zh-Hant" and detect(answer.text) == "zh-Hant"
    assert answer.text.endswith(f"[{number}]") and answer.verification.removed == 0


def test_an_english_question_gets_the_english_reply(make):
    reply = "The eighth plenary session of the Lanzhou municipal committee adopted a decision [1]."
    service = make(scripted(reply), min_dense_score_crosslingual=0.0)
    answer = service.ask("What did the Lanzhou plenary session adopt?")
    assert answer.language == "en" and detect(answer.text) == "en"
    assert answer.text.startswith("The eighth plenary session")


def test_a_decline_from_the_model_is_a_decline(make):
    answer = make(scripted("这些文章中没有这个问题的答案。[1]")).ask(QUESTION)
    assert answer.declined and answer.citations == [] and answer.text == DECLINE
    assert answer.notices == () and answer.verification.unsupported == ()


def test_strict_grounding_declines_without_asking_the_model(make):
    model = recording("unused")
    answer = make(model).ask("如何做红烧肉?")
    assert answer.declined and model.seen == [] and answer.mode == "extractive"


def test_general_grounding_marks_general_knowledge(make):
    heading = "一般知识（并非出自文章）："
    model = recording(f"{DECLINE}\n{heading}\n红烧肉要先把五花肉焯水，再加糖色慢炖。")
    answer = make(model, grounding="general").ask("如何做红烧肉?")
    assert "Passages:\n\n(none)" in model.seen[0][1].content
    assert answer.declined and heading in answer.text
    assert answer.verification.unsupported == ()
    assert "general_knowledge" in [n.code for n in answer.notices]


@pytest.mark.parametrize(
    "model",
    [
        broken(connection_refused()),
        broken(server_error()),
        scripted(""),
        GenericFakeChatModel(messages=iter([AIMessage(content=[{"type": "image", "url": "x"}])])),
    ],
    ids=["refused", "5xx", "empty", "malformed"],
)
def test_llm_failures_fall_back_to_the_extractive_answer(make, model, fake_service):
    answer = make(model).ask(QUESTION)
    extractive = fake_service.ask(QUESTION)
    assert answer.mode == "extractive" and not answer.declined
    assert answer.text == extractive.text and answer.citations == extractive.citations
    assert [n.code for n in answer.notices] == ["llm_unavailable"]
    assert answer.verification is None


def test_the_api_never_answers_5xx_for_llm_failures(make):
    with TestClient(create_app(Settings(), service=make(broken(server_error())))) as client:
        r = client.post("/v1/ask", json={"question": QUESTION})
    assert r.status_code == 200
    body = r.json()
    assert body["mode"] == "extractive" and body["citations"]
    assert body["notices"][0]["code"] == "llm_unavailable"
    assert "overloaded" not in r.text


# the real OpenAI client against local servers --------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def real_client(base_url: str, model: str, **settings):
    values = {"llm_max_retries": 0, "llm_connect_timeout": 1.0, "llm_timeout": 5.0, **settings}
    chat = load_chat_model(Settings(llm_base_url=base_url, llm_model=model, **values))
    assert chat is not None
    return chat


def test_connection_refused_falls_back(make):
    chat = real_client(f"http://127.0.0.1:{closed_port()}/v1", "any")
    answer = make(chat).ask(QUESTION)
    assert answer.mode == "extractive" and answer.notices[0].code == "llm_unavailable"


@pytest.mark.parametrize(
    ("model", "settings"),
    [("stub-500", {}), ("stub-garbage", {}), ("stub-slow", {"llm_timeout": 0.5})],
    ids=["5xx", "not-json", "timeout"],
)
def test_server_failures_fall_back(make, model, settings):
    with running_stub() as base_url:
        answer = make(real_client(base_url, model, **settings)).ask(QUESTION)
        streamed = list(make(real_client(base_url, model, **settings)).stream(QUESTION))
    assert answer.mode == "extractive" and answer.notices[-1].code == "llm_unavailable"
    assert streamed[-1].answer.mode == "extractive"


def test_an_openai_compatible_server_answers_plain_and_streamed(make):
    with running_stub() as base_url:
        service = make(real_client(base_url, "stub-echo"))
        answer = service.ask("蘭州市委的決定要求什麼?")
        events = list(service.stream(QUESTION))
    assert answer.mode == "llm" and answer.citations and detect(answer.text) == "zh-Hant"
    assert answer.verification.checked == 1 and answer.verification.removed == 0
    final = events[-1].answer
    assert final.mode == "llm" and final.citations and final.text.endswith("[1]")


# assembly --------------------------------------------------------------------------------


def test_without_an_llm_the_service_is_extractive(fake_index_dir, dictionary, monkeypatch):
    monkeypatch.delenv("QA_LLM_BASE_URL", raising=False)
    service = llm_service(fake_index_dir, dictionary, None)
    assert isinstance(service.generator, ExtractiveGenerator) and service.fallback is None
    assert isinstance(service.rewriter, HeuristicRewriter)
    answer = service.ask(QUESTION)
    assert answer.mode is None and answer.verification is None


def test_with_an_llm_the_service_generates_and_rewrites_with_it(make):
    service = make(scripted("x"))
    assert isinstance(service.generator, LLMGenerator)
    assert isinstance(service.fallback, ExtractiveGenerator)
    assert isinstance(service.rewriter, LLMRewriter)
    assert isinstance(make(scripted("x"), llm_rewrite=False).rewriter, HeuristicRewriter)


def test_the_chat_model_is_configured_from_settings(monkeypatch):
    settings = Settings(
        llm_base_url="http://127.0.0.1:11434/v1",
        llm_model="qwen2.5:7b",
        llm_api_key="sk-secret",
        llm_timeout=12,
        llm_connect_timeout=2,
        llm_max_retries=3,
        llm_max_tokens=300,
    )
    chat = load_chat_model(settings)
    assert chat.openai_api_base == "http://127.0.0.1:11434/v1" and chat.model_name == "qwen2.5:7b"
    assert chat.max_retries == 3 and chat.max_tokens == 300
    assert chat.request_timeout.read == 12 and chat.request_timeout.connect == 2
    assert "sk-secret" not in repr(settings) and "sk-secret" not in repr(chat)
    monkeypatch.delenv("QA_LLM_BASE_URL", raising=False)
    assert load_chat_model(Settings()) is None


@pytest.mark.parametrize(
    "env",
    [
        {"QA_LLM_BASE_URL": "http://localhost:8000/v1"},
        {"QA_LLM_BASE_URL": "localhost:8000", "QA_LLM_MODEL": "m"},
        {"QA_GROUNDING": "loose"},
        {"QA_LLM_TIMEOUT": "0"},
    ],
)
def test_invalid_llm_settings_are_refused(monkeypatch, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_blank_llm_settings_mean_unset(monkeypatch):
    monkeypatch.setenv("QA_LLM_BASE_URL", " ")
    monkeypatch.setenv("QA_LLM_MODEL", "")
    assert Settings().llm_base_url is None and Settings().llm_model is None


def test_qa_llm_widened_passages_reaches_the_prompt(make):
    for widened, grows in ((0, False), (1, True)):
        service = make(scripted("unused"), llm_widened_passages=widened)
        query, hits, _ = hits_for(service)
        _, sources = service.generator.prompt.build(query, hits)
        assert (
            sources[0].passage_end - sources[0].passage_start > len(hits[0].chunk.text)
        ) is grows
