"""Repairs inside kept text: inline pinyin, mojibake, spaced quotes, broken paragraphs.

* `remove_pinyin` drops pinyin annotations that some sites put after polyphonic or
  converted characters, e.g. ``機(jī)`` -> ``機``: one to four lowercase pinyin-shaped
  syllables in parentheses, with at least one tone-marked vowel or ``ü``, directly
  after a CJK character.  Ordinary parentheses (``(以下简称《意见》)``, ``(CBD)``,
  ``(市区)``) and accented words that are not pinyin-shaped (``(crème)``) never match.
* `remove_mojibake` drops garbled runs such as ``?;鶎狱h`` or ``?zhèn)涞膱?jiān)``:
  a run starting at ``?`` or U+FFFD made of characters that are rare in jieba's
  dictionary (after folding traditional to simplified), lowercase Latin letters and
  ASCII debris, allowing at most two ordinary characters between garbage
  characters.  A run needs two garbage characters, one of them a rare CJK
  character (or a U+FFFD), so ``为何?如何`` is left alone.  When the text before a
  ``?`` run ends in a dictionary word (``過硬?;鶎狱h組織``) the lost ``。`` is put
  back; otherwise the run is simply deleted.
* `normalise_quotes` turns spaced ASCII quote pairs (``" 细胞工程 "``) into
  ``“细胞工程”`` in lines that contain CJK text (and an even number of ``"``).
* `join_broken_paragraphs` re-joins paragraphs split mid-sentence.  A paragraph
  that stops without closing punctuation is joined to the next one when it ends in
  a comma, or is not heading-like (a heading is at most ``HEADING_MAX_CHARS`` chars
  with no clause punctuation after its enumerator), or the two characters across
  the break form a dictionary word (``要把基`` / ``层党组织``).  A paragraph
  starting with an enumerator (``一、``, ``(二)``, ``3.``) is never attached.

Also holds the shared lazily-built tables: OpenCC ``t2s`` folding (`to_simplified`)
and character / two-character-word frequencies from jieba's bundled ``dict.txt``
(`char_frequency`, `is_word`).

Leaves out: re-decoding mojibake (the runs seen so far do not round-trip through
utf-8/gbk/big5), traditional/simplified conversion of the text itself, and any
other punctuation changes.
"""

from __future__ import annotations

import functools
import re
import threading
from pathlib import Path

import jieba
import opencc

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TONE_LETTERS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
# A character whose folded form is in at most this many dictionary uses is "rare".
RARE_CHAR_MAX_FREQ = 15
# Ordinary characters tolerated between two garbage characters inside one run.
MOJIBAKE_MAX_GAP = 2

_VOWELS = "aeiouü" + TONE_LETTERS[:-4]
# One pinyin syllable: optional initial, vowel cluster, optional -n/-ng/-r (or 嗯 ń/ň/ǹ).
_SYLLABLE = rf"(?:(?:[zcs]h|[bpmfdtnlgkhjqxrzcsyw])?[{_VOWELS}]{{1,4}}(?:ng|n|r)?|[ńňǹḿ])"
PINYIN_RE = re.compile(rf"(?<=[{CJK}])[(（]\s*{_SYLLABLE}(?:\s?{_SYLLABLE}){{0,3}}\s*[)）]")
_TONED = re.compile(rf"[{TONE_LETTERS}]")
_CJK_CHAR = re.compile(rf"[{CJK}]")
_RUN_START = re.compile("[?\ufffd]")
_LATIN_DEBRIS = frozenset("abcdefghijklmnopqrstuvwxyz;()?\ufffd" + TONE_LETTERS)
_QUOTE_PAIR = re.compile(r'"\s*([^"\n]*?)\s*"')
_SPACE_BEFORE_OPEN = re.compile(rf"(?<=[{CJK}，。、；：！？,;:!?）)])\s+(?=“)")
_SPACE_AFTER_CLOSE = re.compile(rf"(?<=”)\s+(?=[{CJK}“，。、；：！？,;:!?（(])")

SENTENCE_FINAL = "。！？!?…"
CLOSERS = "”’」』)）】》\"'"
# Paragraph enumerators: 一、 (一) 1. • ...
ENUM_RE = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]+[)）]|\d+[.、．]\D|[•·●▪-]\s)"
)
HEADING_MAX_CHARS = 40
_CLAUSE_PUNCT = re.compile(r"[，,；;：:。！？!?]")
_NO_JOIN_END = SENTENCE_FINAL + CLOSERS + "；;：:—～~"

_table_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Fold traditional Chinese to simplified (OpenCC ``t2s``), for matching only."""
    return str(_converter().convert(text))


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, int], dict[str, int]]:
    """(character frequency, two-character word frequency) from jieba's dict.txt."""
    path = Path(jieba.__file__).with_name("dict.txt")
    chars: dict[str, int] = {}
    pairs: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, rest = line.partition(" ")
        freq = int(rest.partition(" ")[0] or 0)
        for ch in word:
            chars[ch] = chars.get(ch, 0) + freq
        if len(word) == 2:
            pairs[word] = freq
    return chars, pairs


