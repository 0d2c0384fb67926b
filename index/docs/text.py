"""Joining the lines of a paragraph the way the language wants, and tidying extracted text.

`join_lines` glues the lines of one paragraph: nothing between two lines when either side of
the break is Chinese (or full-width punctuation), one space between two Latin words, and a word
hyphenated across the break (``infor-`` / ``mation``) is put back together.  `tidy` normalises
one line of extracted text: full-width Latin letters and digits (``ＡＢＣ１２３``) become ASCII,
the spaces of letter-spaced Chinese (``国 务 院 文 件``: single characters, each set apart) go,
runs of spaces become one, and the full-width space used for indentation goes.  A space between
Chinese words (``第一条　为深入贯彻``) stays.

Leaves out: deciding where paragraphs break (``index.docs.layout``).
"""

from __future__ import annotations

import re

from index.text.pinyin import CJK

# Chinese characters, CJK punctuation (、。〈〉《》「」『』【】〔〕…), full-width forms and the
# curly quotes that Chinese text uses.
WIDE = rf"{CJK}\u3000-\u303f\uff00-\uffef\u2018\u2019\u201c\u201d\u2014\u2026\u00b7"
_WIDE_CHAR = re.compile(f"[{WIDE}]")
_FULLWIDTH_ALNUM = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
# Two or more single wide characters, each set apart by spaces: letter-spacing.
_LETTER_SPACED = re.compile(rf"(?<![^\s])[{WIDE}](?:[ \u3000\u00a0]+[{WIDE}](?![^\s]))+")
_SPACES = re.compile(r"[ \t\u00a0\u2002-\u200b\u3000]+")
_HYPHEN_END = re.compile(r"[A-Za-z]-$")


def is_wide(ch: str) -> bool:
    """A Chinese character or CJK / full-width punctuation: no space is written next to it."""
    return bool(ch) and bool(_WIDE_CHAR.match(ch))


def tidy(line: str) -> str:
    line = _FULLWIDTH_ALNUM.sub(lambda m: chr(ord(m.group()) - 0xFEE0), line)
    line = _LETTER_SPACED.sub(lambda m: _SPACES.sub("", m.group()), line)
    return _SPACES.sub(" ", line).strip()


def join_lines(lines: list[str]) -> str:
    """One paragraph from its lines (each already tidied); empty lines are skipped."""
    out = ""
    for line in lines:
        if not line:
            continue
        if not out:
            out = line
        elif _HYPHEN_END.search(out) and line[0].islower():
            out = out[:-1] + line  # infor- / mation -> information
        elif is_wide(out[-1]) or is_wide(line[0]):
            out += line
        else:
            out += " " + line
    return out
