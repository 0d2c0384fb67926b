"""Every setting is documented (in code and docs/configuration.md) and read from QA_* variables."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from qa.settings import Settings
from scripts import config_doc
from tests.conftest import ROOT


def test_every_setting_has_a_description():
    for name, field in Settings.model_fields.items():
        assert field.description and len(field.description) > 10, name


def test_the_configuration_page_is_generated_from_the_settings_class():
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == config_doc.render(), "docs/configuration.md is out of date: run `make docs`"
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(QA_[A-Z_]+)` \|.*$", page, re.M)}
    assert set(rows) == {f"QA_{name.upper()}" for name in Settings.model_fields}
    for name, field in Settings.model_fields.items():
        row = rows[f"QA_{name.upper()}"]
        assert field.description and field.description.replace("|", "\\|") in row, name
        if field.default is not None and not isinstance(field.default, bool):
            assert f"`{field.default}`" in row, (name, field.default)


def test_the_readme_links_the_configuration_page():
    assert "docs/configuration.md" in (ROOT / "README.md").read_text(encoding="utf-8")


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
