"""Vectors an ingest has computed, kept until it publishes: what makes long ingests resumable.

`CachedEmbedder` wraps an `Embedder`: ``embed_documents`` looks every text up by a hash of
the model (id and checksum) and the text, embeds only the texts it has not seen, and stores
their vectors in a SQLite file (WAL, so several processes — Ray's embedding actors — can
write it at once).  A killed ingest, re-run, finds what it had embedded; ``qa ingest --ray``
fills the cache in parallel and the ingest that follows reads it.  ``clear`` deletes the
file once an ingest has published.  Queries and token counts pass straight through.

Leaves out: what the vectors are for (``index.build``).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.embed.embedder import Embedder

_SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)"


def cache_path(directory: Path, embedder: Embedder) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder.model_id)[-80:]
    runtime = "" if embedder.runtime in ("torch", "numpy") else f"-{embedder.runtime}"
    return Path(directory) / f"{name}-{(embedder.checksum or 'none')[:16]}{runtime}.sqlite"


class CachedEmbedder:
    """An `Embedder` whose document vectors are looked up before they are computed."""

    def __init__(self, embedder: Embedder, path: Path) -> None:
        self.inner, self.path = embedder, Path(path)
        self.model_id, self.checksum = embedder.model_id, embedder.checksum
        self.dimension, self.max_tokens = embedder.dimension, embedder.max_tokens
        self.runtime, self.parity = embedder.runtime, embedder.parity
        self.computed = 0  # texts this object embedded (not found in the cache)
        self._salt = f"{embedder.model_id}\x00{embedder.checksum}\x00".encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=120, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    def _key(self, text: str) -> bytes:
        return hashlib.sha256(self._salt + text.encode("utf-8")).digest()

    def lookup(self, texts: Sequence[str]) -> dict[bytes, np.ndarray]:
        keys = list({self._key(t) for t in texts})
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            marks = ",".join("?" * len(part))
            rows = self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part)
            for key, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape == (self.dimension,):
                    found[key] = vector
        return found

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Safe from several threads at once: the model runs outside the database lock."""
        keys = [self._key(t) for t in texts]
        with self._lock:
            found = self.lookup(texts)
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in found}.items())
        if missing:
            vectors = self.inner.embed_documents([t for _, t in missing])
            rows = [
                (k, np.asarray(v, np.float32).tobytes())
                for (k, _), v in zip(missing, vectors, strict=True)
            ]
            with self._lock, self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
                self.computed += len(missing)
            found.update(
                {k: np.asarray(v, np.float32) for (k, _), v in zip(missing, vectors, strict=True)}
            )
        if not keys:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def store(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Remember vectors computed elsewhere (another index's, for a migration)."""
        rows = [
            (self._key(t), np.asarray(v, np.float32).tobytes())
            for t, v in zip(texts, vectors, strict=True)
        ]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    def clear(self) -> None:
        """Delete the cache (after the ingest it served has published)."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
