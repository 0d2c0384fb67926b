"""How well a passage supports one claim of an answer, across languages.

A claim's support from a passage is ``0.7 * lexical + 0.3 * semantic``, or 0
when the claim states a number the passage (with its title and date) lacks:

* lexical: the weighted share of the claim's units found in the passage,
  compared in folded form (simplified script, half-width, lower case).  A
  Chinese claim's units are its character bigrams; an English claim's are
  its CC-CEDICT translation groups (``qa.retrieval.crosslingual``), weighted by how
  informative they are in general Chinese.  Latin words also match the
  passage's pinyin, so "Haojiaqiao" finds 郝家桥.
* semantic: the cosine of the claim's embedding with the passage's stored
  vector, mapped from the model's range onto 0-1 (cosines across languages
  run lower, so English claims have their own range).  Claims are embedded
  in one batch, and only those whose verdict the lexical score cannot settle.

A claim is supported when its score reaches the threshold for its language
(``QA_SUPPORT_THRESHOLD`` / ``QA_SUPPORT_THRESHOLD_CROSSLINGUAL``).  The weights
and thresholds were set on 42 hand-labelled claims about the sample articles
(verbatim, paraphrased, traditional, English and fabricated ones; 41 agree)
and checked on 24 held out (22 agree, the two misses English): see
``tests/test_verify_real.py`` and ``tests/data/support_claims.json``.

Leaves out: entailment proper (a claim that negates its passage with the
passage's own words can pass), and what to do about a verdict (``qa.citations.verify``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.embed.embedder import Embedder
from index.store.view import IndexView
from index.text.textnorm import fold, general_idf, has_han
from qa.answer import Citation
from qa.retrieval.crosslingual import Dictionary

LEXICAL_WEIGHT = 0.7
MIN_GROUPS = 3
LATIN_WEIGHT = 3.5
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN = re.compile(r"[a-z][a-z'-]+")
_ARABIC = re.compile(r"\d+(?:[.,]\d+)*")
_ENUMERATOR = re.compile(r"^\s*(?:[-*•#>]+|\d{1,2}[.)、]|[（(]\d{1,2}[)）])\s*")
_CN_NUMERAL = re.compile(r"[〇零一二两三四五六七八九十百千万亿]+")
_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "两": 2}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}


@dataclass(frozen=True)
class SupportConfig:
    threshold: float = 0.6
    threshold_crosslingual: float = 0.4
    similarity_range: tuple[float, float] = (0.85, 0.95)
    similarity_range_crosslingual: tuple[float, float] = (0.70, 0.80)


@dataclass(frozen=True)
class Profile:
    """A claim as support is measured: groups of alternative units with weights."""

    text: str
    crosslingual: bool
    groups: tuple[tuple[tuple[str, ...], float], ...]
    numbers: frozenset[str]

    @property
    def measurable(self) -> bool:
        return len(self.groups) >= MIN_GROUPS or bool(self.numbers)


@dataclass(frozen=True)
class Evidence:
    """A citable passage as support is measured against it."""

    n: int
    folded: str
    numbers: frozenset[str]
    vector_id: int | None

    @functools.cached_property
    def pinyin(self) -> str:
        return _pinyin(self.folded)


class SupportScorer:
    def __init__(
        self,
        index: IndexView,
        embedder: Embedder,
        dictionary: Dictionary | None,
        config: SupportConfig | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.dictionary = dictionary
        self.config = config or SupportConfig()
        _pinyin("")  # loads pypinyin's tables now rather than during the first answer

    def profile(self, claim: str) -> Profile:
        text = _ENUMERATOR.sub("", claim).strip()
        folded = fold(text)
        han = sum(len(run) for run in _HAN_RUN.findall(folded))
        latin = _LATIN.findall(folded)
        crosslingual = han < 2 * len(latin)
        groups = self._english_groups(folded) if crosslingual else _chinese_groups(folded)
        return Profile(text, crosslingual, tuple(groups), _numbers(folded, chinese=False))

    def evidence(self, citation: Citation) -> Evidence:
        parts = [citation.title, citation.date or "", citation.passage]
        if citation.quote not in citation.passage:
            parts.append(citation.quote)
        folded = fold("\n".join(parts))
        return Evidence(
            citation.n,
            folded,
            _numbers(folded, chinese=True),
            self._vector_id(citation.chunk_id),
        )

    def _vector_id(self, chunk_id: str) -> int | None:
        """The vector id of a citation's ``doc#number`` chunk id, if the index has it."""
        doc_id, _, number = chunk_id.rpartition("#")
        if not doc_id or not number.isdigit():
            return None
        return self.index.chunks.by_number(doc_id, int(number))

    def threshold(self, profile: Profile) -> float:
        c = self.config
        return c.threshold_crosslingual if profile.crosslingual else c.threshold

    def scores(self, profiles: Sequence[Profile], evidence: Sequence[Evidence]) -> np.ndarray:
        """Support of each claim (rows) by each passage (columns), 0-1."""
        shape = (len(profiles), len(evidence))
        lexical = np.array([[lexical_support(p, e) for e in evidence] for p in profiles])
        allowed = np.array([[p.numbers <= e.numbers for e in evidence] for p in profiles])
        scores = np.where(allowed.reshape(shape), LEXICAL_WEIGHT * lexical.reshape(shape), 0.0)
        undecided = [
            i
            for i, p in enumerate(profiles)
            if any(
                ok and s < self.threshold(p) <= s + 1 - LEXICAL_WEIGHT
                for s, ok in zip(scores[i], allowed.reshape(shape)[i], strict=True)
            )
        ]
        if undecided:
            semantic = self._semantic([profiles[i] for i in undecided], evidence)
            scores[undecided] += (1 - LEXICAL_WEIGHT) * semantic
        return np.where(allowed.reshape(shape), scores, 0.0)

    def _semantic(self, profiles: list[Profile], evidence: Sequence[Evidence]) -> np.ndarray:
        vectors = self.embedder.embed_documents([p.text for p in profiles])
        out = np.zeros((len(profiles), len(evidence)))
        known = [(j, e.vector_id) for j, e in enumerate(evidence) if e.vector_id is not None]
        if not known:
            return out
        ids = [vid for _, vid in known if vid is not None]
        for i, (profile, vector) in enumerate(zip(profiles, vectors, strict=True)):
            c = self.config
            low, high = (
                c.similarity_range_crosslingual if profile.crosslingual else c.similarity_range
            )
            cosines = np.array(self.index.retrievers.cosines(vector, ids))
            out[i, [j for j, _ in known]] = np.clip((cosines - low) / (high - low), 0.0, 1.0)
        return out

    def _english_groups(self, folded: str) -> list[tuple[tuple[str, ...], float]]:
        groups: list[tuple[tuple[str, ...], float]] = []
        translated = self.dictionary.translate(folded) if self.dictionary else []
        for group in translated:
            if all(t.isdigit() for t in group):
                continue
            weight = max(
                w * (general_idf(t) if has_han(t) else LATIN_WEIGHT) for t, w in group.items()
            )
            groups.append((tuple(group), weight))
        if not self.dictionary:
            groups += [((w,), LATIN_WEIGHT) for w in dict.fromkeys(_LATIN.findall(folded))]
        groups += _chinese_groups(" ".join(_HAN_RUN.findall(folded)))
        return groups


