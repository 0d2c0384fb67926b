"""Script folding and word segmentation for keyword search.

`fold` maps text to the form keyword search compares: traditional Chinese to
simplified (OpenCC ``t2s``), full-width ASCII to half-width, lower case.
`keyword_terms` segments folded text with jieba (search mode, so both
``党组织`` and its parts ``党组`` / ``组织`` are terms) and drops punctuation and
stop words.  The folded form is only ever used for matching: text shown to
users stays exactly as written.

Leaves out: language detection (``qa.language``) and any English-to-Chinese
translation of terms (``qa.retrieval.crosslingual``).
"""

from __future__ import annotations

import functools
import math
import re
import threading

import jieba
import opencc

# Function words and question words that carry no topical signal.
ZH_STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 等 也 都 就 而 又 把 被 对 从 向 以 之 其 这 那 这个 那个 这些 那些 "
    "一个 有 没有 为 由 于 将 让 使 我 你 他 她 它 我们 你们 他们 吗 呢 吧 啊 呀 么 "
    "什么 哪些 哪个 哪 哪里 怎么 怎样 怎么样 如何 为何 为什么 谁 多少 几 是否 是不是 请问 "
    "关于 有关 里 中 上 下 方面 问题".split()
)
EN_STOPWORDS = frozenset(
    "a an the of to in on at for by with from and or but not no is are was were be been being "
    "do does did done doing have has had having can could should would will shall may might must "
    "what which who whom whose when where why how that this these those there here it its they "
    "them their he she his her we our you your i me my about into over under than then so as "
    "if any all some each more most such only also just very please tell say said according "
    "article articles text mention mentioned".split()
)

MAX_GENERAL_IDF = 14.0  # about a word seen 50 times in jieba's 60M-token counts
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_TERM = re.compile(r"[\w\u4e00-\u9fff\u3400-\u4dbf]", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@functools.lru_cache(maxsize=2)
def _converter(config: str = "t2s") -> opencc.OpenCC:
    return opencc.OpenCC(config)


_segmenter_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _segmenter() -> jieba.Tokenizer:
    jieba.setLogLevel(60)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def warm_up() -> None:
    """Load the segmenter and converter now rather than on the first query."""
    with _segmenter_lock:
        _segmenter()
    _converter()
    _converter("s2t")


def to_halfwidth(text: str) -> str:
    """Full-width ASCII (Ａ-ｚ, ０-９, ！-～) and the ideographic space to half-width."""
    return text.translate(_FULLWIDTH)


def to_simplified(text: str) -> str:
    """Traditional Chinese to simplified, character by character and phrase-aware."""
    return str(_converter().convert(text))


def to_traditional(text: str) -> str:
    """Simplified Chinese to traditional (for answers to traditional-Chinese questions)."""
    return str(_converter("s2t").convert(text))


def fold(text: str, *, script: bool = True) -> str:
    """The matching form of ``text``: half-width, lower case and (by default) simplified."""
    text = to_halfwidth(text).lower()
    return to_simplified(text) if script else text


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def keyword_terms(text: str, *, script: bool = True) -> list[str]:
    """Search terms of ``text``: folded, segmented, without punctuation or stop words."""
    folded = fold(text, script=script)
    with _segmenter_lock:
        words = _segmenter().lcut_for_search(folded)
    return [w for w in (w.strip() for w in words) if _is_term(w)]


def general_idf(term: str) -> float:
    """How informative ``term`` is in general Chinese: ``log(N / (freq + 1))`` over jieba's
    dictionary counts, capped so that words the dictionary lacks count as rare, not unique."""
    segmenter = _segmenter()
    freq = segmenter.FREQ.get(term, 0) or 0
    return min(math.log(segmenter.total / (freq + 1)), MAX_GENERAL_IDF)


def _is_term(word: str) -> bool:
    if not word or not _TERM.search(word):
        return False
    return word not in ZH_STOPWORDS and word not in EN_STOPWORDS
