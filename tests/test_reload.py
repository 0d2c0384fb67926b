"""Changing the index while serving: admin ingest, removal and reload, the file watch,
one version per answer."""

from __future__ import annotations

import base64
import shutil
import threading
import time

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from index import build
from index.store.manifest import ChunkParams
from qa.runtime import Models
from qa.settings import Settings
from tests.conftest import PARAMS_OVERLAP, PARAMS_TOKENS
from tests.fakes import FakeEmbedder

ADMIN = "admin-secret-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
PARAMS = ChunkParams(PARAMS_TOKENS, PARAMS_OVERLAP)
NEW_ARTICLE = (
    "# 白银市启动黄河湿地保护行动\n\n2024-03-02 白银日报\n\n"
    "白银市决定在黄河沿岸新建三处湿地公园，并对沿岸排污口进行全面排查。"
    "市生态环境局表示，湿地保护行动将持续三年，总投资约五亿元。\n"
)
BIG5_ARTICLE = (
    "# 臺北市推動社區長照據點\n\n臺北市政府宣布，今年將新增二十處社區長照據點，服務高齡長者。\n"
)


@pytest.fixture
def index_dir(fake_index_dir, tmp_path):
    return shutil.copytree(fake_index_dir, tmp_path / "index")


def settings_for(index_dir, **extra) -> Settings:
    values = {
        "index_dir": index_dir,
        "admin_keys": f"root:{ADMIN}",
        "rate_limit": 0,
        "min_dense_score": 0.6,
        "max_chunks_per_doc": 5,
        "crosslingual_encoder": "none",
        "reload_interval": 0,
        **extra,
    }
    return Settings(**values)


@pytest.fixture
def admin(index_dir, dictionary):
    app = create_app(settings_for(index_dir), models=Models(FakeEmbedder(), dictionary))
    with TestClient(app) as c:
        yield c


def version(client) -> str:
    return client.get("/readyz").json()["index_version"]


def doc_ids(client) -> set[str]:
    return {d["id"] for d in client.get("/v1/documents").json()["documents"]}


def test_admin_ingest_lands_good_files_reports_bad_ones_and_serves_the_new_version(admin):
    before = version(admin)
    documents = [
        {"name": "baiyin.md", "content": NEW_ARTICLE},
        {
            "name": "taipei.txt",
            "content": base64.b64encode(BIG5_ARTICLE.encode("big5")).decode(),
            "encoding": "base64",
        },
        {"name": "empty.txt", "content": ""},
    ]
    r = admin.post("/v1/admin/documents", json={"documents": documents}, headers=AUTH)
    assert r.status_code == 200, r.text
    report = r.json()
    assert sorted(report["added"]) == ["baiyin", "taipei"]
    assert [f["file"] for f in report["failed"]] == ["empty.txt"] and report["failed"][0]["reason"]
    assert report["version"] == version(admin) != before
    assert {"baiyin", "taipei"} <= doc_ids(admin)
    assert "臺北市政府宣布" in admin.get("/v1/documents/taipei").json()["text"]
    answer = admin.post("/v1/ask", json={"question": "白银市的湿地保护行动投资多少？"}).json()
    assert answer["citations"][0]["doc_id"] == "baiyin"


def test_admin_removal_and_its_errors(admin):
    lanzhou = next(d for d in doc_ids(admin) if d.startswith("004"))
    r = admin.delete(f"/v1/admin/documents/{lanzhou}", headers=AUTH)
    assert r.status_code == 200 and r.json()["removed"] == [lanzhou]
    assert lanzhou not in doc_ids(admin) and r.json()["version"] == version(admin)
    missing = admin.delete(f"/v1/admin/documents/{lanzhou}", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("documents", "code"),
    [
        ([{"name": "../escape.txt", "content": "x"}], "invalid_request"),
        ([{"name": "a.txt", "content": "！！", "encoding": "base64"}], "invalid_input"),
        ([{"name": "a.txt", "content": "x"}, {"name": "a.txt", "content": "y"}], "invalid_input"),
        ([], "invalid_request"),
    ],
)
def test_bad_uploads_are_refused_whole(admin, documents, code):
    before = version(admin)
    r = admin.post("/v1/admin/documents", json={"documents": documents}, headers=AUTH)
    assert r.status_code in (400, 422) and r.json()["error"]["code"] == code
    assert version(admin) == before


