"""Immutable index versions and the atomic switch between them.

Layout of an index directory::

    CURRENT               name of the version being served (replaced atomically)
    versions/v000001/     manifest.json, store.sqlite, dense.faiss, bm25.*
    staging-*/            a version being built (left over only by a crash)
    .lock                 held by the one writer

A writer builds a complete new version in a staging directory, fsyncs it,
renames it into ``versions/`` and only then replaces ``CURRENT``.  A crash at
any point leaves ``CURRENT`` naming the previous, complete version; readers
never see a half-written one.  Old versions are pruned, keeping a few for
readers that still have them open.

Leaves out: what goes into a version (``index.build``) and loading it (``index.loader``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from index.errors import IndexBusy

POINTER = "CURRENT"
KEEP_VERSIONS = 3


def current(index_dir: Path) -> Path | None:
    """The directory of the version being served, or None when there is none."""
    try:
        name = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = index_dir / "versions" / name
    return path if name and path.is_dir() else None


@contextlib.contextmanager
def writer_lock(index_dir: Path, *, wait: bool = True) -> Iterator[None]:
    """Exclusive right to write ``index_dir``; raises IndexBusy if ``wait`` is False."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise IndexBusy(f"Another process is writing the index at {index_dir}.") from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def staging(index_dir: Path) -> Path:
    """A fresh directory to build a version in; call with the writer lock held."""
    for stale in index_dir.glob("staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix="staging-", dir=index_dir))


def publish(index_dir: Path, built: Path) -> Path:
    """Make the fully written version in ``built`` the current one, atomically."""
    for file in built.iterdir():
        _fsync(file)
    versions = index_dir / "versions"
    versions.mkdir(exist_ok=True)
    target = versions / _next_name(versions)
    os.replace(built, target)
    _fsync(versions)
    pointer_tmp = index_dir / f"{POINTER}.tmp"
    pointer_tmp.write_text(target.name + "\n", encoding="utf-8")
    _fsync(pointer_tmp)
    os.replace(pointer_tmp, index_dir / POINTER)
    _fsync(index_dir)
    _prune(versions, keep=target.name)
    return target


def _next_name(versions: Path) -> str:
    numbers = [int(p.name[1:]) for p in versions.glob("v*") if p.name[1:].isdigit()]
    return f"v{max(numbers, default=0) + 1:06d}"


def _prune(versions: Path, keep: str) -> None:
    names = sorted(p.name for p in versions.glob("v*") if p.is_dir())
    for name in names[:-KEEP_VERSIONS]:
        if name != keep:
            shutil.rmtree(versions / name, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
