"""The chunk store: documents and chunks in one SQLite file.

A document row keeps the cleaned text and its metadata (title, date, outlet,
origin, author, source file) and the hash of the raw input, so re-ingesting an
unchanged file costs nothing.  A chunk row keeps its integer id (the vector
id in FAISS), its number within the document, its ``[start, end)`` span in the
cleaned text, the text itself and its keyword-search terms.

Leaves out: versioning and atomic replacement of the file (``index.store.versions``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    date TEXT,
    outlet TEXT,
    origin TEXT,
    author TEXT,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    text TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    terms TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
"""

DOC_COLUMNS = "doc_id, title, date, outlet, origin, author, source, content_hash, ingested_at"


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    title: str
    date: str | None
    outlet: str | None
    origin: str | None
    author: str | None
    source: str
    content_hash: str
    ingested_at: str


@dataclass(frozen=True)
class ChunkRecord:
    id: int
    doc_id: str
    number: int
    start: int
    end: int
    text: str
    terms: tuple[str, ...]

    @property
    def chunk_id(self) -> str:
        """Stable, readable id: the document id and the chunk's number in it."""
        return f"{self.doc_id}#{self.number}"


class ChunkStore:
    FILENAME = "store.sqlite"

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        if readonly:
            # A percent-encoded URI: '#', '?' or '%' in a folder name must not end the path
            # (an unencoded '#' also dropped "mode=ro", so a new empty database got created).
            uri = f"{Path(path).absolute().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            self._db = sqlite3.connect(path)
            self._db.executescript(SCHEMA)
        self._db.execute("PRAGMA foreign_keys = ON")

    def close(self) -> None:
        self._db.close()

    def commit(self) -> None:
        self._db.commit()

    def documents(self) -> list[DocumentInfo]:
        rows = self._db.execute(f"SELECT {DOC_COLUMNS} FROM documents ORDER BY doc_id")
        return [DocumentInfo(*row) for row in rows]

    def document(self, doc_id: str) -> tuple[DocumentInfo, str] | None:
        row = self._db.execute(
            f"SELECT {DOC_COLUMNS}, text FROM documents WHERE doc_id = ?", (doc_id,)
        ).fetchone()
        return (DocumentInfo(*row[:-1]), row[-1]) if row else None

    def texts(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT doc_id, text FROM documents"))

    def content_hash(self, doc_id: str) -> str | None:
        row = self._db.execute(
            "SELECT content_hash FROM documents WHERE doc_id = ?", (doc_id,)
        ).fetchone()
        return row[0] if row else None

    def chunks(self) -> Iterator[ChunkRecord]:
        rows = self._db.execute(
            'SELECT id, doc_id, number, start, "end", text, terms FROM chunks ORDER BY id'
        )
        for row in rows:
            chunk_id, doc_id, number, start, end, text, terms = row
            yield ChunkRecord(
                chunk_id, doc_id, number, start, end, text, tuple(terms.split(" ")) if terms else ()
            )

    def chunk_counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT doc_id, COUNT(*) FROM chunks GROUP BY doc_id")
        return {doc_id: n for doc_id, n in rows}

    def next_chunk_id(self) -> int:
        row = self._db.execute("SELECT COALESCE(MAX(id), -1) + 1 FROM chunks").fetchone()
        return int(row[0])

    def remove(self, doc_id: str) -> list[int]:
        """Delete a document and its chunks; return the removed chunk ids."""
        ids = [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
        self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        self._db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        return ids

    def put(self, doc: DocumentInfo, text: str, chunks: Sequence[ChunkRecord]) -> None:
        self._db.execute(
            f"INSERT INTO documents ({DOC_COLUMNS}, text) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (*doc.__dict__.values(), text),
        )
        self._db.executemany(
            'INSERT INTO chunks (id, doc_id, number, start, "end", text, terms) '
            "VALUES (?,?,?,?,?,?,?)",
            [(c.id, c.doc_id, c.number, c.start, c.end, c.text, " ".join(c.terms)) for c in chunks],
        )
