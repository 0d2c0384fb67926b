"""Immutable index versions and the atomic switch between them.

Layout of an index directory::

    CURRENT               name of the version being served (replaced atomically)
    versions/v000001/     manifest.json, store.sqlite, dense.faiss, bm25.*
    staging-*/            a version being built (left over only by a crash)
    .lock                 held by the one writer

A writer builds a complete new version in a staging directory, fsyncs its
files and the directory, renames it into ``versions/`` and only then replaces
``CURRENT`` (written to ``CURRENT.tmp``, fsynced, renamed).  A crash at any
point — SIGKILL or power loss — leaves ``CURRENT`` naming either the previous
or the new complete version; readers never see a half-written one.  What a
crash can leave behind is harmless: a ``staging-*`` directory (removed by the
next writer), ``CURRENT.tmp``, or a complete version that ``CURRENT`` does not
name yet (never served; pruned in time).  Old versions are pruned, keeping a
few for readers that still have them open.  Versions get the permissions of
ordinary directories (umask), so a server running as another user can read them.

`pointed` resolves ``CURRENT`` strictly, for readers that must say what is
wrong (a ``CURRENT`` naming a version that is gone, or holding something that
is not a version name); `current` is the lenient form (None for all of those).

Leaves out: what goes into a version (``index.build``) and loading it (``index.store.loader``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from index.errors import REBUILD_HINT, IndexBusy, IndexCorrupt, IndexMissing

POINTER = "CURRENT"
KEEP_VERSIONS = 3
_NAME = re.compile(r"^v\d{6,}$")


def current(index_dir: Path) -> Path | None:
    """The directory of the version being served, or None when there is none (or it is gone)."""
    try:
        return pointed(index_dir)
    except (IndexMissing, IndexCorrupt):
        return None


def pointed(index_dir: Path) -> Path | None:
    """The version ``CURRENT`` names; None without ``CURRENT``; an error when it is damaged."""
    pointer = index_dir / POINTER
    try:
        raw = pointer.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexCorrupt(f"Cannot read the index pointer {pointer}: {exc}.") from exc
    name = raw.decode("utf-8", "replace").strip()
    if not _NAME.match(name):
        raise IndexCorrupt(
            f"The index pointer {pointer} is damaged: it should hold a version name such as "
            f"v000001 but holds {raw[:40]!r}. {REBUILD_HINT}, or write the name of one of "
            f"the versions in {index_dir / 'versions'} ({_listing(index_dir)}) into it.",
            detail={"file": POINTER},
        )
    path = index_dir / "versions" / name
    if not path.is_dir():
        raise IndexMissing(
            f"The index pointer {pointer} names version {name}, but {path} does not exist "
            f"(deleted?). {REBUILD_HINT}, or write the name of one of the versions in "
            f"{index_dir / 'versions'} ({_listing(index_dir)}) into {pointer}.",
            detail={"file": POINTER, "version": name},
        )
    return path


def _listing(index_dir: Path) -> str:
    names = sorted(p.name for p in (index_dir / "versions").glob("v*") if p.is_dir())
    return ", ".join(names) if names else "there are none"


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
    path = index_dir / f"staging-{os.getpid()}-{secrets.token_hex(4)}"
    path.mkdir()  # mode 0o777 less the umask, like any directory (mkdtemp's 0o700 is not)
    return path


def publish(index_dir: Path, built: Path) -> Path:
    """Make the fully written version in ``built`` the current one, atomically."""
    for file in built.iterdir():
        _fsync(file)
    _fsync(built)  # its entries: without this a power cut can publish a version missing files
    previous = current(index_dir)
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
    _prune(versions, keep={target.name, previous.name if previous else target.name})
    return target


def _numbers(versions: Path) -> dict[int, str]:
    return {int(p.name[1:]): p.name for p in versions.glob("v*") if _NAME.match(p.name)}


def _next_name(versions: Path) -> str:
    return f"v{max(_numbers(versions), default=0) + 1:06d}"


def _prune(versions: Path, keep: set[str]) -> None:
    """Delete all but the newest `KEEP_VERSIONS` versions, and never those in ``keep``."""
    names = [name for _, name in sorted(_numbers(versions).items())]
    for name in names[:-KEEP_VERSIONS]:
        if name not in keep:
            shutil.rmtree(versions / name, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
