"""Positioned lines of a page -> paragraphs in reading order; running headers and footers.

Used for PDF text layers and OCR alike; both give `Line`s (a line *segment*: text that sits on
one baseline without a wide gap).

* Columns (`reading_order`): a vertical gutter -- a band of x that no line crosses, with at least
  `MIN_COLUMN_LINES` lines on each side, most of them running most of their column's width (a
  table's short keys and values do not) -- splits the page.  Lines that cross the gutter (a title
  across both columns) cut the page into bands; within a band the left column is read before the
  right one.  One page, at most one gutter (two columns: what Chinese gazettes and papers use).
* Rows: segments of one column on the same baseline are one line, joined by ``" | "`` when the
  gap between them is wide (an unruled table row) or a space otherwise.
* Paragraphs (`paragraphs`): a line starts a new paragraph when the gap above it is clearly
  larger than the page's usual line gap, when it is indented, when its font size differs, when it
  starts an enumeration (``第三条``, ``一、``, ``（二）``, ``1.``), or when the line above ended
  short of the column's right edge.  Lines are then joined with `index.docs.text.join_lines`.
* Running lines (`running_lines`): short lines (not sentences) in the top or bottom `MARGIN` of
  the page that repeat at the same place on at least `REPEAT_SHARE` of the pages (and on two),
  page numbers in them ignored -- but not the numbers of an enumeration or a date, so
  ``附件1``/``附件2`` are not one repeated line -- and page numbers (``- 3 -``, ``第3页 共9页``,
  ``3/9``, ``Page 3 of 9``) in those margins on any page.

Leaves out: reading PDFs or images (``index.docs.pdf``, ``index.docs.ocr``) and tables that have
ruling lines (the PDF reader finds those itself).
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from collections.abc import Sequence

from index.docs.model import Line
from index.docs.text import join_lines, tidy

MIN_COLUMN_LINES = 3
MARGIN = 0.09  # share of the page height at the top and at the bottom
REPEAT_SHARE = 0.5
RUNNING_MAX_CHARS = 60
POSITION_STEP = 6.0  # points: lines this close on two pages are at the same place
_DATE_LIKE = re.compile(r"\d{4}\s*[年./-]\s*\d{1,2}|\d{1,2}\s*月\s*\d{1,2}\s*日")
ENUMERATION = re.compile(
    r"^(?:第[一二三四五六七八九十百零〇\d]+[条章节款部分编]|[一二三四五六七八九十]+、|"
    r"[(（][一二三四五六七八九十\d]+[)）]|\d+[.、．]\s*\D|[①-⑳]|附件\s*\d*)"
)
PAGE_NUMBER = re.compile(
    r"^(?:[-—–_\s]*\d{1,4}[-—–_\s]*|第\s*\d{1,4}\s*页(?:\s*[/，,]?\s*共\s*\d{1,4}\s*页)?|"
    r"共\s*\d{1,4}\s*页\s*第\s*\d{1,4}\s*页|\d{1,4}\s*/\s*\d{1,4}|"
    r"(?:page|p\.)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|[-—–]\s*[ivxlc]{1,6}\s*[-—–])$",
    re.I,
)
_DIGITS = re.compile(r"\d+")
_END_OF_SENTENCE = "。！？；：!?;:.”」』）)"


def is_page_number(text: str) -> bool:
    return bool(PAGE_NUMBER.match(text.strip()))


def running_lines(pages: Sequence[Sequence[Line]], heights: Sequence[float]) -> list[set[int]]:
    """Per page, the indices of its running-header, running-footer and page-number lines."""
    candidates = [
        [i for i, line in enumerate(lines) if _in_margin(line, height) and _short(line)]
        for lines, height in zip(pages, heights, strict=True)
    ]
    keys = Counter(
        key
        for lines, height, found in zip(pages, heights, candidates, strict=True)
        for key in {_key(lines[i], height) for i in found}
    )
    need = max(2, round(REPEAT_SHARE * len(pages)))
    return [
        {i for i in found if keys[_key(lines[i], height)] >= need or is_page_number(lines[i].text)}
        for lines, height, found in zip(pages, heights, candidates, strict=True)
    ]


def _in_margin(line: Line, height: float) -> bool:
    return line.bottom <= height * MARGIN or line.top >= height * (1 - MARGIN)


def _short(line: Line) -> bool:
    """Short enough for page furniture, and not a sentence of the text."""
    text = line.text.strip()
    return len(text) <= RUNNING_MAX_CHARS and text[-1:] not in "。！？；"


def _key(line: Line, height: float) -> tuple[str, int]:
    """What repeats: the text (page numbers in it ignored, but not the numbers of an
    enumeration or a date: ``附件1``/``附件2`` differ) and where it is on the page."""
    text = re.sub(r"\s+", "", line.text)
    if not (ENUMERATION.match(text) or _DATE_LIKE.search(text)):
        text = _DIGITS.sub("#", text)
    top = line.top if line.top < height / 2 else line.top - height
    return text, round(top / POSITION_STEP)


def reading_order(lines: Sequence[Line]) -> list[list[Line]]:
    """The page's lines as columns-within-bands, each a top-to-bottom list of merged lines."""
    ordered = sorted(lines, key=lambda ln: (round(ln.top), ln.x0))
    gutter = _gutter(ordered)
    if gutter is None:
        return [_rows(ordered)]
    blocks: list[list[Line]] = []
    left: list[Line] = []
    right: list[Line] = []
    for line in ordered:
        if line.x1 <= gutter[0]:
            left.append(line)
        elif line.x0 >= gutter[1]:
            right.append(line)
        else:  # across the gutter: the band so far ends here
            blocks += [_rows(part) for part in (left, right) if part]
            left, right = [], []
            blocks.append([line])
    blocks += [_rows(part) for part in (left, right) if part]
    return blocks


