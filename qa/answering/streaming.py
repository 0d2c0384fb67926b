"""Streaming an answer: the events `QAService.stream` yields, and streaming any generator.

Events, in order: `Passages` (the numbered passages the answer may cite, with
the standalone query, language and mode), `Token`s (the text as generated, in
the question's script), `Verified` deltas (the same text after citation
checking, released claim by claim), `Notice`s, and one `Finished` carrying
the final `Answer` — whose text and citations are the authoritative ones.
When an LLM fails mid-answer a `Notice` (``llm_unavailable``) is followed by
a new `Passages` and the extractive answer: a new `Passages` starts the answer
afresh.

`pieces` streams any generator: a `StreamingGenerator`'s own stream, or else
its whole draft in sentence-sized pieces (`draft_pieces`).

Leaves out: the answer path (``qa.service``) and the wire format (``api``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from qa.answer import Answer, Citation, Draft, Generator, Mode, Notice, Sources, StreamingGenerator
from qa.language import Language
from qa.retrieval.query import Query
from qa.retrieval.retrieve import Hit

_PIECE_END = re.compile(r"(?<=[。！？!?；;\n\]])")


@dataclass(frozen=True)
class Passages:
    citations: list[Citation]
    rewritten_query: str | None
    language: Language
    mode: Mode


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Verified:
    text: str


@dataclass(frozen=True)
class Finished:
    answer: Answer


Event = Passages | Token | Verified | Notice | Finished


def pieces(generator: Generator, query: Query, hits: list[Hit]) -> Iterator[Sources | str | Draft]:
    if isinstance(generator, StreamingGenerator):
        yield from generator.stream(query, hits)
    else:
        yield from draft_pieces(generator.generate(query, hits))


def draft_pieces(draft: Draft) -> Iterator[Sources | str | Draft]:
    """A finished draft as a stream: its sources, its text in pieces, then itself."""
    yield Sources(draft.citations, draft.mode)
    for piece in _PIECE_END.split(draft.text):
        if piece:
            yield piece
    yield draft
