"""What every document reader produces: an `Extracted` document built from `Page`s.

A reader (PDF, DOCX, OCR) gives, per page, the page's paragraphs in reading order, already
joined and cleaned.  `Extracted.of_pages` joins them into the document's text (paragraphs
separated by a blank line) and records where each page starts in it, so a character span of
the text -- what a citation points to -- maps back to its page (`page_at`).

``boilerplate_chars`` counts what a reader removed (running headers and footers, page
numbers); ``warnings`` are per-page problems reported to the person ingesting (a scanned page
OCR could not read), never silently dropped.

Leaves out: reading any format, and the text-article path (``index.text.clean``).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

from index.docs.text import is_wide


@dataclass(frozen=True)
class Line:
    """One line of text on a page, with its box in points (origin top left)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float = 0.0  # font size (PDF), or the box height (OCR)

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    paragraphs: tuple[str, ...]
    ocr: bool = False
    boilerplate_chars: int = 0
    continued: bool = False  # its first paragraph continues the previous page's last one


@dataclass(frozen=True)
class Extracted:
    """A document's text, where its pages start in it, and its metadata."""

    fmt: str  # "pdf", "docx" or "image"
    text: str
    page_starts: tuple[int, ...] = ()  # offset of each page's first character; () = no pages
    pages: int | None = None  # pages in the file (some may hold no text)
    title: str | None = None
    date: str | None = None
    issuer: str | None = None
    author: str | None = None
    warnings: tuple[str, ...] = ()
    boilerplate_chars: int = 0
    ocr_pages: tuple[int, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of_pages(cls, fmt: str, pages: Sequence[Page], **meta: object) -> Extracted:
        """Join ``pages`` into one text; pages without text get no start of their own."""
        text = ""
        starts: list[int] = []
        for page in pages:
            body = "\n\n".join(p for p in page.paragraphs if p)
            if text and body:
                text = _joined(text, body[0]) if page.continued else text + "\n\n"
            starts.append(len(text))
            text += body
        return cls(
            fmt=fmt,
            text=text,
            page_starts=tuple(starts),
            pages=len(pages),
            boilerplate_chars=sum(p.boilerplate_chars for p in pages),
            ocr_pages=tuple(p.number for p in pages if p.ocr),
            **meta,  # type: ignore[arg-type]
        )


def _joined(text: str, first: str) -> str:
    """``text`` ready for the rest of a paragraph broken by a page: no space in Chinese, a
    space between Latin words, a hyphenated word put back together."""
    if text[-1] == "-" and text[-2:-1].isalpha() and first.islower():
        return text[:-1]
    return text if is_wide(text[-1]) or is_wide(first) else text + " "


def page_at(page_starts: Sequence[int], offset: int) -> int | None:
    """The 1-based page holding character ``offset`` of the text (None: no page information).

    Pages without text share their start with the next page; the last of them wins, which is
    the page the text is on.
    """
    if not page_starts:
        return None
    return max(1, bisect.bisect_right(page_starts, offset))
