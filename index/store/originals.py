"""The originals: a copy of every ingested file, by content hash, so a document can be re-ingested.

A PDF or Word file is extracted once, at ingest; when extraction improves, or a document's
text looks wrong, an administrator re-ingests it from here without finding the file again.
Files are stored as ``<root>/<sha256>`` (the hash ``DocumentInfo.content_hash`` already
records), written to ``.incoming-<sha256>`` and renamed into place, so a crash leaves no half
file (and the next put of the same file overwrites the leftover).  `prune` deletes the copies
no kept index version refers to (after a removal or a replacement), and leftovers of crashes.

Leaves out: which documents exist (the chunk store) and the ingest itself (``index.build``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from index.store.chunks import ChunkStore

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class Originals:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, digest: str, source: Path) -> None:
        """Keep a copy of ``source`` (whose sha256 is ``digest``) unless one is kept already."""
        target = self._path(digest)
        if target.exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".incoming-{digest}"  # one writer at a time (the index's lock)
        try:
            with tmp.open("wb") as out, source.open("rb") as src:
                shutil.copyfileobj(src, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def get(self, digest: str) -> Path | None:
        path = self._path(digest)
        return path if path.is_file() else None

    def prune(self, keep: Iterable[str]) -> int:
        """Delete every copy whose hash is not in ``keep``; returns how many went."""
        if not self.root.is_dir():
            return 0
        wanted = set(keep)
        gone = 0
        for path in self.root.iterdir():
            digest = path.name.removeprefix(".incoming-")
            if _DIGEST.match(digest) and (path.name != digest or digest not in wanted):
                path.unlink(missing_ok=True)
                gone += 1
        return gone

    def _path(self, digest: str) -> Path:
        if not _DIGEST.match(digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return self.root / digest


def kept_hashes(index_dir: Path) -> set[str]:
    """The content hashes of every document in every version kept in ``index_dir``."""
    found: set[str] = set()
    for store_file in sorted((index_dir / "versions").glob(f"v*/{ChunkStore.FILENAME}")):
        store = ChunkStore(store_file, readonly=True)
        try:
            found |= {d.content_hash for d in store.documents()}
        except sqlite3.Error:
            continue  # a damaged old version: its originals go
        finally:
            store.close()
    return found
