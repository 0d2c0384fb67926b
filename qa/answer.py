"""What an answer is: text with ``[n]`` markers and the citations they point to.

A `Citation` is data carried end to end: document id, title, date, outlet,
the pages the cited text starts and ends on (PDF, Word and scanned documents;
None for articles), the passage (chunk) it comes from with the passage's span, and the exact span
and text of what was cited, all as character offsets into the cleaned
article (what ``GET /v1/documents/{id}`` returns).  A `Generator` turns a
question and retrieved passages into a `Draft`; ``qa.answering.extractive`` is the one
that needs no LLM, ``qa.answering.llm`` the one that asks an LLM.  A generator that can
stream (`StreamingGenerator`) yields `Sources` once, then text deltas, then
its `Draft`; one that fails raises `GenerationError`, on which the service
falls back to extractive answers with a `Notice`.

Leaves out: deciding whether to answer at all (``qa.retrieval.retrieve.is_relevant``)
and checking what a draft cites (``qa.citations.verify``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from index.docs.model import page_at
from index.store.chunks import ChunkRecord, DocumentInfo
from qa.language import Language
from qa.retrieval.query import Query
from qa.retrieval.retrieve import Hit

Mode = Literal["extractive", "llm"]


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    chunk_id: str
    title: str
    date: str | None
    outlet: str | None
    passage: str
    passage_start: int
    passage_end: int
    start: int
    end: int
    quote: str
    score: float
    highlights: tuple[tuple[int, int], ...] = ()
    page: int | None = None  # the page ``start`` is on; None: the document has no pages
    page_end: int | None = None  # the page the cited text ends on (``page`` unless it runs on)

    @classmethod
    def of_passage(
        cls,
        n: int,
        chunk: ChunkRecord,
        doc: DocumentInfo,
        score: float,
        cited: tuple[int, int, str] | None = None,
        highlights: tuple[tuple[int, int], ...] = (),
    ) -> Citation:
        """Cite ``chunk`` of ``doc``: the span ``cited`` (start, end, quote), or all of it."""
        start, end, quote = cited or (chunk.start, chunk.end, chunk.text)
        return cls(
            n=n,
            doc_id=doc.doc_id,
            chunk_id=chunk.chunk_id,
            title=doc.title,
            date=doc.date,
            outlet=doc.outlet,
            passage=chunk.text,
            passage_start=chunk.start,
            passage_end=chunk.end,
            start=start,
            end=end,
            quote=quote,
            score=round(score, 6),
            highlights=highlights,
            page=page_at(doc.page_starts, start),
            page_end=page_at(doc.page_starts, max(start, end - 1)),
        )


@dataclass(frozen=True)
class Notice:
    """Something the reader should know about how an answer was made."""

    code: str
    message: str


@dataclass(frozen=True)
class Draft:
    """A generator's answer before verification.

    ``citations`` are the passages the text may cite, by number: for an LLM
    every passage it was given (whole passages, no highlights yet); for the
    extractive generator the quotes it made.
    """

    text: str
    citations: list[Citation]
    mode: Mode = "extractive"
    declined: bool = False
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class Flag:
    """A sentence of the answer that no passage supports: ``text[start:end]`` of the answer.

    ``reason`` is ``unsupported`` (it cited passages that do not support it;
    the citations were removed) or ``uncited`` (it cites nothing and no
    passage supports it).
    """

    text: str
    start: int
    end: int
    reason: Literal["unsupported", "uncited"]


@dataclass(frozen=True)
class Verification:
    """What checking a generated answer's citations found and changed."""

    checked: int = 0
    corrected: int = 0
    removed: int = 0
    unsupported: tuple[Flag, ...] = ()


@dataclass(frozen=True)
class Sources:
    """The passages a streamed answer may cite, sent before its first token."""

    citations: list[Citation]
    mode: Mode


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    citations: list[Citation]
    language: Language
    declined: bool
    timings_ms: dict[str, float] = field(default_factory=dict)
    rewritten_query: str | None = None
    mode: Mode | None = None
    verification: Verification | None = None
    notices: tuple[Notice, ...] = ()


class GenerationError(Exception):
    """The generator could not produce an answer (LLM unreachable, timed out, malformed)."""


class Generator(Protocol):
    """Writes an answer from retrieved passages, citing them with ``[n]``."""

    def generate(self, query: Query, hits: list[Hit]) -> Draft: ...


@runtime_checkable
class StreamingGenerator(Generator, Protocol):
    """A generator that streams: `Sources`, then text deltas, then the `Draft`."""

    def stream(self, query: Query, hits: list[Hit]) -> Iterator[Sources | str | Draft]: ...
