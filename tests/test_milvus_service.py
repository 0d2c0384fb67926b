"""The service on a shared Milvus: two servers, an outage and the recovery, admin ingest.

Milvus runs as a separate process (``milvus-lite server``, the same gRPC API as Milvus
standalone), so the test can stop and restart it under a live app.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from index.build import ingest
from index.store.manifest import ChunkParams
from qa.runtime import Models
from qa.settings import Settings
from tests.conftest import PARAMS_OVERLAP, PARAMS_TOKENS, SAMPLE
from tests.fakes import FakeEmbedder

pytestmark = pytest.mark.milvus
ADMIN = "admin-secret-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
QUESTION = {"question": "兰州市委的决定要求什么？"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``milvus-lite server`` on a port, over one data directory; stop and start at will."""

    def __init__(self, data: Path) -> None:
        self.data, self.port, self.process = data, _free_port(), None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(self.data)]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError("milvus-lite server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)
            self.process = None


@pytest.fixture
def server(tmp_path):
    found = Server(tmp_path / "milvus-data")
    yield found
    found.stop()


def _settings(uri: str, **extra: object) -> Settings:
    values: dict[str, object] = {
        "index_backend": "milvus",
        "milvus_uri": uri,
        "milvus_timeout": 3,
        "admin_keys": f"root:{ADMIN}",
        "rate_limit": 0,
        "min_dense_score": 0.6,
        "crosslingual_encoder": "none",
        "reload_interval": 0.2,
        **extra,
    }
    return Settings(**values)  # type: ignore[arg-type]


def _app(settings: Settings, dictionary) -> TestClient:
    return TestClient(create_app(settings, models=Models(FakeEmbedder(), dictionary)))


def _wait(client: TestClient, path: str, status: int, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        r = client.get(path)
        if r.status_code == status or time.monotonic() > deadline:
            assert r.status_code == status, r.text
            return r.json()
        time.sleep(0.2)


def _is_error_shape(body: dict, code: str) -> None:
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert body["error"]["message"]


def test_unreachable_at_start_then_served_when_milvus_and_an_index_appear(
    server, dictionary, caplog
):
    settings = _settings(server.uri)
    with _app(settings, dictionary) as client:
        r = client.get("/readyz")
        assert r.status_code == 503
        _is_error_shape(r.json(), "index_unavailable")
        assert server.uri in r.json()["error"]["message"]
        assert any("unavailable" in m for m in caplog.messages)
        assert client.get("/healthz").status_code == 200
        server.start()
        deadline = time.monotonic() + 30  # reachable, but no index yet
        while (r := client.get("/readyz")).json()["error"]["code"] != "index_missing":
            assert time.monotonic() < deadline, r.text
            time.sleep(0.2)
        params = ChunkParams(PARAMS_TOKENS, PARAMS_OVERLAP)
        ingest(settings.milvus, [SAMPLE], FakeEmbedder(), params)
        ready = _wait(client, "/readyz", 200)
        assert ready["documents"] == 5 and ready["index_version"] == "g000001"


def test_two_servers_share_one_milvus_survive_an_outage_and_recover(server, dictionary):
    server.start()
    settings = _settings(server.uri)
    ingest(settings.milvus, [SAMPLE], FakeEmbedder(), ChunkParams(PARAMS_TOKENS, PARAMS_OVERLAP))
    with _app(settings, dictionary) as one, _app(settings, dictionary) as two:
        answers = [c.post("/v1/ask", json=QUESTION) for c in (one, two)]
        assert all(r.status_code == 200 for r in answers)
        cited = [[c["doc_id"] for c in r.json()["citations"]] for r in answers]
        assert cited[0] == cited[1] and "004_7c2c5349670b6628" in cited[0]
        server.stop()
        r = one.post("/v1/ask", json=QUESTION)
        assert r.status_code == 503
        _is_error_shape(r.json(), "index_unavailable")
        _wait(one, "/readyz", 503)
        server.start()
        _wait(one, "/readyz", 200)
        for client in (one, two):
            deadline = time.monotonic() + 30
            while (r := client.post("/v1/ask", json=QUESTION)).status_code != 200:
                assert time.monotonic() < deadline, r.text
                time.sleep(0.3)
            assert [c["doc_id"] for c in r.json()["citations"]] == cited[0]


def test_admin_ingest_and_delete_reach_every_server(server, dictionary):
    server.start()
    settings = _settings(server.uri)
    ingest(settings.milvus, [SAMPLE], FakeEmbedder(), ChunkParams(PARAMS_TOKENS, PARAMS_OVERLAP))
    with _app(settings, dictionary) as one, _app(settings, dictionary) as two:
        article = "# 白银市发布规划\n\n白银市人民政府发布黄河流域生态保护规划。" * 3
        r = one.post(
            "/v1/admin/documents",
            json={"documents": [{"name": "baiyin.md", "content": article}]},
            headers=AUTH,
        )
        assert r.status_code == 200, r.text
        assert r.json()["added"] == ["baiyin"] and r.json()["version"] == "g000002"
        deadline = time.monotonic() + 30
        while two.get("/readyz").json()["documents"] != 6:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        r = two.delete("/v1/admin/documents/baiyin", headers=AUTH)
        assert r.status_code == 200 and r.json()["removed"] == ["baiyin"]
        deadline = time.monotonic() + 30
        while one.get("/readyz").json()["documents"] != 5:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        missing = one.delete("/v1/admin/documents/baiyin", headers=AUTH)
        assert missing.status_code == 404
        _is_error_shape(missing.json(), "not_found")


def test_a_lite_file_held_by_another_process_is_a_clear_error(tmp_path, dictionary):
    path = tmp_path / "held.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from pymilvus import MilvusClient; MilvusClient({str(path)!r}); "
            "import time; print('ok', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        env={**os.environ},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"ok"
        with _app(_settings(str(path)), dictionary) as client:
            r = client.get("/readyz")
            assert r.status_code == 503
            message = r.json()["error"]["message"]
            assert "milvus-lite server" in message and str(path) in message
    finally:
        holder.kill()
        holder.wait()
