"""Which language a question is in: English, simplified or traditional Chinese.

A question with no Han characters is English (the service's only other
language).  For Chinese, the script is the one the text is already in: we
count characters that OpenCC would change when converting to simplified
(traditional-only characters) against those it would change when converting
to traditional (simplified-only characters).  Ties, such as text written only
in characters common to both scripts, count as simplified.

Leaves out: any other language; mixed questions are classed by their Han text.
"""

from __future__ import annotations

from typing import Literal

from index.text.textnorm import has_han, to_simplified, to_traditional

Language = Literal["en", "zh-Hans", "zh-Hant"]
LANGUAGES: tuple[Language, ...] = ("en", "zh-Hans", "zh-Hant")


def detect(text: str) -> Language:
    if not has_han(text):
        return "en"
    traditional_only = _changed(text, to_simplified(text))
    simplified_only = _changed(text, to_traditional(text))
    return "zh-Hant" if traditional_only > simplified_only else "zh-Hans"


def _changed(before: str, after: str) -> int:
    if len(before) != len(after):
        return abs(len(before) - len(after))
    return sum(a != b for a, b in zip(before, after, strict=True))