def test_a_version_published_by_another_process_is_served_without_a_restart(index_dir, dictionary):
    models = Models(FakeEmbedder(), dictionary)
    app = create_app(settings_for(index_dir, reload_interval=0.1), models=models)
    with TestClient(app) as client:
        before = version(client)
        article = index_dir.parent / "baiyin.md"
        article.write_text(NEW_ARTICLE, encoding="utf-8")
        build.ingest(index_dir, [article], FakeEmbedder(), PARAMS)  # as `qa ingest` would
        deadline = time.monotonic() + 10
        while version(client) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert version(client) != before and "baiyin" in doc_ids(client)
        assert 'qa_index_reloads_total{result="loaded"}' in client.get("/metrics").text


def test_a_server_started_before_any_index_exists_serves_the_first_one(tmp_path, dictionary):
    models = Models(FakeEmbedder(), dictionary)
    index_dir = tmp_path / "later"
    with TestClient(create_app(settings_for(index_dir), models=models)) as client:
        assert client.get("/readyz").json()["error"]["code"] == "index_missing"
        article = tmp_path / "baiyin.md"
        article.write_text(NEW_ARTICLE, encoding="utf-8")
        build.ingest(index_dir, [article], FakeEmbedder(), PARAMS)
        r = client.post("/v1/admin/reload", headers=AUTH)
        assert r.json()["reloaded"] is True
        assert client.get("/readyz").status_code == 200 and doc_ids(client) == {"baiyin"}
        assert client.post("/v1/admin/reload", headers=AUTH).json()["reloaded"] is False


def test_a_corrupt_new_version_is_skipped_and_the_old_one_keeps_serving(admin, index_dir):
    before = version(admin)
    article = index_dir.parent / "baiyin.md"
    article.write_text(NEW_ARTICLE, encoding="utf-8")
    report = build.ingest(index_dir, [article], FakeEmbedder(), PARAMS)
    store = index_dir / "versions" / report.version / "store.sqlite"
    store.write_bytes(store.read_bytes()[:100])
    assert admin.post("/v1/admin/reload", headers=AUTH).json() == {
        "reloaded": False,
        "version": before,
    }
    assert admin.post("/v1/ask", json={"question": "兰州市委的决定要求什么?"}).status_code == 200
    assert 'qa_index_reloads_total{result="failed"} 1.0' in admin.get("/metrics").text


def test_answers_during_updates_each_come_from_one_whole_version(admin, index_dir):
    """A writer keeps swapping which probe article exists; every answer's citations must
    belong to the version named in its X-Index-Version header."""
    contents: dict[str, set[str]] = {version(admin): doc_ids(admin)}
    stop, problems = threading.Event(), []

    def write() -> None:
        for i in range(6):
            name = f"probe{i % 2}"
            body = NEW_ARTICLE.replace("白银市", f"白银市{name}")
            documents = [{"name": f"{name}.md", "content": body}]
            r = admin.post("/v1/admin/documents", json={"documents": documents}, headers=AUTH)
            other = f"probe{(i + 1) % 2}"
            if other in doc_ids(admin):
                r = admin.delete(f"/v1/admin/documents/{other}", headers=AUTH)
            contents[r.json()["version"]] = doc_ids(admin)
        stop.set()

    def read() -> None:
        while not stop.is_set():
            r = admin.post("/v1/ask", json={"question": "白银市湿地保护行动投资多少？"})
            cited = {c["doc_id"] for c in r.json()["citations"]}
            problems.append((r.headers["x-index-version"], cited))

    writer, reader = threading.Thread(target=write), threading.Thread(target=read)
    reader.start(), writer.start()
    writer.join(60), reader.join(60)
    assert len(problems) > 5
    for served, cited in problems:
        if served in contents:  # versions in between were published and replaced at once
            assert cited <= contents[served], (served, cited)
    assert any(c & {"probe0", "probe1"} for _, c in problems)


def test_upload_failures_name_the_file_not_the_servers_temporary_folder(admin):
    r = admin.post(
        "/v1/admin/documents",
        json={"documents": [{"name": "empty.txt", "content": " "}]},
        headers=AUTH,
    )
    (failure,) = r.json()["failed"]
    assert failure["file"] == "empty.txt" and "qa-upload-" not in failure["reason"]
    assert failure["reason"].startswith("empty.txt")
