"""API keys: roles, hashed keys, widget keys bound to origins, open asking, admin off by default."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api import access, cli
from api.app import create_app
from qa.settings import Settings

READER = "reader-secret-0123456789"
ADMIN = "admin-secret-0123456789"
WIDGET = "widget-secret-0123456789"
PAGE = "https://wiki.intranet.example"
ASK = {"question": "兰州市委的决定要求什么?"}


def keyed_settings(**extra) -> Settings:
    _, hashed = access.new_key("ops")  # a second admin key, stored only as its hash
    return Settings(
        api_keys=f"portal:{READER}",
        admin_keys=[f"root:sha256:{access.digest(ADMIN).hex()}", hashed],
        widget_keys=f"wiki:{WIDGET}@{PAGE}|https://other.example",
        rate_limit=0,
        **extra,
    )


@pytest.fixture
def keyed(fake_service):
    with TestClient(create_app(keyed_settings(), service=fake_service)) as c:
        yield c


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    return error


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_without_a_key_the_ask_endpoints_are_closed_when_keys_exist(keyed):
    r = keyed.post("/v1/ask", json=ASK)
    error_of(r, 401, "unauthorized")
    assert r.headers["www-authenticate"] == "Bearer"
    error_of(keyed.get("/v1/documents"), 401, "unauthorized")
    error_of(keyed.post("/v1/ask/stream", json=ASK), 401, "unauthorized")
    error_of(keyed.get("/v1/models"), 401, "unauthorized")
    error_of(
        keyed.post("/v1/ask", json=ASK, headers=bearer("not-a-key-at-all-xyz")), 401, "unauthorized"
    )


def test_public_paths_need_no_key(keyed):
    for path in ("/healthz", "/readyz", "/", "/widget.js", "/openapi.json", "/docs"):
        assert keyed.get(path).status_code == 200, path


def test_reader_and_admin_keys_ask_by_bearer_or_header(keyed):
    assert keyed.post("/v1/ask", json=ASK, headers=bearer(READER)).status_code == 200
    assert keyed.post("/v1/ask", json=ASK, headers={"X-API-Key": READER}).status_code == 200
    assert keyed.post("/v1/ask", json=ASK, headers=bearer(ADMIN)).status_code == 200


def test_admin_endpoints_need_an_admin_key(keyed):
    error_of(keyed.post("/v1/admin/reload"), 401, "unauthorized")
    error_of(keyed.post("/v1/admin/reload", headers=bearer(READER)), 403, "forbidden")
    headers = {**bearer(WIDGET), "Origin": PAGE}
    error_of(keyed.post("/v1/admin/reload", headers=headers), 403, "forbidden")
    # an injected service has no models to reload with: admin passes, the route says why not
    error_of(keyed.post("/v1/admin/reload", headers=bearer(ADMIN)), 503, "not_ready")


def test_widget_keys_work_only_from_their_pages(keyed):
    ok = keyed.post("/v1/ask", json=ASK, headers={**bearer(WIDGET), "Origin": PAGE})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == PAGE
    stranger = {**bearer(WIDGET), "Origin": "https://evil.example"}
    error_of(keyed.post("/v1/ask", json=ASK, headers=stranger), 403, "origin_refused")
    error_of(keyed.post("/v1/ask", json=ASK, headers=bearer(WIDGET)), 403, "origin_refused")


def test_a_widget_origin_is_allowed_cross_origin_with_the_key_header(keyed):
    r = keyed.options(
        "/v1/ask",
        headers={
            "Origin": PAGE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization",
        },
    )
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == PAGE


def test_open_ask_with_keys_lets_anonymous_callers_ask_but_not_administer(fake_service):
    app = create_app(keyed_settings(open_ask=True), service=fake_service)
    with TestClient(app) as c:
        assert c.post("/v1/ask", json=ASK).status_code == 200
        # SDKs always send some key; an unknown one on an open endpoint is ignored
        assert c.post("/v1/ask", json=ASK, headers=bearer("sk-unused")).status_code == 200
        error_of(c.post("/v1/admin/reload", headers=bearer("sk-unused")), 401, "unauthorized")


def test_with_no_keys_configured_asking_is_open_and_admin_is_off(fake_service):
    with TestClient(create_app(Settings(rate_limit=0), service=fake_service)) as c:
        assert c.post("/v1/ask", json=ASK).status_code == 200
        error_of(c.post("/v1/admin/reload"), 403, "admin_disabled")


def test_closed_by_setting_even_without_reader_keys(fake_service):
    settings = Settings(open_ask=False, admin_keys=f"root:{ADMIN}", rate_limit=0)
    with TestClient(create_app(settings, service=fake_service)) as c:
        error_of(c.post("/v1/ask", json=ASK), 401, "unauthorized")
        assert c.post("/v1/ask", json=ASK, headers=bearer(ADMIN)).status_code == 200


@pytest.mark.parametrize(
    ("field", "entry", "words"),
    [
        ("api_keys", "no-secret", "name:secret"),
        ("api_keys", "short:abc", "at least 16"),
        ("api_keys", "bad name!:0123456789abcdef0", "name:secret"),
        ("admin_keys", "root:sha256:xyz", "64 hex"),
        ("widget_keys", f"wiki:{WIDGET}", "no origins"),
        ("widget_keys", f"wiki:{WIDGET}@ftp://x", "not an http"),
    ],
)
def test_malformed_keys_are_refused_at_startup_with_a_clear_message(field, entry, words):
    with pytest.raises(ValueError, match=words):
        create_app(Settings(**{field: entry}))


def test_two_keys_with_one_name_are_refused():
    with pytest.raises(ValueError, match="same name"):
        create_app(Settings(api_keys=f"a:{READER}", admin_keys=f"a:{ADMIN}"))


def test_keys_are_read_from_the_environment_as_lists(monkeypatch):
    monkeypatch.setenv("QA_API_KEYS", f"one:{READER}, two:{ADMIN}")
    monkeypatch.setenv("QA_WIDGET_KEYS", f'["wiki:{WIDGET}@{PAGE}"]')
    settings = Settings()
    assert settings.api_keys == [f"one:{READER}", f"two:{ADMIN}"]
    assert access.KeyRing.from_settings(settings).keys[-1].origins == {PAGE}


def test_qa_keys_new_prints_a_secret_once_and_its_hashed_entry(capsys):
    assert cli.main(["keys", "new", "hr-portal"]) == 0
    out = capsys.readouterr().out
    secret = next(line.split()[-1] for line in out.splitlines() if line.startswith("secret"))
    entry = next(line.split()[-1] for line in out.splitlines() if line.startswith("entry"))
    assert entry == f"hr-portal:sha256:{access.digest(secret).hex()}"
    assert secret not in entry
    key = access.parse_key(entry, "reader")
    assert access.KeyRing([key], open_ask=False).identify(secret) == key
    assert cli.main(["keys", "new", "bad name"]) == 2


def test_the_openapi_schema_documents_keys_and_refusals(keyed):
    spec = keyed.get("/openapi.json").json()
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    ask = spec["paths"]["/v1/ask"]["post"]
    assert ask["security"] == [{"bearer": []}, {"apiKey": []}]  # keys exist: not optional
    assert {"401", "403", "413", "429", "503"} <= set(ask["responses"])
    assert "security" not in spec["paths"]["/healthz"]["get"]
