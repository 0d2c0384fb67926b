"""Request ids, structured logs without question text, and the Prometheus metrics."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.observability import JsonFormatter, RequestIdFilter
from qa.settings import Settings
from tests.llm_fakes import broken, llm_service, scripted, server_error

QUESTION = "兰州市委的决定要求什么?"


@pytest.fixture
def logs():
    """Everything logged while the test runs, as the server writes it (JSON lines)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def client_for(service, **settings) -> TestClient:
    return TestClient(create_app(Settings(rate_limit=0, **settings), service=service))


def test_every_response_carries_a_request_id_and_a_sane_given_one_is_kept(fake_service):
    with client_for(fake_service) as c:
        made = c.get("/healthz").headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)
        assert c.get("/healthz").headers["x-request-id"] != made
        kept = c.get("/healthz", headers={"X-Request-ID": "trace-42.a:b"})
        assert kept.headers["x-request-id"] == "trace-42.a:b"
        for bad in ("x" * 65, "has space", "new\\nline"):
            r = c.get("/healthz", headers={"X-Request-ID": bad})
            assert r.headers["x-request-id"] != bad
        error = c.get("/v1/documents/nope")
        assert error.status_code == 404 and error.headers["x-request-id"]


def test_logs_are_json_lines_with_the_request_id_and_no_question_text(fake_service, logs):
    with client_for(fake_service) as c:
        r = c.post("/v1/ask", json={"question": QUESTION}, headers={"X-Request-ID": "req-1"})
    assert r.status_code == 200
    lines = logs()
    mine = [line for line in lines if line.get("request_id") == "req-1"]
    access = next(line for line in mine if line["logger"] == "article_qa.access")
    assert access["method"] == "POST" and access["path"] == "/v1/ask"
    assert access["status"] == 200 and access["ms"] > 0
    question = next(line for line in mine if line["message"] == "question")
    assert question["question_chars"] == len(QUESTION) and "question" not in question
    assert QUESTION not in json.dumps(lines, ensure_ascii=False)


def test_question_text_is_logged_only_when_enabled(fake_service, logs):
    with client_for(fake_service, log_questions=True) as c:
        c.post("/v1/ask", json={"question": QUESTION})
    assert any(line.get("question") == QUESTION for line in logs())


def samples(client) -> dict[tuple[str, tuple], float]:
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_count_requests_stages_declines_and_the_index(fake_service):
    with client_for(fake_service) as c:
        c.post("/v1/ask", json={"question": QUESTION})
        c.post("/v1/ask", json={"question": "如何做红烧肉?"})
        c.get("/v1/documents/nope")
        m = samples(c)
    req = ("qa_http_requests_total", (("method", "POST"), ("route", "/v1/ask"), ("status", "200")))
    assert m[req] == 2
    missing = (("method", "GET"), ("route", "/v1/documents/{doc_id}"), ("status", "404"))
    assert m[("qa_http_requests_total", missing)] == 1
    answered = (("language", "zh-Hans"), ("outcome", "answered"))
    declined = (("language", "zh-Hans"), ("outcome", "declined"))
    assert m[("qa_answers_total", answered)] == 1 and m[("qa_answers_total", declined)] == 1
    for stage in ("retrieve", "answer", "total"):
        assert m[("qa_answer_stage_duration_seconds_count", (("stage", stage),))] == 2
    assert m[("qa_index_documents", ())] == len(fake_service.index.documents)
    assert m[("qa_index_chunks", ())] == len(fake_service.index.chunks)
    assert m[("qa_index_version", ())] == int(fake_service.index.version.lstrip("v"))
    assert m[("qa_answers_in_progress", ())] == 0 and m[("qa_answers_queued", ())] == 0


def test_metrics_count_llm_errors_and_citation_corrections(fake_index_dir, dictionary):
    failing = llm_service(fake_index_dir, dictionary, broken(server_error()))
    with client_for(failing) as c:
        c.post("/v1/ask", json={"question": QUESTION})
        assert samples(c)[("qa_llm_errors_total", ())] == 1
    miscited = llm_service(
        fake_index_dir, dictionary, scripted("兰州市将在2030年前建成十座机场[1]。")
    )
    with client_for(miscited) as c:
        c.post("/v1/ask", json={"question": QUESTION})
        m = samples(c)
    assert m[("qa_citation_checks_total", (("result", "checked"),))] >= 1
    assert m[("qa_citation_checks_total", (("result", "unsupported"),))] >= 1
