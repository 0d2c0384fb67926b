"""``/v1/chat/completions`` and ``/v1/models`` through the official OpenAI client and raw HTTP."""

from __future__ import annotations

import openai
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.settings import Settings
from tests.llm_fakes import LANZHOU, llm_service, scripted
from tests.sse import read_events

QUESTION = "兰州市委的决定要求什么?"
PLENARY = (
    "刚刚召开的中国共产党兰州市第十四届委员会第八次全体会议,审议通过了《中共兰州市委关于"
    "切实发挥基层党组织战斗堡垒作用推进基层党组织全面进步全面过硬的决定》。"
)


@pytest.fixture
def client(fake_service):
    with TestClient(create_app(Settings(), service=fake_service)) as c:
        yield c


@pytest.fixture
def llm_client(fake_index_dir, dictionary):
    def build(chat_model):
        service = llm_service(fake_index_dir, dictionary, chat_model)
        return TestClient(create_app(Settings(), service=service))

    return build


def sdk(client: TestClient) -> openai.OpenAI:
    return openai.OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=client)


def test_the_openai_client_gets_an_answer_with_its_citations(client):
    reply = sdk(client).chat.completions.create(
        model="article-qa", messages=[{"role": "user", "content": QUESTION}]
    )
    content = reply.choices[0].message.content
    answer = client.post("/v1/ask", json={"question": QUESTION}).json()
    assert content.startswith(answer["answer"])
    assert "来源：" in content and f"- [1] {answer['citations'][0]['title']}" in content
    extra = reply.model_extra
    assert extra["citations"] == answer["citations"]
    assert extra["citations"][0]["doc_id"] == LANZHOU
    assert extra["article_qa"]["answer"] == answer["answer"]
    assert reply.choices[0].finish_reason == "stop" and reply.model == "article-qa"
    assert reply.usage.completion_tokens > 0


def test_the_openai_client_streams_the_same_answer(client):
    plain = sdk(client).chat.completions.create(
        model="article-qa", messages=[{"role": "user", "content": QUESTION}]
    )
    chunks = list(
        sdk(client).chat.completions.create(
            model="article-qa", messages=[{"role": "user", "content": QUESTION}], stream=True
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == plain.choices[0].message.content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"] == plain.model_extra["citations"]
    assert last.model_extra["article_qa"]["answer"] == plain.model_extra["article_qa"]["answer"]


def test_the_raw_stream_ends_with_done(client):
    body = {
        "model": "article-qa",
        "messages": [{"role": "user", "content": QUESTION}],
        "stream": True,
    }
    with client.stream("POST", "/v1/chat/completions", json=body) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = list(read_events(r.iter_lines()))
    assert all(name is None for name, _ in events)
    assert events[-1][1] == "[DONE]"
    assert all(e["object"] == "chat.completion.chunk" for _, e in events[:-1])


def test_earlier_messages_are_the_conversation(client):
    messages = [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "兰州市委全会审议通过了什么决定？"},
        {"role": "assistant", "content": "……"},
        {"role": "user", "content": [{"type": "text", "text": "它要求什么？"}]},
    ]
    reply = sdk(client).chat.completions.create(model="article-qa", messages=messages)
    info = reply.model_extra["article_qa"]
    assert info["rewritten_query"] == "它要求什么？（兰州市委全会审议通过了什么决定？）"
    assert reply.model_extra["citations"][0]["doc_id"] == LANZHOU


def test_a_generated_answer_streams_checked_text(llm_client):
    reply = f"{PLENARY}[7]兰州市将在2030年前建成十座机场[1]。"
    with llm_client(scripted(reply)) as client:
        chunks = list(
            sdk(client).chat.completions.create(
                model="article-qa", messages=[{"role": "user", "content": QUESTION}], stream=True
            )
        )
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    info = chunks[-1].model_extra["article_qa"]
    assert text.startswith(info["answer"]) and "[7]" not in text
    assert info["verification"]["checked"] == 2 and info["verification"]["corrected"] == 1
    assert text.endswith("得不到文章支持的句子：\n- 兰州市将在2030年前建成十座机场")


def test_an_llm_failure_is_noted_in_the_content(llm_client):
    with llm_client(scripted("兰州市委的决定要求很多。", error_on_chunk_number=3)) as client:
        plain = sdk(client).chat.completions.create(
            model="article-qa", messages=[{"role": "user", "content": QUESTION}]
        )
    note = "> 语言模型暂时无法使用，以下回答直接引用文章原文。"
    assert plain.model_extra["article_qa"]["mode"] == "llm"  # the plain call used invoke
    with llm_client(scripted("兰州市委的决定要求很多。", error_on_chunk_number=3)) as client:
        chunks = list(
            sdk(client).chat.completions.create(
                model="article-qa", messages=[{"role": "user", "content": QUESTION}], stream=True
            )
        )
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert note in text and text.count(note) == 1
    assert chunks[-1].model_extra["article_qa"]["mode"] == "extractive"


def test_models_lists_article_qa(client):
    models = sdk(client).models.list()
    assert [m.id for m in models.data] == ["article-qa"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}, 404, "not_found"),
        ({"model": "article-qa", "messages": []}, 422, "invalid_request"),
        (
            {"model": "article-qa", "messages": [{"role": "user", "content": "x"}], "n": 2},
            422,
            "invalid_request",
        ),
        (
            {"model": "article-qa", "messages": [{"role": "assistant", "content": "x"}]},
            400,
            "invalid_input",
        ),
        (
            {"model": "article-qa", "messages": [{"role": "system", "content": "x"}]},
            400,
            "invalid_input",
        ),
        (
            {"model": "article-qa", "messages": [{"role": "user", "content": ""}]},
            400,
            "invalid_input",
        ),
        (
            {"model": "article-qa", "messages": [{"role": "wizard", "content": "x"}]},
            422,
            "invalid_request",
        ),
        ({"messages": [{"role": "user", "content": "x"}]}, 422, "invalid_request"),
    ],
)
def test_errors_have_the_one_shape(client, body, status, code):
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) == {"code", "message", "detail"} and error["code"] == code


def test_the_sdk_raises_on_an_error(client):
    with pytest.raises(openai.NotFoundError) as caught:
        sdk(client).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}]
        )
    assert "article-qa" in str(caught.value)


def test_unknown_options_are_accepted(client):
    body = {
        "model": "article-qa",
        "messages": [{"role": "user", "content": QUESTION}],
        "temperature": 0.2,
        "max_tokens": 100,
        "stream_options": {"include_usage": True},
        "user": "someone",
    }
    assert client.post("/v1/chat/completions", json=body).status_code == 200


def test_a_completion_id_is_the_answer_id_feedback_refers_to(fake_service, tmp_path):
    settings = Settings(feedback_path=tmp_path / "feedback.sqlite3")
    question = {"role": "user", "content": "兰州市委的决定要求什么?"}
    body = {"model": "article-qa", "messages": [question]}
    with TestClient(create_app(settings, service=fake_service)) as client:
        done = client.post("/v1/chat/completions", json=body).json()
        assert done["id"].startswith("chatcmpl-")
        assert done["article_qa"]["answer_id"] == done["id"]
        rated = client.post("/v1/feedback", json={"answer_id": done["id"], "rating": "up"})
    assert rated.status_code == 201