def _gutter(lines: Sequence[Line]) -> tuple[float, float] | None:
    """The x band in the middle of the text that splits the lines into two columns: the one
    the fewest lines cross, then the widest."""
    if len(lines) < 2 * MIN_COLUMN_LINES:
        return None
    lo, hi = min(ln.x0 for ln in lines), max(ln.x1 for ln in lines)
    size = statistics.median(ln.height for ln in lines)
    best: tuple[int, float, float, float] | None = None  # (crossing, -width, start, stop)
    for line in lines:  # candidate gutters start where a line ends
        start = line.x1
        if not lo + 0.25 * (hi - lo) <= start <= lo + 0.75 * (hi - lo):
            continue
        ends = [ln.x0 for ln in lines if ln.x0 > start]
        if not ends:
            continue
        stop = min(ends)
        if stop - start < 0.8 * size:
            continue
        left = sum(1 for ln in lines if ln.x1 <= start)
        right = sum(1 for ln in lines if ln.x0 >= stop)
        crossing = len(lines) - left - right
        if (
            min(left, right) >= MIN_COLUMN_LINES
            and crossing <= 0.25 * len(lines)
            and _filled(lines, (lo, start), (stop, hi))
        ):
            candidate = (crossing, start - stop, start, stop)
            best = candidate if best is None else min(best, candidate)
    return (best[2], best[3]) if best else None


def _filled(lines: Sequence[Line], left: tuple[float, float], right: tuple[float, float]) -> bool:
    """Columns of text run most of their width; a table's short keys and values do not."""
    for lo, hi in (left, right):
        widths = [ln.x1 - ln.x0 for ln in lines if ln.x0 >= lo - 1 and ln.x1 <= hi + 1]
        if not widths or statistics.median(widths) < 0.6 * (hi - lo):
            return False
    return True


def _rows(lines: Sequence[Line]) -> list[Line]:
    """Segments on one baseline merged into one line, top to bottom."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda ln: (ln.top, ln.x0)):
        last = rows[-1][-1] if rows else None
        if last is not None and abs(line.top - last.top) <= 0.4 * max(last.height, 1.0):
            rows[-1].append(line)
        else:
            rows.append([line])
    return [_merge(sorted(row, key=lambda ln: ln.x0)) for row in rows]


def _merge(row: list[Line]) -> Line:
    if len(row) == 1:
        return row[0]
    text = row[0].text
    for prev, seg in itertools.pairwise(row):
        text += (" | " if seg.x0 - prev.x1 > 2 * max(prev.height, 1.0) else " ") + seg.text
    return Line(
        text,
        row[0].x0,
        max(s.x1 for s in row),
        min(s.top for s in row),
        max(s.bottom for s in row),
        max(s.size for s in row),
    )


def paragraphs(block: Sequence[Line], edges: tuple[float, float] | None = None) -> list[str]:
    """The paragraphs of one column block (lines top to bottom), each joined into one string;
    ``edges`` are the column's left and right edges (default: the block's own)."""
    if not block:
        return []
    edges = edges or (min(ln.x0 for ln in block), max(ln.x1 for ln in block))
    gaps = [b.top - a.bottom for a, b in itertools.pairwise(block)]
    usual = statistics.median(gaps) if gaps else 0.0
    groups: list[list[str]] = [[tidy(block[0].text)]]
    for prev, line, gap in zip(block, block[1:], gaps, strict=False):
        if _starts_paragraph(prev, line, gap, usual, edges):
            groups.append([])
        groups[-1].append(tidy(line.text))
    return [text for group in groups if (text := _joined(group))]


def _joined(group: list[str]) -> str:
    """A paragraph's lines joined; rows of a table (``a | b``) stay one per line."""
    if len(group) > 1 and all(" | " in line for line in group):
        return "\n".join(group)
    return join_lines(group)


def _starts_paragraph(
    prev: Line, line: Line, gap: float, usual: float, edges: tuple[float, float]
) -> bool:
    size = max(prev.height, line.height, 1.0)
    text = tidy(line.text)
    if gap > usual + 0.5 * size or abs(line.size - prev.size) > 0.15 * max(prev.size, 1.0):
        return True
    if (" | " in text) != (" | " in prev.text):  # a table's rows start and end a paragraph
        return True
    if " | " in text:
        return False  # the next row of the same table
    if _centred(prev, edges, size) and _centred(line, edges, size):
        return ends_sentence(prev.text)  # a title set over two centred lines is one
    return (
        line.x0 - edges[0] > 1.2 * size  # indented first line (or right-aligned)
        or bool(ENUMERATION.match(text))
        or edges[1] - prev.x1 > 2.5 * size  # the line above stopped short
    )


def _centred(line: Line, edges: tuple[float, float], size: float) -> bool:
    """Set in the middle: indented, with as much space on its right as on its left."""
    left, right = line.x0 - edges[0], edges[1] - line.x1
    return left > 2 * size and abs(left - right) < 2 * size and " | " not in line.text


def ends_sentence(text: str) -> bool:
    return text.rstrip()[-1:] in _END_OF_SENTENCE
