"""Every setting is documented, in code and in the README, and read from QA_* variables."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from qa.settings import Settings
from tests.conftest import ROOT


def test_every_setting_has_a_description():
    for name, field in Settings.model_fields.items():
        assert field.description and len(field.description) > 10, name


def test_readme_configuration_table_lists_every_setting_with_its_default():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(QA_[A-Z_]+)` \|.*$", readme, re.M)}
    expected = {f"QA_{name.upper()}" for name in Settings.model_fields}
    assert set(rows) >= expected, expected - set(rows)
    for name, field in Settings.model_fields.items():
        default = field.default
        assert f"`{default}`" in rows[f"QA_{name.upper()}"], (name, default)


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("QA_TOP_K", "7")
    monkeypatch.setenv("QA_INDEX_DIR", "/tmp/elsewhere")
    settings = Settings()
    assert settings.top_k == 7 and str(settings.index_dir) == "/tmp/elsewhere"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("QA_TOP_K", "0"),
        ("QA_CHUNK_TOKENS", "9999"),
        ("QA_PORT", "http"),
        ("QA_CHUNK_OVERLAP", "200"),
    ],
)
def test_invalid_values_are_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()
