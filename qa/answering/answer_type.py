"""What kind of answer a question asks for: a person, a time, a place, a number.

Pure rules over the question's words, in English and in Chinese (traditional
questions are folded to simplified first): "who"/谁/哪位 ask for a person,
"when"/"what year"/何时/什么时候/哪一年 for a time, "where"/哪里/何处/哪个国家
for a place, "how many"/"how much"/多少/几个/多大 for a number (with its
measure word or unit).  A question that asks none of these (what, which,
why, how) is ``"other"``: its answer is not one typed phrase, and the
extractive answerer quotes sentences for it.

Leaves out: finer types (organisations, works, durations apart from numbers)
and questions whose type only the passage reveals.
"""

from __future__ import annotations

import re
from typing import Literal

from index.text.textnorm import fold

AnswerType = Literal["person", "time", "place", "number", "other"]

# Checked in this order: "哪一年" is a time before it is a "哪" place, "多少年" a number.
_EN: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (
        "time",
        re.compile(
            r"\bwhen\b|\b(what|which|in what|in which)\s+(year|years|decade|century|"
            r"date|day|month|time period|period|era|season)\b|\bhow long ago\b|"
            r"\bwhat time\b|\bsince when\b"
        ),
    ),
    (
        "number",
        re.compile(
            r"\bhow (many|much|long|old|far|big|large|tall|high|deep|wide|often|fast|heavy)\b|"
            r"\bwhat (percentage|percent|proportion|share|number|amount|fraction|population|"
            r"size|area|length|height|distance|age|temperature|speed|rate|sum)\b|"
            r"\bwhat is the (number|amount|size|area|length|height|age)\b|\bpopulation\b"
        ),
    ),
    ("person", re.compile(r"\b(who|whom|whose)\b|\b(what|which) (person|people|man|woman)\b")),
    (
        "place",
        re.compile(
            r"\bwhere\b|\b(what|which|in what|in which)\s+(country|city|town|place|"
            r"province|region|state|continent|location|area of|village|island|county)\b"
        ),
    ),
)

_ZH: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (
        "time",
        re.compile(
            r"何时|几时|什么时候|什么时间|何年|哪一?年|哪些年|几几年|哪一?天|哪一?日|几月|"
            r"几号|哪个月|哪一?个?世纪|哪个?年代|什么年代|哪个时期|哪一时期|什么时期|"
            r"年份是|日期是|多少年前|从何时|自何时|何日|哪年"
        ),
    ),
    (
        "number",
        re.compile(
            r"多少|(?<!好)几(?![乎何])|多大|多长|多高|多远|多久|多重|多深|多宽|多厚|"
            r"多快|多老|百分之几|几成|比例是|人口是|面积是"
        ),
    ),
    ("person", re.compile(r"谁|哪位|哪一位|何人|哪些人|什么人|哪个人|哪名|哪一名")),
    (
        "place",
        re.compile(
            r"哪里|哪儿|何处|何地|什么地方|哪个地方|在哪|哪个?(国家|城市|省|州|地区|县|"
            r"市|镇|村|岛|洲|大陆)|哪一(个国家|座城市|个城市|个地区|个省)|位于何"
        ),
    ),
)


def classify(question: str) -> AnswerType:
    """The answer type of ``question`` (English or Chinese, either script)."""
    folded = fold(question)
    rules = _ZH if re.search(r"[\u4e00-\u9fff]", folded) else _EN
    for kind, pattern in rules:
        if pattern.search(folded):
            return kind
    return "other"
