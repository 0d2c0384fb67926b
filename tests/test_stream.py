"""``POST /v1/ask/stream``: Server-Sent Events read one by one, extractive and generated."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from index.errors import NotFound
from qa.language import detect
from qa.runtime import Models
from qa.settings import Settings
from tests.fakes import FakeEmbedder
from tests.llm_fakes import LANZHOU, Slow, llm_service, passage_numbers, scripted, sentence_of
from tests.sse import read_events

QUESTION = "兰州市委的决定要求什么?"
DECLINE = "这些文章中没有这个问题的答案。"


@pytest.fixture
def make(fake_index_dir, dictionary):
    def build(chat_model, **settings):
        return llm_service(fake_index_dir, dictionary, chat_model, **settings)

    return build


def stream(service, payload):
    with (
        TestClient(create_app(Settings(), service=service)) as client,
        client.stream("POST", "/v1/ask/stream", json=payload) as r,
    ):
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        return list(read_events(r.iter_lines()))


def names(events):
    return [name for name, _ in events]


def tokens(events):
    return "".join(data["text"] for name, data in events if name == "token")


def test_an_extractive_answer_streams_citations_tokens_done(fake_service):
    events = stream(fake_service, {"question": QUESTION})
    assert names(events)[0] == "citations" and names(events)[-1] == "done"
    assert set(names(events)[1:-1]) == {"token"}
    first, done = events[0][1], events[-1][1]
    assert first["mode"] == "extractive" and first["language"] == "zh-Hans"
    assert first["citations"] == done["citations"] and done["citations"]
    assert tokens(events) == done["answer"]
    with TestClient(create_app(Settings(), service=fake_service)) as client:
        body = client.post("/v1/ask", json={"question": QUESTION}).json()
    varying = ("timings_ms", "answer_id")
    assert {k: v for k, v in done.items() if k not in varying} == {
        k: v for k, v in body.items() if k not in varying
    }
    assert done["answer_id"] != body["answer_id"]


def test_a_generated_answer_streams_raw_tokens_and_ends_checked(make):
    service = make(scripted("unused"))
    numbers = passage_numbers(service, QUESTION)
    projects = sentence_of(service, f"{LANZHOU}#1")
    wrong, right = numbers[f"{LANZHOU}#0"], numbers[f"{LANZHOU}#1"]
    reply = f"{projects}[{wrong}]兰州市将在2030年前建成十座机场[{wrong}]。"
    events = stream(make(scripted(reply)), {"question": QUESTION})
    assert names(events)[0] == "citations" and names(events)[-1] == "done"
    assert len(events[0][1]["citations"]) == len(numbers)
    assert tokens(events) == reply
    done = events[-1][1]
    assert done["mode"] == "llm" and done["answer"].startswith(f"{projects}[{right}]")
    assert done["verification"]["corrected"] == 1 and done["verification"]["removed"] == 1
    assert done["notices"] == [
        {"code": "unsupported", "message": "本回答中有些句子得不到文章的支持，已标出。"}
    ]


def test_tokens_come_in_the_question_script(make):
    events = stream(
        make(scripted("兰州市委的决定要求抓好基层党组织建设。")),
        {"question": "蘭州市委的決定要求什麼?"},
    )
    assert detect(tokens(events)) == "zh-Hant"
    assert detect(events[-1][1]["answer"]) == "zh-Hant"


def test_an_llm_that_fails_mid_stream_is_replaced_by_the_extractive_answer(make, fake_service):
    events = stream(
        make(scripted("兰州市委的决定要求很多。", error_on_chunk_number=5)), {"question": QUESTION}
    )
    order = names(events)
    notice = order.index("notice")
    assert order[:notice] == ["citations"] + ["token"] * 5
    assert events[notice][1]["code"] == "llm_unavailable"
    assert order[notice + 1] == "citations" and order[-1] == "done"
    done = events[-1][1]
    assert done["mode"] == "extractive" and done["answer"] == fake_service.ask(QUESTION).text
    assert tokens(events[notice:]) == done["answer"]
    assert [n["code"] for n in done["notices"]] == ["llm_unavailable"]


def test_a_decline_streams_too(fake_service):
    events = stream(fake_service, {"question": "如何做红烧肉?"})
    assert names(events) == ["citations", "token", "done"]
    assert events[0][1]["citations"] == [] and tokens(events) == DECLINE
    assert events[-1][1]["declined"] is True


def test_the_rewritten_query_comes_first(fake_service):
    history = [{"role": "user", "content": "兰州市委全会审议通过了什么决定？"}]
    events = stream(fake_service, {"question": "它要求什么？", "history": history})
    assert events[0][1]["rewritten_query"] == "它要求什么？（兰州市委全会审议通过了什么决定？）"
    assert events[-1][1]["rewritten_query"] == events[0][1]["rewritten_query"]


@pytest.mark.parametrize(
    ("error", "code"),
    [(RuntimeError("secret internals"), "internal_error"), (NotFound("gone"), "not_found")],
)
def test_an_error_mid_stream_is_an_error_event_in_the_one_shape(make, monkeypatch, error, code):
    service = make(scripted("兰州市委的决定要求抓好基层党组织建设。"))
    real_session = service.verifier.session

    def failing_session(*args, **kwargs):
        session = real_session(*args, **kwargs)

        def feed(delta):
            raise error

        session.feed = feed
        return session

    monkeypatch.setattr(service.verifier, "session", failing_session)
    events = stream(service, {"question": QUESTION})
    assert names(events)[0] == "citations" and names(events)[-1] == "error"
    assert "done" not in names(events)
    body = events[-1][1]
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code and "secret" not in body["error"]["message"]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"question": " "}, 400, "invalid_input"),
        ({"question": "问" * 2001}, 400, "invalid_input"),
        ({"question": 3}, 422, "invalid_request"),
        ({"question": "x", "extra": 1}, 422, "invalid_request"),
    ],
)
def test_errors_before_the_first_event_are_plain_http_errors(fake_service, payload, status, code):
    with TestClient(create_app(Settings(), service=fake_service)) as client:
        r = client.post("/v1/ask/stream", json=payload)
    assert r.status_code == status and r.headers["content-type"] == "application/json"
    assert r.json()["error"]["code"] == code


def test_not_ready_is_503(tmp_path, dictionary):
    models = Models(FakeEmbedder(), dictionary)
    with TestClient(create_app(Settings(index_dir=tmp_path), models=models)) as client:
        r = client.post("/v1/ask/stream", json={"question": "x"})
    assert r.status_code == 503 and r.json()["error"]["code"] == "index_missing"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_client_that_disconnects_stops_generation(make):
    model = Slow(responses=["unused"], tokens=400, delay=0.01)
    app = create_app(Settings(), service=make(model))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        url = f"http://127.0.0.1:{port}/v1/ask/stream"
        with httpx.stream("POST", url, json={"question": QUESTION}, timeout=10) as r:
            for line in r.iter_lines():
                if line.startswith("event: token"):
                    break
        deadline = time.monotonic() + 5
        while not model.closed and time.monotonic() < deadline:
            time.sleep(0.02)
        assert model.closed, "the model's stream was not closed"
        assert model.produced < 100, model.produced
    finally:
        server.should_exit = True
        thread.join(timeout=5)
