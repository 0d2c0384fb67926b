"""The admin knowledge-base page's files and its admin endpoints, over fakes (no browser).

The page at ``/admin`` is public; every endpoint it calls needs an admin key.  What the
page does in a browser is tested in ``test_kb_browser``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import types
from dataclasses import asdict

import pytest
from fastapi.testclient import TestClient

from api import admin, kb
from api.app import create_app
from index import build
from qa.runtime import Models
from qa.settings import Settings
from tests.conftest import ROOT
from tests.fakes import FakeEmbedder

ADMIN = "admin-secret-0123456789"
READER = "reader-secret-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
LANZHOU = "兰州市委的决定要求什么？"
STATIC = ROOT / "api" / "static"


@pytest.fixture
def client(fake_service):
    settings = Settings(api_keys=f"portal:{READER}", admin_keys=f"root:{ADMIN}", rate_limit=0)
    with TestClient(create_app(settings, service=fake_service)) as c:
        yield c


@pytest.fixture
def writer(fake_index_dir, tmp_path, dictionary):
    """An app that can change its own copy of the fake index (models given, as served)."""
    index_dir = shutil.copytree(fake_index_dir, tmp_path / "index")
    settings = Settings(
        index_dir=index_dir,
        admin_keys=f"root:{ADMIN}",
        rate_limit=0,
        reload_interval=0,
        crosslingual_encoder="none",
        min_dense_score=0.6,
        max_chunks_per_doc=5,
    )
    with TestClient(create_app(settings, models=Models(FakeEmbedder(), dictionary))) as c:
        yield c


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


# ---- the page --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name", "media"),
    [("/admin", "admin.html", "text/html"), ("/admin.js", "admin.js", "text/javascript")],
)
def test_the_page_files_are_public_and_revalidated_by_etag(client, path, name, media):
    r = client.get(path)  # no key, although reader and admin keys are configured
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == f"{media}; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.content == (STATIC / name).read_bytes()
    again = client.get(path, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and not again.content
    assert client.head(path).status_code == 200
    assert path not in client.get("/openapi.json").json()["paths"]


def test_the_page_loads_only_its_own_script_under_a_strict_policy(client):
    r = client.get("/admin")
    html = r.text
    assert re.findall(r"<script[^>]*>", html) == ['<script src="admin.js" defer>']
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from elsewhere
    policy = r.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    (style,) = re.findall(r"<style>(.*?)</style>", html, flags=re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy


def test_the_document_filter_is_labelled_and_tied_to_the_table():
    html = (STATIC / "admin.html").read_text(encoding="utf-8")
    assert '<label for="doc-filter">Filter documents</label>' in html
    (field,) = re.findall(r'<input id="doc-filter"[^>]*>', html, flags=re.DOTALL)
    assert 'type="search"' in field and 'aria-controls="docs-body"' in field
    assert 'aria-describedby="docs-count"' in field and 'id="docs-count"' in html


def test_the_script_writes_service_text_as_text_only():
    script = (STATIC / "admin.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "eval(" not in script and "http://" not in script and "https://" not in script
    assert "Authorization: `Bearer ${key}`" in script and "const key = state.key;" in script
    assert "sessionStorage" in script and "localStorage" not in script


# ---- listing and reading ---------------------------------------------------------------


def test_listing_the_documents_needs_an_admin_key(client):
    error_of(client.get("/v1/admin/documents"), 401, "unauthorized")
    reader = {"Authorization": f"Bearer {READER}"}
    error_of(client.get("/v1/admin/documents", headers=reader), 403, "forbidden")
    error_of(client.get("/v1/admin/documents/x", headers=reader), 403, "forbidden")


def test_the_list_has_every_document_with_its_chunks_and_format(client):
    r = client.get("/v1/admin/documents", headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == client.get("/readyz").json()["index_version"]
    assert body["max_upload_bytes"] == Settings().max_upload_bytes
    listed = {d["id"]: d for d in body["documents"]}
    public = client.get("/v1/documents", headers=AUTH).json()["documents"]
    assert set(listed) == {d["id"] for d in public} and len(listed) == 5
    for doc in public:
        mine = listed[doc["id"]]
        assert mine["chunks"] == doc["chunks"] > 0
        assert (mine["title"], mine["outlet"], mine["date"]) == (
            doc["title"],
            doc["outlet"],
            doc["date"],
        )
        assert mine["format"] in ("txt", "md", "html") and mine["source"]
        assert mine["ingested_at"] and isinstance(mine["warnings"], list)


def test_one_document_comes_with_its_text(client):
    first = client.get("/v1/admin/documents", headers=AUTH).json()["documents"][0]
    r = client.get(f"/v1/admin/documents/{first['id']}", headers=AUTH)
    assert r.status_code == 200, r.text
    doc = r.json()
    public = client.get(f"/v1/documents/{first['id']}", headers=AUTH).json()
    assert doc["text"] == public["text"] and doc["page_starts"] == []
    assert {k: doc[k] for k in first} == first
    error = error_of(client.get("/v1/admin/documents/no-such-doc", headers=AUTH), 404, "not_found")
    assert "no-such-doc" in error["message"]


def test_page_fields_are_shown_once_the_index_records_them(client, fake_service):
    """Documents converted from PDF or DOCX carry a format, pages, page starts and warnings."""
    doc_id, info = next(iter(fake_service.index.documents.items()))
    paged = {
        **asdict(info),
        "fmt": "pdf",
        "pages": 2,
        "page_starts": (0, 40),
        "warnings": ("page 2: scanned, read by OCR",),
    }
    fake_service.index.documents[doc_id] = types.SimpleNamespace(**paged)
    listed = client.get("/v1/admin/documents", headers=AUTH).json()["documents"]
    mine = next(d for d in listed if d["id"] == doc_id)
    assert (mine["format"], mine["pages"]) == ("pdf", 2)
    assert mine["warnings"] == ["page 2: scanned, read by OCR"]
    doc = client.get(f"/v1/admin/documents/{doc_id}", headers=AUTH).json()
    assert doc["page_starts"] == [0, 40] and doc["pages"] == 2


def test_other_methods_on_the_document_paths_name_every_one_they_take(client):
    for path, allowed in (
        ("/v1/admin/documents", {"GET", "POST"}),
        ("/v1/admin/documents/004", {"GET", "DELETE"}),
    ):
        r = client.patch(path, headers=AUTH)
        error_of(r, 405, "method_not_allowed")
        assert allowed <= {m.strip() for m in r.headers["allow"].split(",")}


def test_an_empty_index_is_reported_as_such_and_the_first_upload_makes_one(tmp_path, dictionary):
    """What the page relies on to point at its upload box rather than at `qa ingest`."""
    settings = Settings(
        index_dir=tmp_path / "index",
        admin_keys=f"root:{ADMIN}",
        rate_limit=0,
        reload_interval=0,
        crosslingual_encoder="none",
    )
    with TestClient(create_app(settings, models=Models(FakeEmbedder(), dictionary))) as c:
        error_of(c.get("/v1/admin/documents", headers=AUTH), 503, "index_missing")
        body = {"question": LANZHOU}
        error_of(c.post("/v1/admin/search", json=body, headers=AUTH), 503, "index_missing")
        # the key is checked first: a refused key is told so, index or not
        wrong = {"Authorization": "Bearer not-the-admin-key-0123"}
        error_of(c.get("/v1/admin/documents", headers=wrong), 401, "unauthorized")
        upload = {
            "name": "baiyin.md",
            "content": "# 白银市新建湿地公园\n\n白银市决定新建三处湿地公园。\n",
        }
        added = c.post("/v1/admin/documents", json={"documents": [upload]}, headers=AUTH)
        assert added.status_code == 200 and added.json()["added"] == ["baiyin"], added.text
        listed = c.get("/v1/admin/documents", headers=AUTH).json()["documents"]
        assert [d["id"] for d in listed] == ["baiyin"]


# ---- trying a question -----------------------------------------------------------------


def test_search_returns_ranked_passages_with_their_scores(client):
    r = client.post("/v1/admin/search", json={"question": LANZHOU, "top_k": 3}, headers=AUTH)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["relevant"] is True and result["language"] == "zh-Hans"
    assert result["keywords"] and 0 < result["min_dense_score"] <= 1
    hits = result["hits"]
    assert 1 <= len(hits) <= 3 and [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert any("兰州" in h["text"] for h in hits)
    for hit in hits:
        assert hit["chunk_id"].startswith(hit["doc_id"] + "#")
        assert -1 <= hit["dense"] <= 1 and 0 <= hit["coverage"] <= 1
        text = client.get(f"/v1/documents/{hit['doc_id']}", headers=AUTH).json()["text"]
        assert text[hit["start"] : hit["end"]] == hit["text"]


def test_search_that_nothing_answers_says_the_service_would_decline(client):
    r = client.post("/v1/admin/search", json={"question": "如何做红烧肉？"}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["relevant"] is False and len(r.json()["hits"]) <= 10


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"question": "   "}, 400, "invalid_input"),
        ({"question": ""}, 400, "invalid_input"),
        ({"question": "问" * 2001}, 400, "invalid_input"),
        ({"question": "兰州", "top_k": 51}, 422, "invalid_request"),
        ({"question": "兰州", "top_k": 0}, 422, "invalid_request"),
        ({"question": "兰州", "answer": True}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
    ],
)
def test_bad_searches_get_the_error_shape(client, payload, status, code):
    error_of(client.post("/v1/admin/search", json=payload, headers=AUTH), status, code)


def test_search_needs_an_admin_key(client):
    body = {"question": LANZHOU}
    error_of(client.post("/v1/admin/search", json=body), 401, "unauthorized")
    reader = {"Authorization": f"Bearer {READER}"}
    error_of(client.post("/v1/admin/search", json=body, headers=reader), 403, "forbidden")


# ---- re-ingest -------------------------------------------------------------------------


def test_reingest_of_an_unknown_document_is_404(client, writer):
    for c in (client, writer):
        r = c.post("/v1/admin/documents/no-such-doc/reingest", headers=AUTH)
        assert "no-such-doc" in error_of(r, 404, "not_found")["message"]


def test_reingest_of_a_document_whose_original_was_not_kept_is_404(writer):
    """The fake index was built without keeping originals."""
    doc_id = writer.get("/v1/admin/documents", headers=AUTH).json()["documents"][0]["id"]
    r = writer.post(f"/v1/admin/documents/{doc_id}/reingest", headers=AUTH)
    assert "not kept" in error_of(r, 404, "not_found")["message"]


def test_reingest_calls_the_index_and_serves_what_it_published(writer, monkeypatch):
    calls = []

    def reingest(destination, doc_id, embedder, params, **options):
        calls.append((destination, doc_id, embedder, params, options))
        return build.Report(replaced=[doc_id], chunks_embedded=3, seconds=0.5, version="v-x")

    monkeypatch.setattr(admin, "reingest_document", reingest)
    doc_id = writer.get("/v1/admin/documents", headers=AUTH).json()["documents"][0]["id"]
    r = writer.post(f"/v1/admin/documents/{doc_id}/reingest", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["replaced"] == [doc_id] and r.json()["chunks_embedded"] == 3
    ((_, called_id, embedder, _, options),) = calls
    assert called_id == doc_id and isinstance(embedder, FakeEmbedder)
    assert set(options) == {"ann", "aux", "cache_dir", "originals", "ocr"}
    assert options["ocr"] is writer.app.state.ocr and options["ocr"].threads == 1


def test_an_upload_keeps_its_original_and_is_reingested_from_it(writer):
    article = "# 白银市新建湿地公园\n\n白银市决定新建三处湿地公园。\n"
    upload = {"name": "baiyin.md", "content": article}
    added = writer.post("/v1/admin/documents", json={"documents": [upload]}, headers=AUTH)
    assert added.json()["added"] == ["baiyin"], added.text
    r = writer.post("/v1/admin/documents/baiyin/reingest", headers=AUTH)
    assert r.status_code == 200, r.text
    report = r.json()
    assert not report["failed"] and report["replaced"] == ["baiyin"], report
    assert report["warnings"] == [] and report["version"]
    assert writer.get("/v1/admin/documents/baiyin", headers=AUTH).json()["chunks"] > 0
    removed = writer.delete("/v1/admin/documents/baiyin", headers=AUTH)
    assert removed.json()["removed"] == ["baiyin"]
    error_of(writer.post("/v1/admin/documents/baiyin/reingest", headers=AUTH), 404, "not_found")


# ---- the schema ------------------------------------------------------------------------


def test_the_endpoints_are_documented_with_the_error_shape(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in (
        ("/v1/admin/documents", "get"),
        ("/v1/admin/documents/{doc_id}", "get"),
        ("/v1/admin/documents/{doc_id}/reingest", "post"),
        ("/v1/admin/search", "post"),
    ):
        responses = paths[path][method]["responses"]
        for status in ("401", "403", "404", "422"):
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (path, status)
    assert kb.SearchRequest.model_json_schema()["properties"]["top_k"]["maximum"] == 50
