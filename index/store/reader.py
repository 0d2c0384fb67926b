"""Read-only, lazy views of a version's chunk store, for serving.

Loading every chunk (text and keyword terms) into Python objects costs about
10 kB a chunk: fine for tens of thousands, 10 GB at a million.  These views
read from the version's SQLite file on demand instead and keep a bounded cache
of what was read: `ChunkTable` (chunk id → `ChunkRecord`), `TextTable`
(document id → cleaned text), and per-document chunk lists and sentence spans.
What every query needs for all chunks at once — which document each chunk
belongs to — is one numpy array (`DocMap`), 12 bytes a chunk.

The file is opened ``immutable`` (a published version never changes), once,
and shared by the threads of a process under a lock; a version pruned while a
process still serves it stays readable through the open file.

Leaves out: writing (``index.store.chunks``) and checking the version (``index.store.loader``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from index.store.chunks import ChunkRecord, DocumentInfo

K = TypeVar("K")
V = TypeVar("V")
_COLUMNS = 'id, doc_id, number, start, "end", text, terms'


class Reader:
    """One read-only connection to a published version's chunk store."""

    def __init__(self, path: Path) -> None:
        uri = f"{Path(path).absolute().as_uri()}?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()

    def rows(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        self._db.close()


def record(row: tuple[object, ...]) -> ChunkRecord:
    chunk_id, doc_id, number, start, end, text, terms = row
    split = tuple(str(terms).split(" ")) if terms else ()
    return ChunkRecord(chunk_id, doc_id, number, start, end, text, split)  # type: ignore[arg-type]


class Cached(Mapping[K, V], Generic[K, V]):
    """A mapping that fetches a missing key and remembers the last ``size`` ones."""

    def __init__(self, fetch: Callable[[K], V | None], keys: Callable[[], list[K]], size: int):
        self._fetch, self._keys, self._size = fetch, keys, size
        self._cache: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, key: K) -> V:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = self._fetch(key)
        if value is None:
            raise KeyError(key)
        with self._lock:
            self._cache[key] = value
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return value

    def __iter__(self) -> Iterator[K]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


class ChunkTable(Cached[int, ChunkRecord]):
    """Chunk id → record; iterating gives the ids in order (from `DocMap`, no query)."""

    def __init__(self, reader: Reader, ids: np.ndarray, size: int = 4096) -> None:
        self._reader, self._count = reader, len(ids)
        super().__init__(self._one, ids.tolist, size)

    def _one(self, chunk_id: int) -> ChunkRecord | None:
        rows = self._reader.rows(f"SELECT {_COLUMNS} FROM chunks WHERE id = ?", (int(chunk_id),))
        return record(rows[0]) if rows else None

    def __len__(self) -> int:
        return self._count

    def values(self) -> Iterator[ChunkRecord]:  # type: ignore[override]
        """Every chunk in id order, read in one pass (for harnesses, not queries)."""
        return iter(
            [record(r) for r in self._reader.rows(f"SELECT {_COLUMNS} FROM chunks ORDER BY id")]
        )

    def of_document(self, doc_id: str) -> list[ChunkRecord]:
        sql = f"SELECT {_COLUMNS} FROM chunks WHERE doc_id = ? ORDER BY start"
        return [record(r) for r in self._reader.rows(sql, (doc_id,))]

    def by_number(self, doc_id: str, number: int) -> int | None:
        """The vector id of a document's chunk number ``number``."""
        rows = self._reader.rows(
            "SELECT id FROM chunks WHERE doc_id = ? AND number = ?", (doc_id, number)
        )
        return int(rows[0][0]) if rows else None  # type: ignore[call-overload]


class TextTable(Cached[str, str]):
    """Document id → cleaned text."""

    def __init__(self, reader: Reader, documents: Mapping[str, DocumentInfo], size: int = 256):
        def fetch(doc_id: str) -> str | None:
            rows = reader.rows("SELECT text FROM documents WHERE doc_id = ?", (doc_id,))
            return str(rows[0][0]) if rows else None

        super().__init__(fetch, lambda: list(documents), size)


class DocMap:
    """Which document each chunk belongs to, as arrays: chunk ids ascending, document ordinals."""

    def __init__(self, reader: Reader, doc_ids: list[str]) -> None:
        self._ordinal = ordinal = {d: i for i, d in enumerate(doc_ids)}
        rows = reader.rows("SELECT id, doc_id FROM chunks ORDER BY id")
        self.ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        self.docs = np.fromiter((ordinal[str(r[1])] for r in rows), dtype=np.int32, count=len(rows))

    def ordinals(self, chunk_ids: np.ndarray) -> np.ndarray:
        return self.docs[np.searchsorted(self.ids, chunk_ids)]

    def in_documents(self, chunk_ids: np.ndarray, doc_ids: frozenset[str]) -> np.ndarray:
        """A mask: which of ``chunk_ids`` belong to one of ``doc_ids``."""
        wanted = [self._ordinal[d] for d in doc_ids if d in self._ordinal]
        return np.isin(self.ordinals(chunk_ids), wanted)
