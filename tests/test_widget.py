"""The widget's files, CORS from QA_ALLOWED_ORIGINS, and static checks of widget.js.

What the widget does in a browser is tested in ``test_widget_browser``; these run
without one, over the fake service.
"""

from __future__ import annotations

import gzip
import re

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from qa.settings import Settings
from tests.conftest import ROOT

WIDGET = ROOT / "api" / "static" / "widget.js"
ALLOWED = "https://intranet.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


@pytest.fixture
def client(fake_service):
    settings = Settings(allowed_origins=[ALLOWED])
    with TestClient(create_app(settings, service=fake_service)) as c:
        yield c


@pytest.fixture
def same_origin_client(fake_service):
    with TestClient(create_app(Settings(), service=fake_service)) as c:
        yield c


def test_widget_js_is_served_as_javascript_and_revalidated_by_etag(client):
    r = client.get("/widget.js")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-cache"
    assert r.content == WIDGET.read_bytes()
    again = client.get("/widget.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and not again.content
    assert client.head("/widget.js").status_code == 200


def test_the_demo_page_embeds_the_widget_with_one_script_tag(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert re.findall(r"<script[^>]*>", r.text) == ['<script src="/widget.js" defer>']
    assert "/widget.js" not in client.get("/openapi.json").text


def test_a_preflight_from_an_allowed_origin_is_answered(client):
    r = client.options("/v1/ask/stream", headers={"Origin": ALLOWED, **PREFLIGHT})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ALLOWED
    assert set(r.headers["access-control-allow-methods"].split(", ")) == {"GET", "POST"}
    assert "content-type" in r.headers["access-control-allow-headers"].lower()
    assert r.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in r.headers


@pytest.mark.parametrize(
    ("origin", "headers"),
    [
        ("https://elsewhere.example", PREFLIGHT),
        ("https://intranet.example.evil.test", PREFLIGHT),
        ("http://intranet.example", PREFLIGHT),  # another scheme is another origin
        (ALLOWED, {"Access-Control-Request-Method": "DELETE"}),
        (ALLOWED, {**PREFLIGHT, "Access-Control-Request-Headers": "x-custom-thing"}),
    ],
)
def test_a_preflight_from_a_disallowed_origin_or_for_other_methods_is_refused(
    client, origin, headers
):
    r = client.options("/v1/ask/stream", headers={"Origin": origin, **headers})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "cors_refused"
    assert set(r.json()["error"]) == {"code", "message", "detail"}
    assert "access-control-allow-origin" not in r.headers


def test_responses_carry_cors_headers_for_allowed_origins_only(client):
    question = {"question": "兰州市委的决定要求什么?"}
    allowed = client.post("/v1/ask", json=question, headers={"Origin": ALLOWED})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "Retry-After" in allowed.headers["access-control-expose-headers"]
    refused = client.post("/v1/ask", json=question, headers={"Origin": "https://evil.test"})
    assert "access-control-allow-origin" not in refused.headers
    # errors are readable by an allowed page too: the widget shows their message
    error = client.post("/v1/ask", json={"question": " "}, headers={"Origin": ALLOWED})
    assert error.status_code == 400 and error.headers["access-control-allow-origin"] == ALLOWED


def test_a_cross_origin_form_post_cannot_make_the_service_answer(client):
    r = client.post(
        "/v1/ask",
        content='{"question": "兰州市委的决定要求什么?"}',
        headers={"Origin": "https://evil.test", "Content-Type": "text/plain"},
    )
    assert r.status_code == 422 and "access-control-allow-origin" not in r.headers


def test_by_default_only_same_origin_pages_may_call(same_origin_client):
    r = same_origin_client.options(
        "/v1/ask/stream", headers={"Origin": "http://127.0.0.1:9000", **PREFLIGHT}
    )
    assert r.status_code == 403
    same = same_origin_client.get("/v1/documents")  # no Origin: same-origin or not a browser
    assert same.status_code == 200


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        ("https://a.example", ["https://a.example"]),
        (
            " https://A.example/ , http://b.example:8080",
            ["https://a.example", "http://b.example:8080"],
        ),
        (
            '["https://a.example", "http://localhost:3000"]',
            ["https://a.example", "http://localhost:3000"],
        ),
        ("*", ["*"]),
    ],
)
def test_allowed_origins_are_read_as_a_comma_or_json_list(monkeypatch, value, expected):
    monkeypatch.setenv("QA_ALLOWED_ORIGINS", value)
    assert Settings().allowed_origins == expected


@pytest.mark.parametrize(
    "value",
    ["intranet.example", "ftp://a.example", "https://a.example/path", "http://a:port", "[1"],
)
def test_malformed_origins_are_refused(monkeypatch, value):
    monkeypatch.setenv("QA_ALLOWED_ORIGINS", value)
    with pytest.raises(ValidationError):
        Settings()


def test_widget_js_never_parses_text_as_html_nor_evaluates_code():
    source = WIDGET.read_text(encoding="utf-8")
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "DOMParser",
        "createContextualFragment",
        "srcdoc",
        "eval(",
        "new Function",
        'setTimeout("',
    ):
        assert sink not in source, sink


def test_widget_js_names_no_other_host():
    source = WIDGET.read_text(encoding="utf-8")
    urls = set(re.findall(r"https?://[^\s\"'`)]+", source))
    assert urls <= {"http://www.w3.org/2000/svg", "http://HOST/widget.js", "http://HOST"}, urls


def test_widget_js_is_small():
    raw = WIDGET.read_bytes()
    packed = gzip.compress(raw, compresslevel=9)
    print(f"\nwidget.js: {len(raw)} bytes, {len(packed)} gzipped")
    assert len(raw) < 56_000 and len(packed) < 15_000


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_browser_tests_without_chromium_skip_locally_but_fail_in_ci(
    monkeypatch, tmp_path, ci, outcome
):
    from tests import browser

    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no-chromium"):
        browser.require_chromium()
