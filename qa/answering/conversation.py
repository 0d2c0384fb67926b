"""Follow-up questions: the conversation so far, and standalone queries for retrieval.

A `Rewriter` turns the last question of a conversation into a standalone
query.  `HeuristicRewriter` needs no LLM; ``qa.answering.llm.LLMRewriter`` asks one and
falls back to this heuristic.  The heuristic rewrites the earlier user turns
first (oldest to newest), so a chain of follow-ups resolves, then reads the
new question against the previous standalone one:

* ellipsis, "那朝阳区呢？", "And what about the four projects?": the new topic
  replaces the previous question's term of the same kind (a place for a
  place, "…工程" for "…工程", a capitalised name for a name, "the X project"
  for "the Y project"); with no such term it is attached, "关于X，<previous>",
  "<previous> regarding X?";
* anaphora (它、该、这些; it, they, this), continuations (还有、另外; also, and
  why) and questions with fewer than two content words keep their words and
  get the previous question as context: "它要求什么？（<previous>）";
* anything else is already standalone.

The result is written in the question's script.

Leaves out: assistant turns (answers are long and only the questions carry
the topic) and the LLM rewrite itself (``qa.answering.llm``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from index.text.textnorm import EN_STOPWORDS, fold, keyword_terms, to_simplified, to_traditional
from qa.answer import Notice
from qa.language import detect


@dataclass(frozen=True)
class Message:
    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class Rewrite:
    query: str
    notices: tuple[Notice, ...] = ()


class Rewriter(Protocol):
    def rewrite(self, question: str, history: Sequence[Message]) -> Rewrite: ...


class HeuristicRewriter:
    def rewrite(self, question: str, history: Sequence[Message]) -> Rewrite:
        previous = previous_question(history)
        return Rewrite(standalone(question, previous) if previous else question)


def previous_question(history: Sequence[Message]) -> str | None:
    """The last user turn of ``history``, itself made standalone."""
    previous: str | None = None
    for turn in history:
        if turn.role == "user" and turn.content.strip():
            text = turn.content.strip()
            previous = standalone(text, previous) if previous else text
    return previous


def standalone(question: str, previous: str) -> str:
    language = detect(question)
    if language == "en":
        return _english(question, previous)
    rewritten = _chinese(question, previous) if len(fold(previous)) == len(previous) else None
    rewritten = rewritten or f"{question.strip()}（{previous.strip()}）"
    return to_traditional(rewritten) if language == "zh-Hant" else to_simplified(rewritten)


# Chinese ---------------------------------------------------------------------------------

_ZH_LEAD = r"(?:那么|那麼|那|还有|還有|另外|而|再说说|再說說)"
_ZH_ELLIPSIS = re.compile(
    rf"{_ZH_LEAD}?\s*(?P<x>.+?)\s*(?:呢|又怎么样|又怎麼樣|怎么样|怎麼樣|又如何|如何|又怎样|又怎樣)"
)
_ZH_LEAD_ONLY = re.compile(rf"{_ZH_LEAD}\s*(?P<x>.+)")
_ZH_QUESTION_WORDS = re.compile(r"什么|怎么|怎样|如何|为什么|为何|哪|谁|多少|几|是否|吗|是不是")
_ZH_ANAPHORA = re.compile(r"它们?|他们?|她们?|这些|那些|这个|那个|上述|前者|后者|该|此|其")
_ZH_NOT_ANAPHORA = re.compile(r"应该|因此|此外|其他|其实|尤其|其次|其中|与其|极其")
_ZH_CONTINUATION = re.compile(r"^(?:还|另外|此外|并且|而且|具体|那么|然后|再)")
_TRAILING = "？?。.！!；;，, "
_PLACE = re.compile(r"(?:省|市|自治区|区|县|镇|乡|村|街道|社区)$")
MIN_HEAD = 2


def _chinese(question: str, previous: str) -> str:
    core = question.strip().rstrip(_TRAILING)
    match = _ZH_ELLIPSIS.fullmatch(core) or (
        _ZH_LEAD_ONLY.fullmatch(core) if len(core) <= 12 else None
    )
    if match and len(match["x"]) <= 15 and not _ZH_QUESTION_WORDS.search(fold(match["x"])):
        return _substitute_zh(previous, match["x"].strip())
    folded = fold(core)
    if (
        _ZH_ANAPHORA.search(_ZH_NOT_ANAPHORA.sub("", folded))
        or _ZH_CONTINUATION.match(folded)
        or len(keyword_terms(core)) < 2
    ):
        return f"{question.strip()}（{previous.strip()}）"
    return question.strip()


def _substitute_zh(previous: str, topic: str) -> str:
    """Replace the previous question's word of the topic's kind: a place for a place
    (兰州市 -> 朝阳区), a word with the same head for the topic (细胞工程 -> 头雁工程)."""
    folded_topic, folded = fold(topic), fold(previous)
    words = sorted(set(keyword_terms(previous)), key=lambda w: (folded.find(w), -len(w)))
    for word in (w for w in words if w in folded and w != folded_topic):
        after = folded[folded.find(word) + len(word) :][:1]
        if after and _PLACE.search(after) and not _PLACE.search(word):
            word += after  # 兰州|市委: the place is 兰州市
        same_place = _PLACE.search(word) and _PLACE.search(folded_topic) and len(word) > 2
        head = folded_topic[-MIN_HEAD:]
        same_head = len(folded_topic) > MIN_HEAD and len(word) > MIN_HEAD and word.endswith(head)
        if same_place or same_head:
            start = folded.find(word)
            return previous[:start] + topic + previous[start + len(word) :]
    return f"关于{topic}，{previous.strip()}"


# English ---------------------------------------------------------------------------------

_EN_ELLIPSIS = re.compile(r"(?:(?:and|but|so)\s+)?(?:what|how)\s+about\s+(?P<x>.+?)", re.IGNORECASE)
_EN_AND = re.compile(r"and\s+(?P<x>.+?)", re.IGNORECASE)
_EN_QUESTION_START = re.compile(
    r"(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could|"
    r"should|would|will|has|have|had)\b",
    re.IGNORECASE,
)
_EN_ANAPHORA = frozenset(
    "it its they them their theirs this that these those he him his she her there".split()
)
_EN_CONTINUATION = re.compile(r"(?:and|also|so|then|but|why|how so|what else)\b", re.IGNORECASE)
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_EN_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
_EN_COMMON_CAPITALS = frozenset(
    "Party Communist Committee Central Secretary General Office Congress Council State "
    "National People Chinese China CPC".split()
)


def _english(question: str, previous: str) -> str:
    core = question.strip().rstrip(_TRAILING)
    match = _EN_ELLIPSIS.fullmatch(core) or _EN_AND.fullmatch(core)
    if match and not _EN_QUESTION_START.match(match["x"]) and len(match["x"].split()) <= 8:
        return _substitute_en(previous, match["x"].strip())
    words = [w.lower() for w in _EN_WORD.findall(core)]
    content = [w for w in words if w not in EN_STOPWORDS]
    if _EN_ANAPHORA.intersection(words) or _EN_CONTINUATION.match(core) or len(content) < 2:
        return f"{question.strip()} ({previous.strip()})"
    return question.strip()


def _substitute_en(previous: str, topic: str) -> str:
    names = [n for n in _EN_NAME.findall(previous) if n.split()[0] not in _EN_COMMON_CAPITALS]
    if topic[:1].isupper() and names:
        return previous.replace(names[0], topic, 1)
    span = _phrase_ending_with(previous, topic.split()[-1])
    if span and len(topic.split()) > 1:
        return previous[: span[0]] + topic + previous[span[1] :]
    return f"{previous.strip().rstrip(_TRAILING)} regarding {topic}?"


def _phrase_ending_with(text: str, head: str) -> tuple[int, int] | None:
    """Span of the noun phrase in ``text`` ending with ``head`` ("the cell project")."""
    words = list(_EN_WORD.finditer(text))
    stem = head.lower().rstrip("s")
    ends = [i for i, w in enumerate(words) if w.group().lower().rstrip("s") == stem]
    if not ends:
        return None
    first = ends[-1]
    while (
        first > 0 and ends[-1] - first < 3 and words[first - 1].group().lower() not in EN_STOPWORDS
    ):
        first -= 1
    if first > 0 and words[first - 1].group().lower() == "the":
        first -= 1
    return words[first].start(), words[ends[-1]].end()
