"""The shortest phrase of a sentence that answers a typed question.

For a question typed by ``qa.answering.answer_type``, the candidates in a
sentence are: for a time, date expressions (1998年, 1961年7月, 3月21日,
19世纪, 90年代, a year range "1870 年到 1939 年", a bare 1998); for a number,
a number with its magnitude and measure word or unit (8.57万, 550公里,
两次, 15%, 百分之三十); for a person, names (jieba part-of-speech ``nr``,
joined across "·", and Latin-script names); for a place, place names (``ns``).
Candidates the question itself mentions (its year, its keywords) are not
answers.  The span chosen is the candidate nearest to where the question's
keywords occur in the sentence; spans are character offsets into the
sentence, so quotes stay verbatim.

Leaves out: answers that are not one typed phrase (what, why, how), and
units or names that neither the patterns nor jieba's tags know.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable

import jieba.posseg

from index.text.textnorm import fold, to_halfwidth
from qa.answering.answer_type import AnswerType

_ZH_DIGIT = "零〇一二两兩三四五六七八九十百千"
_NUM = rf"(?:\d+(?:[.,，]\d{{3}})*(?:\.\d+)?|[{_ZH_DIGIT}]+(?:点[{_ZH_DIGIT}]+)?)"
_MAGNITUDE = r"(?:\s*(?:多|余|餘))?(?:\s*(?:万|萬|亿|億|千|百)+)?(?:\s*(?:多|余|餘))?"
_UNIT = (
    r"架次|人次|班次|车次|平方公里|平方千米|平方米|平方英里|平方公尺|立方米|公里|千米|英里|公尺|厘米|毫米|米|英尺|英寸|"
    r"公顷|公頃|亩|畝|吨|噸|公斤|千克|克|磅|美元|欧元|歐元|英镑|英鎊|日元|港元|港币|人民币|元|"
    r"小时|小時|分钟|分鐘|秒|个月|個月|年|月|天|日|周|週|岁|歲|倍|度|℃|°C|°|%|％|"
    r"个|個|次|人|名|位|座|种|種|项|項|件|条|條|家|所|只|支|匹|头|頭|本|部|张|張|台|臺|"
    r"辆|輛|艘|架|层|層|届|屆|期|场|場|轮|輪|票|分|队|隊|国|國|场|所|间|間|首|集|章|卷|册|冊"
)
_NUMBER = re.compile(
    rf"(?<!第)(?:百分之{_NUM}|{_NUM}{_MAGNITUDE}\s*(?:{_UNIT})|\d+(?:[.,]\d+)*{_MAGNITUDE})"
)
_RANGE = r"\s*(?:[到至~－—–-]|－)\s*"
_DATE = (
    r"(?:\d{2}|\d{4})\s*年代|(?:公元前?|西元前?|前)?\d{1,4}\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号號])?)?"
    r"|\d{1,2}\s*月\s*\d{1,2}\s*[日号號]|\d{1,2}\s*世[纪紀](?:\s*\d0\s*年代)?"
    r"|[一二三四五六七八九十]+世[纪紀](?:[一二三四五六七八九十]+年代)?|[零〇一二三四五六七八九]{4}年"
    r"|(?:民[国國]|昭和|明治|大正|平成|天文|康熙|乾隆|光[绪緒])[元一二三四五六七八九十\d]+年"
    r"|(?<!\d)(?:1\d{3}|20\d{2})(?![\d年])"
)
_TIME = re.compile(rf"(?:{_DATE})(?:{_RANGE}(?:{_DATE}))?")
_LATIN_NAME = re.compile(r"[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)+")
_NAME_JOIN = "·•・‧-"
# characters of transliterated foreign names: a tagged name is widened over them
_TRANSLIT = set(
    "阿埃艾安奥巴贝本比彼波伯布查达戴丹道德迪蒂杜多厄恩尔法菲费芬弗福盖甘戈格古哈海汉豪赫亨胡"
    "霍基吉加贾杰金卡凯坎康柯科克肯库拉莱兰朗劳勒雷里利莉丽林琳卢鲁伦罗洛马玛迈麦曼梅门米明莫"
    "姆穆纳内尼妮诺努帕佩彭皮珀普奇乔切琼萨塞桑瑟森沙莎舍什施斯苏索塔泰坦汤特提廷图托瓦威韦维"
    "温沃乌西希夏谢辛休雅亚扬耶伊因尤约泽扎詹兹居茨契何保路易若"
)
_TAGS: dict[AnswerType, tuple[str, ...]] = {"person": ("nr",), "place": ("ns",)}
_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _tagger() -> jieba.posseg.POSTokenizer:
    from index.text.textnorm import _segmenter  # share the loaded dictionary

    return jieba.posseg.POSTokenizer(_segmenter())


def warm_up() -> None:
    """Load the part-of-speech tagger now rather than on the first person/place question."""
    with _lock:
        _tagger()


def candidates(sentence: str, kind: AnswerType) -> list[tuple[int, int]]:
    """Every typed candidate in ``sentence``, as (start, end) offsets, in order."""
    if kind == "time":
        return _matches(_TIME, sentence)
    if kind == "number":  # a number that is part of a date is not a quantity
        dates = _matches(_TIME, sentence)
        numbers = _merge_ranges(sentence, _matches(_NUMBER, sentence))
        return [n for n in numbers if not any(d[0] < n[1] and n[0] < d[1] for d in dates)]
    if kind in _TAGS:
        return _names(sentence, kind)
    return []


def best_span(
    sentence: str, kind: AnswerType, question: str, keywords: Iterable[str]
) -> tuple[int, int] | None:
    """The candidate nearest the question's keywords that the question does not mention."""
    folded_q = _plain(fold(question))
    asked = set(re.findall(r"\d+", folded_q))
    folded = fold(sentence)
    if len(folded) != len(sentence):  # a fold that changed lengths: offsets do not line up
        folded = to_halfwidth(sentence).lower()
    where = _keyword_positions(folded, keywords)
    best: tuple[float, int, int] | None = None
    for start, end in candidates(sentence, kind):
        text = _plain(folded[start:end])
        if not text or text in folded_q or any(s < end and start < e for s, e in where):
            continue
        digits = re.findall(r"\d+", text)
        if digits and all(d in asked for d in digits):  # the question's own year or number
            continue
        distance = min((_gap(start, end, s, e) for s, e in where), default=0)
        if best is None or distance < best[0]:
            best = (distance, start, end)
    return None if best is None else (best[1], best[2])


