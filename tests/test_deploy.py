"""deploy/docker-compose.yml cannot run here (no Docker engine): it parses and is whole."""

from __future__ import annotations

import re

import yaml

from qa.settings import Settings
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_has_milvus_standalone_and_replicated_stateless_api():
    services = _compose()["services"]
    assert {"etcd", "minio", "milvus", "api", "lb", "ingest"} <= set(services)
    assert services["milvus"]["command"] == ["milvus", "run", "standalone"]
    api = services["api"]
    assert api["deploy"]["replicas"] >= 2
    assert api["depends_on"]["milvus"]["condition"] == "service_healthy"
    env = api["environment"]
    assert env["QA_INDEX_BACKEND"] == "milvus" and env["QA_MILVUS_URI"] == "http://milvus:19530"
    assert services["ingest"]["environment"] == env  # the same settings write and read
    assert "ports" not in api  # replicas are reached through the load balancer only


def test_every_setting_in_compose_exists_and_validates():
    env = dict(_compose()["services"]["api"]["environment"])
    env["QA_ADMIN_KEYS"] = "ops:an-admin-secret-of-length"
    fields = {f"QA_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= fields, set(env) - fields
    values = {k.removeprefix("QA_").lower(): v for k, v in env.items()}
    assert Settings(**values).index_backend == "milvus"


def test_images_are_pinned_and_files_referenced_exist():
    services = _compose()["services"]
    for name, service in services.items():
        image = service.get("image", "")
        assert image and (":" in image), name
        assert not image.endswith(":latest") or name in ("api", "ingest"), name
    assert (DEPLOY / "nginx.conf").is_file() and (DEPLOY / "Dockerfile").is_file()
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "--require-hashes" in dockerfile and "requirements.lock" in dockerfile
    for copied in re.findall(r"^COPY (\S+) ", dockerfile, flags=re.M):
        assert (ROOT / copied).exists(), copied
    assert "server api:8000" in (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
