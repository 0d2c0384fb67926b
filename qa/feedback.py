"""Feedback on answers: a thumbs up or down and a comment, kept durably in SQLite.

`FeedbackStore` appends one row per feedback (id, answer id, rating, comment,
the question if the client sent it, UTC time, the client's key name if known)
to one SQLite file, ``QA_FEEDBACK_PATH``, kept outside the index directory
because index versions are replaced.  The file is in WAL mode and every
connection writes with ``synchronous=FULL``, so a row is on disk when `add`
returns; each call opens its own short connection with a busy timeout, so
threads and several server processes can write at once.  `list` and `count`
serve the admin command (``qa feedback``).

Leaves out: checking that an answer id was ever issued (answers are not
stored), who may send feedback (API keys), and editing or deleting it.
"""

from __future__ import annotations

import random
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from index.errors import ArticleQAError, InvalidInput

Rating = Literal["up", "down"]
RATINGS: tuple[Rating, ...] = ("up", "down")
MAX_TEXT_CHARS = 2000
MAX_ANSWER_ID_CHARS = 100
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY, answer_id TEXT NOT NULL, rating TEXT NOT NULL,
    comment TEXT, question TEXT, created_at TEXT NOT NULL, client TEXT)"""
_COLUMNS = "id, answer_id, rating, comment, question, created_at, client"
_SLOTS = ", ".join("?" * 7)


class FeedbackUnavailable(ArticleQAError):
    """The feedback file cannot be opened or written (permissions, disk, locked too long)."""

    code = "feedback_unavailable"


@dataclass(frozen=True)
class Feedback:
    id: str
    answer_id: str
    rating: Rating
    comment: str | None
    question: str | None
    created_at: str
    client: str | None


Records = list[Feedback]


def utc_text(moment: datetime) -> str:
    """``moment`` as stored: UTC ISO 8601 with milliseconds and ``Z`` (sorts as text)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FeedbackStore:
    """The feedback file at ``path``; ``create=False`` refuses a file that does not exist."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise FeedbackUnavailable(f"No feedback has been recorded at {self.path} yet.")
        with self._failures():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._initialise()

    def _initialise(self, attempts: int = 200) -> None:
        """WAL mode and the table. Switching a fresh file to WAL can fail with "database is
        locked" without waiting on the busy timeout while other processes open it too."""
        for attempt in range(attempts):
            try:
                with self._connect() as db:
                    db.execute("PRAGMA journal_mode=WAL")
                    db.execute(_SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == attempts - 1:
                    raise
                time.sleep(0.01 + 0.04 * random.random())

    def add(
        self,
        answer_id: str,
        rating: Rating,
        comment: str | None = None,
        question: str | None = None,
        client: str | None = None,
    ) -> Feedback:
        """Store one feedback; it is committed and synced to disk when this returns."""
        if rating not in RATINGS:
            raise InvalidInput(f"The rating must be 'up' or 'down', not {rating!r}.")
        if not 0 < len(answer_id) <= MAX_ANSWER_ID_CHARS:
            raise InvalidInput(f"The answer_id must have 1-{MAX_ANSWER_ID_CHARS} characters.")
        comment, question = (t if t and t.strip() else None for t in (comment, question))
        for name, text in (("comment", comment), ("question", question)):
            if text is not None and len(text) > MAX_TEXT_CHARS:
                raise InvalidInput(f"The {name} is longer than {MAX_TEXT_CHARS} characters.")
        row = (answer_id, rating, comment, question, utc_text(datetime.now(UTC)), client)
        record = Feedback(f"fb_{uuid.uuid4().hex}", *row)
        with self._failures(), self._connect() as db:
            db.execute(f"INSERT INTO feedback ({_COLUMNS}) VALUES ({_SLOTS})", astuple(record))
        return record

    def list(
        self, since: datetime | None = None, limit: int | None = None, rating: str | None = None
    ) -> Records:
        """Feedback at or after ``since`` (naive means UTC) with ``rating``, newest first."""
        where, params = _filters(since, rating)
        sql = f"SELECT {_COLUMNS} FROM feedback{where} ORDER BY created_at DESC, rowid DESC"
        if limit is not None:
            sql, params = f"{sql} LIMIT ?", [*params, max(limit, 0)]
        with self._failures(), self._connect() as db:
            return [Feedback(*row) for row in db.execute(sql, params)]

    def count(self, since: datetime | None = None, rating: str | None = None) -> int:
        where, params = _filters(since, rating)
        with self._failures(), self._connect() as db:
            return int(db.execute(f"SELECT count(*) FROM feedback{where}", params).fetchone()[0])

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    @contextmanager
    def _failures(self) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            message = f"The feedback store at {self.path} cannot be used: {exc}."
            raise FeedbackUnavailable(message) from exc


def _filters(since: datetime | None, rating: str | None) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(utc_text(since))
    if rating is not None:
        clauses.append("rating = ?")
        params.append(rating)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params
