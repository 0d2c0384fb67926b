"""Follow-up questions: the heuristic rewrite, the LLM rewrite and its fallback, the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.answering.conversation import HeuristicRewriter, Message, standalone
from qa.answering.llm import LLMRewriter
from qa.settings import Settings
from tests.llm_fakes import LANZHOU, broken, connection_refused, llm_service, recording


@pytest.mark.parametrize(
    ("previous", "question", "expected"),
    [
        # ellipsis: the new topic replaces the previous question's term of the same kind
        (
            "兰州市是怎样加强基层党组织建设的？",
            "那朝阳区呢？",
            "朝阳区是怎样加强基层党组织建设的？",
        ),
        ("兰州市委的决定要求什么？", "那朝阳区呢？", "朝阳区委的决定要求什么？"),
        (
            "蘭州市是怎樣加強基層黨組織建設的？",
            "那朝陽區呢？",
            "朝陽區是怎樣加強基層黨組織建設的？",
        ),
        ("细胞工程是什么？", "那头雁工程呢？", "头雁工程是什么？"),
        ("兰州市委的决定要求什么？", "那四大工程呢？", "关于四大工程，兰州市委的决定要求什么？"),
        (
            "What does the Lanzhou decision require?",
            "And what about the four projects?",
            "What does the Lanzhou decision require regarding the four projects?",
        ),
        (
            "How did Lanzhou strengthen grassroots Party building?",
            "What about Chaoyang District?",
            "How did Chaoyang District strengthen grassroots Party building?",
        ),
        ("What is the cell project?", "And the vanguard project?", "What is the vanguard project?"),
        # anaphora, continuations and bare questions get the previous question as context
        ("兰州市委作出了什么决定？", "它要求什么？", "它要求什么？（兰州市委作出了什么决定？）"),
        ("兰州市委的决定要求什么？", "为什么？", "为什么？（兰州市委的决定要求什么？）"),
        (
            "兰州市委的决定要求什么？",
            "具体措施有哪些？",
            "具体措施有哪些？（兰州市委的决定要求什么？）",
        ),
        (
            "What is the Lanzhou decision?",
            "What does it require?",
            "What does it require? (What is the Lanzhou decision?)",
        ),
        (
            "What does the Lanzhou decision require?",
            "Why?",
            "Why? (What does the Lanzhou decision require?)",
        ),
        # standalone questions stay as they are
        ("兰州市委的决定要求什么？", "城市基层党建为什么重要？", "城市基层党建为什么重要？"),
        (
            "What does the Lanzhou decision require?",
            "Who issued the opinions on urban Party building?",
            "Who issued the opinions on urban Party building?",
        ),
    ],
)
def test_heuristic_rewrites(previous, question, expected):
    assert standalone(question, previous) == expected


def test_a_chain_of_follow_ups_resolves_oldest_first():
    history = [
        Message("user", "兰州市是怎样加强党的建设的？"),
        Message("assistant", "兰州市……[1]"),
        Message("user", "那光山县呢？"),
        Message("assistant", "光山县……[2]"),
    ]
    rewrite = HeuristicRewriter().rewrite("那朝阳区呢？", history)
    assert rewrite.query == "朝阳区是怎样加强党的建设的？" and rewrite.notices == ()


def test_without_a_previous_question_nothing_changes():
    only_answers = [Message("assistant", "你好！")]
    assert HeuristicRewriter().rewrite("那朝阳区呢？", only_answers).query == "那朝阳区呢？"


HISTORY = [
    Message("user", "兰州市是怎样加强党的建设的？"),
    Message("assistant", "兰州市抓实抓好四大工程[1]。" + "很长的回答" * 200),
]


def test_the_llm_rewrite_sees_the_conversation_and_is_cleaned():
    model = recording("Standalone question: “朝阳区是怎样加强党的建设的？”\n")
    rewrite = LLMRewriter(model, HeuristicRewriter()).rewrite("那朝阳区呢？", HISTORY)
    assert rewrite.query == "朝阳区是怎样加强党的建设的？" and rewrite.notices == ()
    prompt = model.seen[0][0].content
    assert "User: 兰州市是怎样加强党的建设的？" in prompt
    assert "Assistant: 兰州市抓实抓好四大工程。" in prompt and "[1]" not in prompt
    assert len(prompt) < 1500  # long answers are cut
    assert prompt.rstrip().endswith("Last question: 那朝阳区呢？")


@pytest.mark.parametrize(
    "model",
    [broken(connection_refused()), recording(""), recording("很长" * 400)],
    ids=["refused", "empty", "too-long"],
)
def test_a_failed_llm_rewrite_falls_back_to_the_heuristic_with_a_notice(model):
    rewrite = LLMRewriter(model, HeuristicRewriter()).rewrite("那朝阳区呢？", HISTORY)
    assert rewrite.query == "朝阳区是怎样加强党的建设的？"
    assert [n.code for n in rewrite.notices] == ["rewrite_fallback"]
    assert rewrite.notices[0].message == "追问是在没有语言模型的情况下理解的。"


def test_the_llm_sees_only_recent_history():
    model = recording("朝阳区是怎样加强党的建设的？")
    old = [Message("user", "很久以前的问题？"), Message("assistant", "很久以前的回答。")]
    LLMRewriter(model, HeuristicRewriter(), history_messages=2).rewrite(
        "那朝阳区呢？", old + HISTORY
    )
    assert "很久以前" not in model.seen[0][0].content


@pytest.fixture
def client(fake_service):
    with TestClient(create_app(Settings(), service=fake_service)) as c:
        yield c


def test_ask_with_history_returns_the_rewritten_query(client):
    history = [
        {"role": "user", "content": "兰州市委全会审议通过了什么决定？"},
        {"role": "assistant", "content": "审议通过了……的决定。[1]"},
    ]
    r = client.post("/v1/ask", json={"question": "它要求什么？", "history": history})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rewritten_query"] == "它要求什么？（兰州市委全会审议通过了什么决定？）"
    assert body["citations"][0]["doc_id"] == LANZHOU and "mode" not in body
    assert "rewritten_query" not in client.post("/v1/ask", json={"question": "它要求什么？"}).json()


def test_the_llm_rewrite_is_used_for_retrieval(fake_index_dir, dictionary):
    model = recording("兰州市委全会审议通过的决定要求什么？", "兰州……[1]")
    service = llm_service(fake_index_dir, dictionary, model)
    answer = service.ask(
        "它要求什么？", history=[Message("user", "兰州市委全会审议通过了什么决定？")]
    )
    assert answer.rewritten_query == "兰州市委全会审议通过的决定要求什么？"
    assert "Question: 兰州市委全会审议通过的决定要求什么？" in model.seen[1][1].content


@pytest.mark.parametrize(
    "history",
    [
        [{"role": "system", "content": "x"}],
        [{"role": "user", "content": "x" * 20_001}],
        [{"role": "user", "content": "x"}] * 101,
        [{"role": "user"}],
    ],
    ids=["role", "too-long", "too-many", "no-content"],
)
def test_invalid_history_is_422_in_the_one_error_shape(client, history):
    r = client.post("/v1/ask", json={"question": "它要求什么？", "history": history})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_request" and r.json()["error"]["detail"]