def load_tables() -> None:
    """Build the frequency tables now (about half a second) instead of on first use."""
    with _table_lock:
        _tables()


@functools.lru_cache(maxsize=4096)
def char_frequency(ch: str) -> int:
    """Summed jieba frequency of the dictionary words containing ``ch`` (folded to simplified)."""
    load_tables()
    return _tables()[0].get(to_simplified(ch), 0)


def is_word(pair: str, min_freq: int = 10) -> bool:
    """True when the two characters (folded) are a jieba dictionary word."""
    load_tables()
    return _tables()[1].get(to_simplified(pair), 0) >= min_freq


def remove_pinyin(text: str) -> tuple[str, int]:
    """Remove inline pinyin annotations; return the text and how many were removed."""
    count = 0

    def _drop(match: re.Match[str]) -> str:
        nonlocal count
        if not _TONED.search(match.group(0)):
            return match.group(0)
        count += 1
        return ""

    return PINYIN_RE.sub(_drop, text), count


def _is_rare_cjk(ch: str) -> bool:
    return bool(_CJK_CHAR.match(ch)) and char_frequency(ch) <= RARE_CHAR_MAX_FREQ


def _run_end(text: str, start: int) -> int | None:
    """End (exclusive) of the mojibake run starting at ``start``, or None if it is not one."""
    last, gap, garbage, rare = start, 0, 0, text[start] == "\ufffd"
    for j in range(start + 1, len(text)):
        ch = text[j]
        if ch in _LATIN_DEBRIS or _is_rare_cjk(ch):
            last, gap, garbage = j, 0, garbage + 1
            rare = rare or ch == "\ufffd" or _is_rare_cjk(ch)
        elif _CJK_CHAR.match(ch) and gap < MOJIBAKE_MAX_GAP:
            gap += 1
        else:
            break
    if text[start] == "\ufffd":
        return last + 1
    return last + 1 if rare and garbage >= 2 else None


def _lost_full_stop(before: str, run: str, after: str) -> bool:
    """Guess whether a ``?`` run swallowed a sentence break: text before ends in a word."""
    return (
        run.startswith("?")
        and len(before) >= 2
        and bool(_CJK_CHAR.match(after[:1]))
        and is_word(before[-2:], min_freq=100)
    )


def remove_mojibake(text: str) -> tuple[str, int]:
    """Remove garbled runs starting at ``?``/U+FFFD; return the text and the number of runs."""
    out: list[str] = []
    pos, count = 0, 0
    for match in _RUN_START.finditer(text):
        start = match.start()
        if start < pos:
            continue
        end = _run_end(text, start)
        if end is None:
            continue
        out.append(text[pos:start])
        before = text[max(pos, start - 2) : start]
        if _lost_full_stop(before, text[start:end], text[end : end + 1]):
            out.append("。")
        pos, count = end, count + 1
    out.append(text[pos:])
    return "".join(out), count


def normalise_quotes(line: str) -> str:
    """``抓好 " 细胞工程 "" 头雁工程 ",`` -> ``抓好“细胞工程”“头雁工程”,`` in CJK lines."""
    if '"' not in line or line.count('"') % 2 or not _CJK_CHAR.search(line):
        return line
    line = _QUOTE_PAIR.sub(lambda m: f"“{m.group(1)}”", line)
    line = _SPACE_BEFORE_OPEN.sub("", line)
    return _SPACE_AFTER_CLOSE.sub("", line)


def _heading_like(text: str) -> bool:
    body = ENUM_RE.sub("", text, count=1)
    return len(text) <= HEADING_MAX_CHARS and not _CLAUSE_PUNCT.search(body)


def _continues(prev: str, nxt: str) -> bool:
    """True when ``nxt`` continues the sentence that ``prev`` breaks off."""
    if ENUM_RE.match(nxt):
        return False
    last = prev[-1]
    if last in "，,、":
        return True
    if last in _NO_JOIN_END or not (last.isalnum() or re.match(f"[{CJK}]", last)):
        return False
    return not _heading_like(prev) or (
        bool(re.match(f"[{CJK}]", nxt[0])) and is_word(last + nxt[0], min_freq=10)
    )


def join_broken_paragraphs(paragraphs: list[str]) -> list[str]:
    """Join paragraphs split mid-sentence; headings and finished sentences stay apart."""
    out: list[str] = []
    for para in paragraphs:
        if out and _continues(out[-1], para):
            ascii_pair = out[-1][-1].isascii() and para[0].isascii()
            out[-1] = out[-1] + (" " if ascii_pair else "") + para
        else:
            out.append(para)
    return out
