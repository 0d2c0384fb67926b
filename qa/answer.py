"""What an answer is: text with ``[n]`` markers and the citations they point to.

A `Citation` is data carried end to end: document id, title, date, outlet,
the passage (chunk) it comes from with the passage's span, and the exact span
and text of what was cited, all as character offsets into the cleaned
article (what ``GET /v1/documents/{id}`` returns).  A `Generator` turns a
question and retrieved passages into an answer; ``qa.extractive`` is the one
that needs no LLM.

Leaves out: deciding whether to answer at all (``qa.retrieve.is_relevant``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from qa.language import Language
from qa.query import Query
from qa.retrieve import Hit


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


@dataclass(frozen=True)
class Draft:
    text: str
    citations: list[Citation]


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    citations: list[Citation]
    language: Language
    declined: bool
    timings_ms: dict[str, float] = field(default_factory=dict)


class Generator(Protocol):
    """Writes an answer from retrieved passages, citing them with ``[n]``."""

    def generate(self, query: Query, hits: list[Hit]) -> Draft: ...