def _matches(pattern: re.Pattern[str], sentence: str) -> list[tuple[int, int]]:
    text = to_halfwidth(sentence)
    out = []
    for m in pattern.finditer(text):
        start, end = m.span()
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append((start, end))
    return out


def _merge_ranges(sentence: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join "1870 年" and "1939 年" separated only by 到/至/- into one range."""
    out: list[tuple[int, int]] = []
    for span in spans:
        if out and re.fullmatch(_RANGE, sentence[out[-1][1] : span[0]]):
            out[-1] = (out[-1][0], span[1])
        else:
            out.append(span)
    return out


def _names(sentence: str, kind: AnswerType) -> list[tuple[int, int]]:
    """Runs of words tagged as names of this kind, joined across "·"; Latin names for people."""
    tags = _TAGS[kind]
    with _lock:
        words = list(_tagger().cut(sentence, HMM=False))
    out: list[tuple[int, int]] = []
    at = 0
    for word in words:
        start, at = at, at + len(word.word)
        joined = word.word in _NAME_JOIN and out and out[-1][1] == start
        if word.flag.startswith(tuple(tags)) or joined:
            if out and out[-1][1] == start:
                out[-1] = (out[-1][0], at)
            elif len(word.word) > 1 or word.flag.startswith(tuple(tags)):
                out.append((start, at))
    if kind == "person":
        out = [_widen(sentence, s, e) for s, e in out]
    named = [(s, e) for s, e in out if e - s >= 2 and sentence[e - 1] not in _NAME_JOIN]
    if kind == "person":
        named += [m.span() for m in _LATIN_NAME.finditer(sentence)]
    merged: list[tuple[int, int]] = []
    for s, e in sorted(named):  # widened names can overlap: keep their union
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def _widen(sentence: str, start: int, end: int) -> tuple[int, int]:
    """A name widened over neighbouring transliteration characters and "·" joins."""

    def part(i: int) -> bool:
        return sentence[i] in _TRANSLIT or (
            sentence[i] in _NAME_JOIN
            and 0 < i < len(sentence) - 1
            and sentence[i - 1] in _TRANSLIT
            and sentence[i + 1] in _TRANSLIT
        )

    while start > 0 and part(start - 1):
        start -= 1
    while end < len(sentence) and part(end):
        end += 1
    return start, end


def _keyword_positions(folded: str, keywords: Iterable[str]) -> list[tuple[int, int]]:
    out = []
    for term in keywords:
        if not term:
            continue
        at = folded.find(term)
        while at >= 0:
            out.append((at, at + len(term)))
            at = folded.find(term, at + 1)
    return out


def _gap(start: int, end: int, s: int, e: int) -> int:
    return s - end if s >= end else start - e if start >= e else 0


def _plain(text: str) -> str:
    return re.sub(r"[\s,，.。、]", "", text)
