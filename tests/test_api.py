"""HTTP API over a service built from fakes; every error path has the one error shape."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.runtime import Models
from qa.settings import Settings
from tests.fakes import FakeEmbedder


@pytest.fixture
def client(fake_service):
    with TestClient(create_app(Settings(), service=fake_service)) as c:
        yield c


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_ask_returns_answer_with_citations(client):
    r = client.post("/v1/ask", json={"question": "兰州市委的决定要求什么?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"answer_id", "answer", "citations", "language", "declined", "timings_ms"}
    assert body["language"] == "zh-Hans" and not body["declined"]
    assert set(body["timings_ms"]) == {"retrieve", "answer", "total"}
    assert body["citations"], body
    first = body["citations"][0]
    assert f"[{first['n']}]" in body["answer"]
    doc = client.get(f"/v1/documents/{first['doc_id']}").json()
    assert doc["text"][first["start"] : first["end"]] == first["quote"]
    assert doc["text"][first["passage_start"] : first["passage_end"]] == first["passage"]


def test_top_k_is_honoured(client):
    r = client.post("/v1/ask", json={"question": "基层党组织", "top_k": 1})
    assert r.status_code == 200
    assert len({c["chunk_id"] for c in r.json()["citations"]}) <= 1


def test_documents_list_and_detail(client):
    docs = client.get("/v1/documents").json()["documents"]
    assert len(docs) == 5
    assert all(d["chunks"] > 0 for d in docs)
    fields = {"id", "title", "date", "outlet", "origin", "author", "format", "pages", "chunks"}
    assert fields == set(docs[0])
    assert {d["format"] for d in docs} == {"txt"} and {d["pages"] for d in docs} == {None}
    detail = client.get(f"/v1/documents/{docs[0]['id']}").json()
    assert detail["id"] == docs[0]["id"] and detail["text"] and detail["page_starts"] == []


def test_health_and_ready(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["documents"] == 5


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"question": ""}, 400, "invalid_input"),
        ({"question": "   \n\t "}, 400, "invalid_input"),
        ({"question": "问" * 2001}, 400, "invalid_input"),
        ({"question": 42}, 422, "invalid_request"),
        ({"question": ["a"]}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
        ({"question": "ok", "top_k": 0}, 422, "invalid_request"),
        ({"question": "ok", "top_k": "five"}, 422, "invalid_request"),
        ({"question": "ok", "unexpected": 1}, 422, "invalid_request"),
        (["question"], 422, "invalid_request"),
    ],
)
def test_bad_questions_get_clear_4xx(client, payload, status, code):
    error = assert_error(client.post("/v1/ask", json=payload), status, code)
    if code == "invalid_request":
        assert error["detail"]


def test_malformed_json_is_400(client):
    r = client.post(
        "/v1/ask", content=b'{"question": "x"', headers={"content-type": "application/json"}
    )
    assert_error(r, 400, "malformed_json")


def test_unknown_document_route_and_method(client):
    error = assert_error(client.get("/v1/documents/does-not-exist"), 404, "not_found")
    assert "does-not-exist" in error["message"]
    assert_error(client.get("/v1/nope"), 404, "not_found")
    assert_error(client.get("/v1/ask"), 405, "method_not_allowed")


def test_unexpected_errors_are_500_without_internals(fake_service, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(fake_service, "ask", boom)
    app = create_app(Settings(), service=fake_service)
    with TestClient(app, raise_server_exceptions=False) as c:
        error = assert_error(c.post("/v1/ask", json={"question": "x"}), 500, "internal_error")
    assert "secret" not in error["message"]


def test_not_ready_when_the_index_is_missing(tmp_path, dictionary):
    models = Models(FakeEmbedder(), dictionary)
    with TestClient(create_app(Settings(index_dir=tmp_path), models=models)) as c:
        assert c.get("/healthz").status_code == 200
        assert_error(c.get("/readyz"), 503, "index_missing")
        assert_error(c.post("/v1/ask", json={"question": "x"}), 503, "index_missing")
        assert_error(c.get("/v1/documents"), 503, "index_missing")


def test_openapi_is_served(client):
    spec = client.get("/openapi.json").json()
    assert "/v1/ask" in spec["paths"]
    assert client.get("/docs").status_code == 200
