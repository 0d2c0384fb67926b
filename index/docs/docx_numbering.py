"""Word list numbering: the label a list paragraph shows, from numbering.xml.

`Numbering` reads the lists (``w:num``) and their levels (``w:abstractNum``, followed through
``w:numStyleLink`` to the list style's definition; ``w:lvlOverride`` levels and
``w:startOverride`` starts laid over them) and counts per (numId, level): each label is the
next number at its level, deeper levels start again.  The level text composes the numbers
(``%1.%2``; ``w:isLgl`` writes the other levels in decimal), a bullet level is ``•``.
`format_number` writes a number in a ``w:numFmt``: decimal, ``01``, letters, Roman, ``①``,
Chinese counting and financial numerals (``一``, ``十一``, ``一百零一``; ``壹``), ``〇一``
digits, the heavenly stems and earthly branches.  Also the small WordprocessingML helpers the
other .docx modules share (`W`, `val`, `as_int`, `descendants`).

Leaves out: which paragraphs are numbered and how the label joins their text
(``index.docs.docx_body``); ``w:lvlRestart`` and ``w:suff``; picture bullets (all ``•``);
formats not known here and Chinese numbers from 10000 (written in decimal).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from index.docs.text import tidy

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
Element = Any  # an lxml element (python-docx's oxml classes)


@dataclass(frozen=True)
class _Level:
    fmt: str  # w:numFmt
    text: str  # w:lvlText, "%1.%2"
    start: int
    legal: bool  # w:isLgl: other levels' numbers in decimal
    style: str | None  # the paragraph style this level belongs to


def _levels(el: Element) -> dict[int, _Level]:
    return {
        as_int(lvl.get(W + "ilvl")) or 0: _Level(
            fmt=val(lvl.find(W + "numFmt")) or "decimal",
            text=val(lvl.find(W + "lvlText")) or "",
            start=as_int(val(lvl.find(W + "start"))) or 0,
            legal=lvl.find(W + "isLgl") is not None,
            style=val(lvl.find(W + "pStyle")),
        )
        for lvl in el.iter(W + "lvl")
    }


class Numbering:
    """The labels Word shows for list paragraphs (numbering.xml), counted per (numId, level)."""

    def __init__(self, root: Element | None) -> None:
        self.lists: dict[str, dict[int, _Level]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        abstract = {a.get(W + "abstractNumId"): a for a in descendants(root, "abstractNum")}
        by_style = {val(a.find(W + "styleLink")): a for a in abstract.values()}
        for num in descendants(root, "num"):
            base = abstract.get(val(num.find(W + "abstractNumId")))
            link = val(base.find(W + "numStyleLink")) if base is not None else None
            base = by_style.get(link, base) if link else base
            levels = _levels(base) if base is not None else {}
            for override in num.iter(W + "lvlOverride"):
                levels |= _levels(override)
                ilvl, start = (
                    as_int(override.get(W + "ilvl")) or 0,
                    override.find(W + "startOverride"),
                )
                if start is not None and ilvl in levels:
                    levels[ilvl] = replace(levels[ilvl], start=as_int(val(start)) or 0)
            self.lists[num.get(W + "numId")] = levels

    def level_of(self, num_id: str, style: str | None) -> int:
        """The level a paragraph numbered by its style sits at (the level naming the style)."""
        levels = self.lists.get(num_id, {})
        return next((i for i, lvl in levels.items() if style and lvl.style == style), 0)

    def label(self, num_id: str, ilvl: int) -> str:
        """The next label of list ``num_id`` at level ``ilvl``; deeper levels restart."""
        levels = self.lists.get(num_id, {})
        if ilvl not in levels:
            return ""
        counts = self.counters.setdefault(num_id, {})
        counts[ilvl] = counts[ilvl] + 1 if ilvl in counts else levels[ilvl].start
        for deeper in [k for k in counts if k > ilvl]:
            del counts[deeper]
        this = levels[ilvl]
        if this.fmt == "bullet":
            return "•"

        def number(match: re.Match[str]) -> str:
            n = int(match[1]) - 1
            level = levels.get(n, this)
            fmt = "decimal" if this.legal and n != ilvl else level.fmt
            return format_number(counts.get(n, level.start), fmt)

        return tidy(re.sub(r"%([1-9])", number, this.text))


_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
          (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))  # fmt: skip
_CYCLES = {
    "ideographTraditional": "甲乙丙丁戊己庚辛壬癸",
    "ideographZodiac": "子丑寅卯辰巳午未申酉戌亥",
}


def format_number(n: int, fmt: str) -> str:
    """``n`` in Word's number format ``fmt`` (``w:numFmt``); formats not known here as decimal."""
    if fmt == "none":
        return ""
    if n <= 0:
        return str(n)
    if fmt in ("lowerLetter", "upperLetter"):
        text = chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)  # ... z, aa, bb
        return text.upper() if fmt == "upperLetter" else text
    if fmt in ("lowerRoman", "upperRoman"):
        text, rest = "", n
        for value, digits in _ROMAN:
            count, rest = divmod(rest, value)
            text += digits * count
        return text.upper() if fmt == "upperRoman" else text
    if fmt.startswith(("chineseCounting", "taiwaneseCounting", "japaneseCounting")):
        return _chinese(n, "零一二三四五六七八九", "十百千")
    if fmt in ("chineseLegalSimplified", "ideographLegalTraditional"):
        return _chinese(n, "零壹贰叁肆伍陆柒捌玖", "拾佰仟")
    if fmt == "ideographDigital":
        return "".join("〇一二三四五六七八九"[int(d)] for d in str(n))
    if fmt in _CYCLES:
        return _CYCLES[fmt][(n - 1) % len(_CYCLES[fmt])]
    if fmt.startswith("decimalEnclosedCircle") and n <= 20:
        return chr(0x2460 + n - 1)  # ①
    return f"{n:02d}" if fmt == "decimalZero" else str(n)


def _chinese(n: int, digits: str, units: str) -> str:
    """1 一, 10 十, 11 十一, 20 二十, 101 一百零一, 1010 一千零一十 (decimal from 10000)."""
    if n >= 10000:
        return str(n)
    if 10 <= n < 20 and digits[1] == "一":
        return units[0] + (digits[n % 10] if n % 10 else "")
    text, gap = "", False
    for power, unit in ((1000, units[2]), (100, units[1]), (10, units[0]), (1, "")):
        digit = n // power % 10
        if digit:
            text += (digits[0] if gap else "") + digits[digit] + unit
        gap = (gap or bool(text)) and not digit
    return text


def descendants(root: Element | None, name: str) -> Iterator[Element]:
    """The ``w:{name}`` elements under ``root``; none when there is no ``root``."""
    return iter(()) if root is None else root.iter(W + name)


def val(el: Element | None, default: str | None = None) -> str | None:
    """``w:val`` of ``el``: ``default`` when it has none, None when there is no ``el``."""
    return None if el is None else el.get(W + "val", default)


def as_int(text: str | None) -> int | None:
    """``text`` as an integer; None when it is missing or not a (9-digit at most) integer."""
    return int(text) if text and re.fullmatch(r"-?\d{1,9}", text) else None
