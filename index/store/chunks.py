"""The chunk store: documents and chunks in one SQLite file.

A document row keeps the cleaned text and its metadata (title, date, outlet,
origin, author, source file; for PDF, Word and image files also the format,
the page count, where each page starts in the text and the extraction's
warnings) and the hash of the raw input, so re-ingesting an unchanged file
costs nothing.  Stores written before the page columns existed are read as
having none (`doc_columns`), and gain them when a new version is written.

A chunk row keeps its integer id (the vector id in FAISS), its number within
the document, its ``[start, end)`` span in the cleaned text, the text itself
and its keyword-search terms.

Leaves out: versioning and atomic replacement of the file (``index.store.versions``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    ingested_at TEXT NOT NULL,
    format TEXT,
    pages INTEGER,
    page_starts TEXT,
    warnings TEXT
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

BASE_COLUMNS = "doc_id, title, date, outlet, origin, author, source, content_hash, ingested_at"
PAGE_COLUMNS = (
    ("format", "TEXT"),
    ("pages", "INTEGER"),
    ("page_starts", "TEXT"),
    ("warnings", "TEXT"),
)
DOC_COLUMNS = BASE_COLUMNS + ", " + ", ".join(name for name, _ in PAGE_COLUMNS)


def doc_columns(present: set[str]) -> str:
    """The SELECT list for `DocumentInfo.from_row` over a store with columns ``present``."""
    extra = [name if name in present else f"NULL AS {name}" for name, _ in PAGE_COLUMNS]
    return BASE_COLUMNS + ", " + ", ".join(extra)


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
    fmt: str = "txt"  # txt, md, html, pdf, docx or image
    pages: int | None = None
    page_starts: tuple[int, ...] = ()  # where each page starts in the text; () = no pages
    warnings: tuple[str, ...] = ()  # what extraction reported (pages OCR could not read)

    @classmethod
    def from_row(cls, row: Sequence[object]) -> DocumentInfo:
        """From a row selected with `DOC_COLUMNS` (the page columns as JSON text)."""
        base: dict[str, Any] = dict(zip(BASE_COLUMNS.split(", "), row[:9], strict=True))
        fmt, pages, starts, warnings = row[9:13]
        return cls(
            **base,
            fmt=str(fmt or "txt"),
            pages=int(pages) if isinstance(pages, int) else None,
            page_starts=tuple(json.loads(str(starts))) if starts else (),
            warnings=tuple(json.loads(str(warnings))) if warnings else (),
        )

    def row(self) -> tuple[object, ...]:
        """The values of `DOC_COLUMNS`, in order."""
        return (
            *(getattr(self, name) for name in BASE_COLUMNS.split(", ")),
            self.fmt,
            self.pages,
            json.dumps(list(self.page_starts)) if self.page_starts else None,
            json.dumps(list(self.warnings), ensure_ascii=False) if self.warnings else None,
        )


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
            present = self._present()
            for name, kind in PAGE_COLUMNS:  # a store from before the page columns
                if name not in present:
                    self._db.execute(f"ALTER TABLE documents ADD COLUMN {name} {kind}")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._columns = doc_columns(self._present())

    def _present(self) -> set[str]:
        return {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}

    def close(self) -> None:
        self._db.close()

    def commit(self) -> None:
        self._db.commit()

    def documents(self) -> list[DocumentInfo]:
        rows = self._db.execute(f"SELECT {self._columns} FROM documents ORDER BY doc_id")
        return [DocumentInfo.from_row(row) for row in rows]

    def document(self, doc_id: str) -> tuple[DocumentInfo, str] | None:
        row = self._db.execute(
            f"SELECT {self._columns}, text FROM documents WHERE doc_id = ?", (doc_id,)
        ).fetchone()
        return (DocumentInfo.from_row(row[:-1]), row[-1]) if row else None

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
            f"INSERT INTO documents ({DOC_COLUMNS}, text) VALUES ({', '.join('?' * 14)})",
            (*doc.row(), text),
        )
        self._db.executemany(
            'INSERT INTO chunks (id, doc_id, number, start, "end", text, terms) '
            "VALUES (?,?,?,?,?,?,?)",
            [(c.id, c.doc_id, c.number, c.start, c.end, c.text, " ".join(c.terms)) for c in chunks],
        )
