"""Scoring one evaluated question: retrieval ranks and answer quality.

Answers are compared after folding (traditional to simplified, full-width to
half-width, lower case) and dropping spaces and punctuation, so "12 人" and
"12人" match and a traditional answer matches a simplified gold.  Character F1
is the bag-of-characters F1 used by CMRC/DRCD, taken against the best gold;
``short_answer`` is what it is also taken on: the direct answer phrase an
extractive answer leads with on its own line, else the whole answer body.

Leaves out: aggregation over questions (``evaluation.report``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from index.text.textnorm import fold

_MARKER = re.compile(r"\[\d+\]")


def normalize(text: str) -> str:
    folded = fold(text)
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


def answer_body(answer: str, intro: str = "") -> str:
    """The answer's own words: citation markers and a fixed intro (its own line) removed."""
    if intro and answer.startswith(intro):
        answer = answer[len(intro) :]
    elif intro and f"\n{intro}\n" in answer:  # after a short answer's line
        answer = answer.replace(f"\n{intro}\n", "\n", 1)
    return _MARKER.sub("", answer)


def short_answer(answer: str, intro: str = "") -> str:
    """The direct answer an extractive answer leads with (its first line, which quotes
    nothing and so has no ``[n]``), else the whole answer body."""
    first, newline, _ = answer.partition("\n")
    if newline and first.strip() and first != intro and not _MARKER.search(first):
        return first
    return answer_body(answer, intro)


def answer_match(
    answer: str, answers: Sequence[str], groups: Sequence[Sequence[str]] | None = None
) -> bool:
    """A gold answer (for grouped golds: one alternative of every group) is in the answer."""
    text = normalize(answer)
    if groups:
        return all(any(normalize(a) and normalize(a) in text for a in g) for g in groups)
    return any(normalize(a) and normalize(a) in text for a in answers)


def char_f1(answer: str, answers: Sequence[str]) -> float:
    prediction = Counter(normalize(answer))
    best = 0.0
    for gold in answers:
        truth = Counter(normalize(gold))
        common = sum((prediction & truth).values())
        if common:
            precision = common / sum(prediction.values())
            recall = common / sum(truth.values())
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def gold_rank(ranked_doc_ids: Sequence[str], gold: Sequence[str]) -> int | None:
    """1-based rank of the first hit from a gold document, None when absent."""
    golden = set(gold)
    for rank, doc_id in enumerate(ranked_doc_ids, start=1):
        if doc_id in golden:
            return rank
    return None
