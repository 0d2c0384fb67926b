"""Write and check requirements.lock, the hash-pinned install of `make run` / `make test`.

`python scripts/lockfile.py write` resolves pyproject.toml's dependencies, its `dev` extra and
requirements.in with `uv pip compile --generate-hashes` for CPython 3.11 on Linux x86_64, and
heads the lock with a digest of those inputs. It keeps the versions already pinned wherever the
inputs still allow them (uv prefers the pins of its output file); `write --upgrade` re-resolves
every package to the newest release the ranges allow. `python scripts/lockfile.py check`
recomputes the digest and fails, naming `make lock`, when the inputs changed after the lock was
written.

`compare` lists how the running interpreter's packages differ from the lock (`make test-latest`).
The lock covers the dependencies and the `dev` extra only; the `peers` extra (benchmarks/peers.py,
installed by hand) is not locked. This script installs nothing: the Makefile installs the lock
with `pip --require-hashes`. Standard library only, so it runs before any venv exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
EXTRA_INPUTS = ROOT / "requirements.in"
EXTRAS = ("dev",)
TARGET = ("--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28")
# Where the CPU build of torch lies on these machines (requirements.in pins torch==2.13.0+cpu);
# the Makefile passes its TORCH_WHEELS.
DEFAULT_WHEELS = "/opt/wheels"
DIGEST_PREFIX = "# inputs-sha256: "


def input_digest(pyproject: Path = PYPROJECT, extra: Path = EXTRA_INPUTS) -> str:
    """Digest of everything that decides the lock's contents, and nothing else in pyproject.toml.

    Tool settings (ruff, mypy, pytest) may change without making the lock stale.
    """
    meta = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = meta["project"]
    optional = project.get("optional-dependencies", {})
    inputs = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "extras": {name: optional.get(name, []) for name in EXTRAS},
        "build-system": meta.get("build-system", {}).get("requires", []),
        "requirements.in": _requirement_lines(extra),
        "target": list(TARGET),
    }
    canonical = json.dumps(inputs, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _requirement_lines(path: Path) -> list[str]:
    lines = (
        line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()
    )
    return [line for line in lines if line]


def recorded_digest(lock: Path = LOCK) -> str | None:
    if not lock.exists():
        return None
    for line in lock.read_text(encoding="utf-8").splitlines()[:10]:
        if line.startswith(DIGEST_PREFIX):
            return line[len(DIGEST_PREFIX) :].strip()
    return None


def stale_reason(
    lock: Path = LOCK, pyproject: Path = PYPROJECT, extra: Path = EXTRA_INPUTS
) -> str | None:
    """Why the lock does not match pyproject.toml and requirements.in, or None when it does."""
    name = lock.name
    recorded = recorded_digest(lock)
    if not lock.exists():
        return f"{name} is missing: run `make lock` and commit it"
    if recorded is None:
        return f"{name} has no '{DIGEST_PREFIX.strip()}' line: run `make lock` to rewrite it"
    if recorded != input_digest(pyproject, extra):
        return (
            f"{name} is stale: pyproject.toml's dependencies or requirements.in changed after it "
            "was written. Run `make lock` and commit the new lock with the change."
        )
    return None


def write(uv: str, wheels: str = DEFAULT_WHEELS, upgrade: bool = False, lock: Path = LOCK) -> None:
    """Resolve the inputs with uv and write the lock atomically, headed by their digest."""
    extras = [arg for name in EXTRAS for arg in ("--extra", name)]
    staged = lock.with_suffix(".lock.tmp")
    if lock.exists() and not upgrade:
        shutil.copyfile(lock, staged)  # uv keeps the pins it finds in its output file
    else:
        staged.unlink(missing_ok=True)
    options = ["--generate-hashes", "--no-header", "--quiet", *TARGET, "--find-links", wheels]
    options += ["--upgrade"] if upgrade else []
    command = [uv, "pip", "compile", "pyproject.toml", "requirements.in", *extras, *options]
    try:
        # uv's warnings and errors go to the terminal; only the lock goes to the file
        subprocess.run(
            [*command, "--output-file", str(staged)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise SystemExit(
            f"error: uv not found ({uv!r}). `make install` installs the locked uv into .venv; "
            "or install it with `pip install uv`."
        ) from None
    except subprocess.CalledProcessError as failed:
        staged.unlink(missing_ok=True)
        raise SystemExit(
            f"error: uv could not resolve the lock (exit {failed.returncode})"
        ) from None
    header = [
        "# requirements.lock: every package of `make run` / `make test`, pinned with hashes.",
        "# Do not edit: `make lock` writes it from pyproject.toml ([project] dependencies and the",
        "# `dev` extra) and requirements.in, for CPython 3.11 on Linux x86_64, with:",
        "#   " + " ".join(["uv", *command[1:]]),
        DIGEST_PREFIX + input_digest(),
    ]
    body = staged.read_text(encoding="utf-8")
    body = "\n".join(line for line in body.splitlines() if not line.startswith("# ")) + "\n"
    staged.write_text("\n".join(header) + "\n" + body.lstrip("\n"), encoding="utf-8")
    staged.replace(lock)
    print(f"wrote {lock.name}: {body.count('==')} packages pinned")


def locked_versions(lock: Path = LOCK) -> dict[str, str]:
    """Package name (normalised) → pinned version, read from the lock."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split(" ", 1)[0].split("==", 1)
            pins[_normalise(name)] = version
    return pins


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def compare() -> list[str]:
    """How the packages installed in the running interpreter differ from the lock."""
    pins = locked_versions()
    installed = {_normalise(d.metadata["Name"]): d.version for d in metadata.distributions()}
    rows = [
        f"{name}: lock {pins[name]} -> installed {version}"
        for name, version in sorted(installed.items())
        if name in pins and pins[name] != version
    ]
    project = _normalise(tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["name"])
    rows += [
        f"{name}: installed {v}, not in the lock"
        for name, v in sorted(installed.items())
        if name not in pins and name != project
    ]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="fail when the lock is stale or missing")
    sub.add_parser("compare", help="list how this interpreter's packages differ from the lock")
    writer = sub.add_parser("write", help="resolve and write the lock (needs uv)")
    writer.add_argument("--uv", default=shutil.which("uv") or "uv", help="the uv executable")
    writer.add_argument(
        "--find-links", default=DEFAULT_WHEELS, help="folder with the CPU torch wheel"
    )
    writer.add_argument(
        "--upgrade",
        action="store_true",
        help="newest releases for every package, not only new ones",
    )
    args = parser.parse_args(argv)
    if args.command == "write":
        write(args.uv, args.find_links, args.upgrade)
        return 0
    if args.command == "compare":
        rows = compare()
        print(f"{len(rows)} packages differ from {LOCK.name}" + (":" if rows else ""))
        print("\n".join(f"  {row}" for row in rows))
        return 0
    reason = stale_reason()
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
