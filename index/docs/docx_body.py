"""Walking a Word body into pages of paragraphs, with list labels, tables and page breaks.

`Body.read` walks ``w:body`` in document order: paragraphs and tables where they stand, content
controls unwrapped, text boxes after their anchor paragraph.  A paragraph's runs give its text
(tabs, non-breaking hyphens); soft line breaks are joined with `join_lines` (no space inside
Chinese), every piece is `tidy`-ed, empty paragraphs are dropped.  A list paragraph gets the
label `Numbering` counts, also when its numbering comes from its style (`Styles`, which also
say which paragraphs are headings).  A table is one paragraph, one row per line, cells joined
by `` | ``: a merged cell once, a vertically merged continuation empty, nested tables
flattened into their cell.  Hidden text, tracked deletions and field codes are not text.

Pages come from Word's markers: ``w:br w:type="page"``, ``w:lastRenderedPageBreak``,
``w:pageBreakBefore`` and next-page section breaks; markers with nothing between them count
once (two explicit breaks in a row make a blank page).  A paragraph Word broke across pages
is split there, the second part marked continued; a table is split between rows.  The walk
keeps what the metadata needs: lines and paragraphs outside tables, headings, counts.

Leaves out: opening the file, headers and footers, metadata and the page count Word stored
(``index.docs.docx``); number formats (``index.docs.docx_numbering``); footnotes, endnotes,
comments and images (only noted, for the "only pictures" message).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

from index.docs.docx_numbering import Element, Numbering, W, as_int, descendants, val
from index.docs.text import is_wide, join_lines, tidy
from index.text.pinyin import CJK

MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_SKIP = {W + t for t in ("pPr", "rPr", "del", "moveFrom", "txbxContent", "instrText")}
_SKIP.add(MC + "Fallback")
_OBJECTS = {W + "drawing", W + "pict", W + "object"}
_WRAPPERS = {W + "sdt", W + "sdtContent", W + "customXml"}
_HEADING_STYLE = re.compile(r"^(?:heading\s*\d|标题\s*\d?|title|subtitle|副标题)$", re.I)


def _ppr_fields(ppr: Element | None) -> dict[str, Any]:
    """num_id, ilvl, outline (level) and break_before set in one ``w:pPr``."""
    if ppr is None:
        return {}
    num, brk = ppr.find(W + "numPr"), ppr.find(W + "pageBreakBefore")
    fields = {
        "num_id": val(num.find(W + "numId")) if num is not None else None,
        "ilvl": as_int(val(num.find(W + "ilvl"))) if num is not None else None,
        "outline": as_int(val(ppr.find(W + "outlineLvl"))),
        "break_before": None if brk is None else val(brk, "1") not in ("0", "false", "off"),
    }
    return {key: value for key, value in fields.items() if value is not None}


class Styles:
    """Paragraph styles: their names and the paragraph properties they set, by style id."""

    def __init__(self, root: Element | None) -> None:
        self.fields: dict[str, dict[str, Any]] = {}
        self.default: str | None = None
        for el in descendants(root, "style"):
            sid = el.get(W + "styleId")
            if el.get(W + "type") != "paragraph" or not sid:
                continue
            self.fields[sid] = {"name": val(el.find(W + "name")) or sid}
            self.fields[sid] |= {"based_on": val(el.find(W + "basedOn"))}
            self.fields[sid] |= _ppr_fields(el.find(W + "pPr"))
            if el.get(W + "default") in ("1", "true"):
                self.default = sid

    def lookup(self, sid: str | None, key: str) -> Any:
        """``key`` set by style ``sid`` or inherited along its ``basedOn`` chain."""
        seen: set[str] = set()
        while sid in self.fields and sid not in seen:
            seen.add(sid)
            if key in self.fields[sid]:
                return self.fields[sid][key]
            sid = self.fields[sid]["based_on"]
        return None


def _tokens(el: Element) -> Iterator[tuple[str, str]]:
    """A paragraph's content in order: ("t", text), ("br", ""), ("page", marker kind), ("obj",
    "") for a picture; hidden runs, deletions, field codes and VML fallbacks left out."""
    for child in el:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIP:  # comments and processing instructions
            continue
        if tag == W + "t":
            yield "t", child.text or ""
        elif tag in (W + "tab", W + "ptab"):
            yield "t", "\t"
        elif tag in (W + "br", W + "cr"):
            yield ("page", "hard") if child.get(W + "type") == "page" else ("br", "")
        elif tag == W + "lastRenderedPageBreak":
            yield "page", "rendered"
        elif tag == W + "noBreakHyphen":
            yield "t", "-"
        elif tag in _OBJECTS:
            yield "obj", ""
        elif tag != W + "r" or val(child.find(f"{W}rPr/{W}vanish"), "1") in (None, "0", "false"):
            yield from _tokens(child)


def _segments(p: Element) -> Iterator[tuple[list[str], str | None]]:
    """A paragraph as runs of tidied lines (soft breaks), each with the marker ending it."""
    lines = [""]
    for kind, text in _tokens(p):
        if kind == "t":
            lines[-1] += text
        elif kind == "br":
            lines.append("")
        elif kind in ("page", "obj"):
            yield [tidy(line) for line in lines], text or kind
            lines = [""]
    yield [tidy(line) for line in lines], None


def _labelled(label: str, text: str) -> str:
    """``1. text``, ``(1) text``, but ``一、text``, ``（1）text`` (after CJK punctuation)."""
    if not label or not text:
        return text
    tight = is_wide(label[-1]) and not re.match(f"[{CJK}]", label[-1])
    return label + text if tight else f"{label} {text}"


class Body:
    """Walks the body into pages of paragraphs, keeping what the metadata needs."""

    def __init__(self, styles: Styles, numbering: Numbering) -> None:
        self.styles, self.numbering = styles, numbering
        self.pages: list[list[str]] = [[]]
        self.continued = [False]
        self.content, self.after_hard = False, True  # the start counts as after a hard break
        self.rendered_breaks = self.objects = False
        self.lines: list[str] = []  # lines outside tables, for the date and issuer
        self.paragraphs: list[str] = []  # paragraphs outside tables, for the title
        self.headings: list[str] = []
        self.stats = {"paragraphs": 0, "headings": 0, "list_items": 0, "tables": 0}
        self.section_starts: dict[Element, str] = {}  # a section's sectPr -> how the next starts

    def page_list(self) -> list[tuple[list[str], bool]]:
        return list(zip(self.pages, self.continued, strict=True))

    def mark(self, kind: str) -> bool:
        """A page marker (hard, rendered, before); True when it starts a new page."""
        self.rendered_breaks |= kind == "rendered"
        started = self.content or (kind == "hard" and self.after_hard)
        if started:
            self.pages.append([])
            self.continued.append(False)
            self.content = False
        self.after_hard = kind == "hard" or (self.after_hard and not started)
        return started

    def add(self, text: str) -> None:
        self.pages[-1].append(text)
        self.content = True

    def read(self, body: Element) -> None:
        """Walk the document body; a section's ``w:type`` says how it starts after the last."""
        sections = [s for s in body.iter(W + "sectPr") if s.getparent().tag != W + "sectPrChange"]
        for end, following in itertools.pairwise(sections):
            self.section_starts[end] = val(following.find(W + "type"), "") or "nextPage"
        self.walk(body)

    def walk(self, container: Element) -> None:
        for child in container:
            if child.tag == W + "p":
                self.paragraph(child)
            elif child.tag == W + "tbl":
                self.table(child)
            elif child.tag in _WRAPPERS:
                self.walk(child)

    def paragraph(self, p: Element) -> None:
        label, heading, break_before = self._properties(p)
        if break_before:
            self.mark("before")
        split = False
        for lines, marker in _segments(p):
            lines = [line for line in lines if line]
            if lines:
                lines[0] = _labelled(label, lines[0])
                label = ""
                self.continued[-1] |= split and not self.pages[-1]
                self._paragraph_text(join_lines(lines), lines, heading)
            if marker == "obj":
                self.content = self.objects = True
            elif marker:
                split = self.mark(marker) and bool(lines) and marker == "rendered"
        for box in p.iter(W + "txbxContent"):
            if not any(a.tag in (MC + "Fallback", W + "txbxContent") for a in _above(box, p)):
                self.walk(box)
        sect = p.find(f"{W}pPr/{W}sectPr")
        if sect is not None and self.section_starts.get(sect) not in ("continuous", "nextColumn"):
            self.mark("before")  # a section break; the next section starts on a new page

    def _paragraph_text(self, text: str, lines: list[str], heading: bool) -> None:
        self.add(text)
        self.lines += lines
        self.paragraphs.append(text)
        self.headings += [text] if heading else []
        self.stats["headings" if heading else "paragraphs"] += 1

    def _properties(self, p: Element) -> tuple[str, bool, bool]:
        """(list label, is a heading, page break before) of paragraph ``p``."""
        ppr = p.find(W + "pPr")
        own = _ppr_fields(ppr)
        sid = (val(ppr.find(W + "pStyle")) if ppr is not None else None) or self.styles.default
        look = self.styles.lookup
        name = self.styles.fields.get(sid or "", {}).get("name", "")
        outline = own.get("outline", look(sid, "outline"))
        heading = bool(_HEADING_STYLE.match(name)) or (outline is not None and 0 <= outline < 9)
        num_id, label = own.get("num_id") or look(sid, "num_id"), ""
        if num_id and num_id != "0":
            ilvl = own.get("ilvl", look(sid, "ilvl"))
            label = self.numbering.label(
                num_id, self.numbering.level_of(num_id, sid) if ilvl is None else ilvl
            )
            self.stats["list_items"] += 1
        return label, heading, bool(own.get("break_before", look(sid, "break_before")))

    def table(self, tbl: Element) -> None:
        """The table as paragraphs of rows, split before (or after) a row where a page starts."""
        self.stats["tables"] += 1
        rows: list[str] = []
        for tr in _children(tbl, "tr"):
            cells: list[str] = []
            before: list[str] = []  # page markers ahead of the row's first text
            after: list[str] = []
            for tc in _children(tr, "tc"):
                merge = tc.find(f"{W}tcPr/{W}vMerge")
                if merge is not None and val(merge, "continue") != "restart":
                    cells.append("")  # continues the cell above
                else:
                    cells.append(self._cell(tc, after if any(cells) else before, after))
            if before:
                self._rows(rows, before[0])
            rows += [tidy(" | ".join(cells))] if any(cells) else []
            if after:
                self._rows(rows, after[0])
        self._rows(rows, None)

    def _rows(self, rows: list[str], marker: str | None) -> None:
        if rows:
            self.add("\n".join(rows))
            rows.clear()
        if marker:
            self.mark(marker)

    def _cell(self, tc: Element, before: list[str], after: list[str]) -> str:
        """A cell's text, nested tables flattened into it; its page markers go to ``before``
        until its first text, then to ``after``."""
        parts: list[str] = []
        for p in _cell_paragraphs(tc):
            label = self._properties(p)[0]
            for lines, marker in _segments(p):
                if text := join_lines(lines):
                    parts.append(_labelled(label, text))
                    label = ""
                self.objects |= marker == "obj"
                if marker and marker != "obj":
                    (after if parts else before).append(marker)
        return join_lines(parts)


def _cell_paragraphs(el: Element) -> Iterator[Element]:
    for child in el:
        if child.tag == W + "p":
            yield child
        elif child.tag in (W + "tbl", W + "tr", W + "tc") or child.tag in _WRAPPERS:
            yield from _cell_paragraphs(child)


def _children(el: Element, name: str) -> Iterator[Element]:
    """``w:{name}`` children of ``el``, also those inside content controls."""
    for child in el:
        if child.tag == W + name:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _children(child, name)


def _above(el: Element, stop: Element) -> Iterator[Element]:
    for ancestor in el.iterancestors():
        if ancestor is stop:
            return
        yield ancestor