def lexical_support(profile: Profile, evidence: Evidence) -> float:
    total = found = 0.0
    for alternatives, weight in profile.groups:
        total += weight
        if any(_present(a, evidence) for a in alternatives):
            found += weight
    return found / total if total else 0.0


def lexical_overlap(profile: Profile, text: str) -> float:
    """``lexical_support`` against any text (a single sentence of a passage)."""
    return lexical_support(profile, Evidence(0, fold(text), frozenset(), None))


def _present(unit: str, evidence: Evidence) -> bool:
    if unit in evidence.folded:
        return True
    return unit.isascii() and len(unit) >= 4 and unit.replace("-", "") in evidence.pinyin


def _chinese_groups(folded: str) -> list[tuple[tuple[str, ...], float]]:
    units: dict[str, None] = {}
    for run in _HAN_RUN.findall(folded):
        grams = [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
        units.update(dict.fromkeys(grams))
    units.update(dict.fromkeys(w for w in _LATIN.findall(folded) if len(w) >= 2))
    return [((u,), 1.0) for u in units]


def _numbers(folded: str, *, chinese: bool) -> frozenset[str]:
    found = {_normalise_number(m) for m in _ARABIC.findall(folded)}
    if chinese:
        found |= {str(v) for run in _CN_NUMERAL.findall(folded) for v in _chinese_values(run)}
    return frozenset(found)


def _normalise_number(text: str) -> str:
    digits = text.replace(",", "")
    if "." in digits:
        return digits.rstrip("0").rstrip(".") or "0"
    return digits.lstrip("0") or "0"


def _chinese_values(run: str) -> list[int]:
    """二〇二四 -> 2024; 十四 -> 14; 一千二百 -> 1200 (and the plain digit reading)."""
    values = []
    if all(c in _CN_DIGITS for c in run):
        values.append(int("".join(str(_CN_DIGITS[c]) for c in run)))
    total = section = digit = 0
    for char in run:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif _CN_UNITS[char] >= 10_000:
            total += (section + digit) * _CN_UNITS[char]
            section = digit = 0
        else:
            section += (digit or 1) * _CN_UNITS[char]
            digit = 0
    values.append(total + section + digit)
    return values


@functools.lru_cache(maxsize=256)
def _pinyin(folded: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(folded, style=Style.NORMAL, errors="ignore"))
