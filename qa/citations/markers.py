"""Citation markers in an answer: the text as claims, each with the ``[n]`` it carries.

An answer is read as a list of `Claim`s.  A claim is a stretch of text that ends
a sentence (at 。！？；!?; or …, at a full stop followed by a space, or at a line
break) or that is followed by a marker group; the group's numbers belong to it.
Marker groups are ``[1]``, ``[1][2]``, ``[1, 2]``, ``[1-3]``, the full-width
``［1］`` and ``【1】`` that Chinese output uses, and what small models write
instead: a label before the number (``[Passage 1]``, ``[passages 1, 2]``,
``【段落1】``) and footnote carets (``[^1]``, ``^[1]``); a group written after the
sentence's full stop (``…要求。[1]``) belongs to that sentence.  `render` writes
the claims back with every group normalised to ``[a][b]`` right after its text,
so rendering unchanged claims only normalises marker spelling.

`stable_end` tells a stream how much of the text so far is made of finished
claims: up to the last sentence end after which a new sentence has begun.
`disarm` rewrites the groups in quoted text (an article's own ``[1]`` footnotes,
or a forged passage number) as ``(1)``, which is no longer a marker.

Leaves out: what the numbers refer to and whether they are right (``qa.citations.verify``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# A label small models write before a number: "[Passage 1]", "[passages 1, 2]", "【段落1】"
_LABEL = r"(?:(?i:passages?|sources?|refs?)\s*|(?:段落|文段|来源|來源|资料|資料)\s*)?"
_NUMBERS = rf"{_LABEL}\d{{1,3}}(?:\s*(?:[,，、;；]|[-–])\s*{_LABEL}\d{{1,3}})*"
# "[1]", and the footnote spellings "[^1]" and "^[1]"
# (A match starts only where a run of blanks starts: from every blank of a long run, the
# leading "[ \t]*" made reading 5,000 blanks after "[1" take seconds.)
_MARKER = rf"(?<![ \t])[ \t]*\^?[\[［【]\s*(?:\^\s*)?{_NUMBERS}\s*[\]］】]"
_GROUP = re.compile(rf"(?:{_MARKER})+")
_END = re.compile(r"(?:[。！？；!?;]+|…+|\.(?=\s)|\n)[”’」』）)》\"']*")
_SEPARATOR = r"\s*(?:[,，、;；]|[-–])\s*"
# A group still being written: numbers, each followed by a separator but the last, which may
# be followed by blanks ("[1 " before "]").  Unambiguous (digits never run on into the next
# number), so a failed match costs linear time: with "(?:\d{1,3}(?:sep)?)*" a run of 30
# digits took seconds to fail, 40 hours.
_PARTIAL_LABEL = r"(?:\^|[A-Za-z]{1,8}\s*|[\u4e00-\u9fff]{1,2}\s*)?"
_PARTIAL = re.compile(
    rf"\^?[\[［【]\s*{_PARTIAL_LABEL}"
    rf"(?:\d{{1,3}}(?:{_SEPARATOR}{_PARTIAL_LABEL}\d{{1,3}})*(?:{_SEPARATOR}|\s+)?)?|\^"
)
_BLANK = re.compile(r"\s*")
_WORD = re.compile(r"[^\W\d_]", re.UNICODE)
MAX_RANGE = 20


@dataclass(frozen=True)
class Claim:
    text: str
    numbers: tuple[int, ...] = ()

    @property
    def has_words(self) -> bool:
        return _WORD.search(self.text) is not None

    @property
    def ends_sentence(self) -> bool:
        stripped = self.text.rstrip(" \t")
        match = _END.search(stripped)
        return match is not None and match.end() == len(stripped)

    def with_numbers(self, numbers: tuple[int, ...]) -> Claim:
        return replace(self, numbers=numbers)


def parse(text: str) -> list[Claim]:
    claims: list[Claim] = []
    position = 0
    for group in _GROUP.finditer(text):
        claims.extend(_sentences(text[position : group.start()]))
        _attach(claims, _numbers(group.group()))
        position = group.end()
    claims.extend(_sentences(text[position:]))
    return claims


def render(claims: list[Claim]) -> str:
    return "".join(render_claim(c) for c in claims)


def render_claim(claim: Claim) -> str:
    return claim.text + "".join(f"[{n}]" for n in claim.numbers)


def strip_markers(text: str) -> str:
    return _GROUP.sub("", text)


def disarm(text: str) -> str:
    """``text`` with every marker group's brackets made round: ``[1][2]`` -> ``(1)(2)``."""
    return _GROUP.sub(lambda group: group.group().translate(_ROUND), text)


_ROUND = str.maketrans({"[": "(", "［": "(", "【": "(", "]": ")", "］": ")", "】": ")", "^": ""})


def stable_end(text: str) -> int:
    """Length of the prefix of ``text`` whose claims can no longer change."""
    stable = 0
    for end in _END.finditer(text):
        position = end.end()
        while group := _GROUP.match(text, position) or _GROUP.match(
            text, _blank_end(text, position)
        ):  # a marker's own blanks are part of it: from their end, the look-behind refuses it
            position = group.end()
        rest = _blank_end(text, position)  # where the next claim begins, if any
        if rest < len(text) and not _PARTIAL.fullmatch(text, rest):
            stable = rest
    return stable


def _blank_end(text: str, position: int) -> int:
    match = _BLANK.match(text, position)
    return match.end() if match else position


def _sentences(text: str) -> list[Claim]:
    pieces, start = [], 0
    for end in _END.finditer(text):
        pieces.append(text[start : end.end()])
        start = end.end()
    if start < len(text):
        pieces.append(text[start:])
    return [Claim(piece) for piece in pieces]


def _attach(claims: list[Claim], numbers: tuple[int, ...]) -> None:
    """Give ``numbers`` to the last claim with words, unless blank text or a group intervenes."""
    i = len(claims) - 1
    while i >= 0 and not claims[i].text.strip() and not claims[i].numbers:
        i -= 1
    if i >= 0 and claims[i].has_words and not claims[i].numbers:
        claims[i] = claims[i].with_numbers(numbers)
    elif i >= 0 and claims[i].numbers and i == len(claims) - 1:
        claims[i] = claims[i].with_numbers(claims[i].numbers + numbers)
    else:
        claims.append(Claim("", numbers))


def _numbers(group: str) -> tuple[int, ...]:
    out: list[int] = []
    for inner in re.findall(r"[\[［【]([^\]］】]*)[\]］】]", group):
        inner = re.sub(r"[^\d,，、;；\-–]", " ", inner)  # labels and carets
        for part in re.split(r"\s*[,，、;；]\s*", inner.strip()):
            bounds = [int(b) for b in re.split(r"\s*[-–]\s*", part) if b]
            if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] <= MAX_RANGE:
                out.extend(range(bounds[0], bounds[1] + 1))
            else:
                out.extend(bounds)
    return tuple(dict.fromkeys(out))
