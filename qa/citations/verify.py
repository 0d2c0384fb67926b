"""Checking a generated answer's citations, claim by claim, as the answer is written.

Every claim (``qa.citations.markers``) that carries ``[n]`` numbers is measured against
every passage the generator was given (``qa.citations.support``):

* cited passages that support it keep their numbers; the others are removed;
* when none of them does (or a number names no passage), the best supporting
  passage replaces them (``corrected``); when no passage supports the claim, its
  numbers are removed and it is flagged ``unsupported``;
* a claim without numbers that a passage supports gets that passage's number
  (small models often write no marker at all; it counts as one marker checked and
  corrected); one that no passage supports is flagged ``uncited``, except
  introductions (ending in a colon), the decline sentence, the general-knowledge
  heading and everything after it (with ``QA_GROUNDING=general`` only: under
  ``strict`` the heading is ordinary text and what follows is checked);
* a claim too short to measure keeps the numbers that name a passage; without
  numbers, it gets the first passage that holds it word for word ("3.71万人").

Generated text is also put into the question's script (OpenCC), in case the
model drifted from traditional to simplified Chinese or back.  A `Session`
takes the answer as it streams: `feed` returns the checked text of the claims
finished so far, `flush` the rest, and `result` the final text, citations
(narrowed to the sentences that support the claims citing them) and counts.
Checking a whole answer is one `feed`, `flush` and `result`.  Extractive
drafts quote their passages verbatim and pass through unchecked.

Leaves out: how support is measured (``qa.citations.support``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from index.docs.model import page_at
from index.store.view import IndexView
from index.text.textnorm import fold, has_han, to_simplified, to_traditional
from prompts import message
from qa.answer import Citation, Flag, Verification
from qa.citations.markers import Claim, parse, render_claim, stable_end, strip_markers
from qa.citations.support import Profile, SupportScorer, lexical_overlap
from qa.language import Language

_PLAIN = re.compile(r"[\W_]+", re.UNICODE)
Reason = Literal["unsupported", "uncited"]


@dataclass(frozen=True)
class Checked:
    text: str
    citations: list[Citation]
    verification: Verification | None
    declined: bool
    general_knowledge: bool


class Verifier:
    def __init__(self, scorer: SupportScorer, index: IndexView) -> None:
        self.scorer = scorer
        self.index = index

    def session(
        self, citations: list[Citation], language: Language, *, check: bool, general: bool = False
    ) -> Session:
        """A check of one answer; ``general`` honours the general-knowledge heading."""
        return Session(self, citations, language, check, general)

    def narrow(self, citation: Citation, profiles: list[Profile]) -> Citation:
        """The citation's quote and highlights: the passage sentences its claims rest on."""
        doc_id, text = citation.doc_id, self.index.texts.get(citation.doc_id)
        if text is None:
            return citation
        spans = self.index.sentences_between(doc_id, citation.passage_start, citation.passage_end)
        chosen = set()
        for profile in profiles:
            overlaps = [lexical_overlap(profile, text[s.start : s.end]) for s in spans]
            if overlaps and max(overlaps) > 0:
                chosen.add(spans[int(np.argmax(overlaps))])
        if not chosen:
            chosen = {s for s in spans}
        ordered = sorted((s.start, s.end) for s in chosen)
        start, end = ordered[0][0], ordered[-1][1]
        doc = self.index.documents.get(doc_id)
        starts = doc.page_starts if doc else ()
        page, page_end = page_at(starts, start), page_at(starts, max(start, end - 1))
        return replace(
            citation,
            start=start,
            end=end,
            quote=text[start:end],
            highlights=tuple(ordered),
            page=page,
            page_end=page_end,
        )


@dataclass
class _Tally:
    checked: int = 0
    corrected: int = 0
    removed: int = 0
    flags: list[Flag] = field(default_factory=list)


class Session:
    def __init__(
        self,
        verifier: Verifier,
        citations: list[Citation],
        language: Language,
        check: bool,
        general: bool = False,
    ) -> None:
        self.scorer = verifier.scorer
        self.verifier = verifier
        self.citations = {c.n: c for c in citations}
        self.check = check
        self.convert = _script_converter(language) if check else None
        self.evidence = [self.scorer.evidence(c) for c in citations] if check else []
        self.columns = {e.n: j for j, e in enumerate(self.evidence)}
        self.pending = ""
        self.text = ""
        self.tally = _Tally()
        self.general = False
        self.cited_by: dict[int, list[Profile]] = {}
        self._decline = _plain(message("declined", language))
        self._heading = _plain(message("general_heading", language)) if general else None

    def convert_delta(self, delta: str) -> str:
        """A raw token in the question's script (for streaming it before it is checked)."""
        return self.convert(delta) if self.convert and has_han(delta) else delta

    def feed(self, delta: str) -> str:
        if not self.check:
            self.text += delta
            return delta
        self.pending += delta
        end = stable_end(self.pending)
        if not end:
            return ""
        ready, self.pending = self.pending[:end], self.pending[end:]
        return self._release(ready)

    def flush(self) -> str:
        ready, self.pending = self.pending, ""
        return self._release(ready) if ready else ""

    def result(self) -> Checked:
        self.flush()
        declined = _plain(strip_markers(self.text)).startswith(self._decline)
        if not self.check:
            return Checked(self.text, list(self.citations.values()), None, declined, False)
        numbers = sorted(self.cited_by)
        cited = [self.verifier.narrow(self.citations[n], self.cited_by[n]) for n in numbers]
        t = self.tally
        verification = Verification(t.checked, t.corrected, t.removed, tuple(t.flags))
        return Checked(self.text, cited, verification, declined, self.general)

    def _release(self, ready: str) -> str:
        claims = parse(ready)
        if self.convert:
            claims = [
                replace(c, text=self.convert(c.text)) if has_han(c.text) else c for c in claims
            ]
        verdicts = self._verdicts(claims)
        out: list[str] = []
        for i, claim in enumerate(claims):
            profile, reason = None, None
            if i in verdicts:
                claim, profile, reason = verdicts[i]
            if reason is not None:
                self.tally.flags.append(_flag(claim, reason, len(self.text) + sum(map(len, out))))
            for n in claim.numbers:
                self.cited_by.setdefault(n, []).append(profile or self.scorer.profile(claim.text))
            out.append(render_claim(claim))
        released = "".join(out)
        self.text += released
        return released

    def _verdicts(self, claims: list[Claim]) -> dict[int, tuple[Claim, Profile, Reason | None]]:
        targets = [i for i, c in enumerate(claims) if self._needs_check(c)]
        if not targets:
            return {}
        profiles = [self.scorer.profile(claims[i].text) for i in targets]
        scores = self.scorer.scores(profiles, self.evidence)
        verdicts = {}
        for i, profile, row in zip(targets, profiles, scores, strict=True):
            claim, reason = self._judge(claims[i], profile, row)
            verdicts[i] = (claim, profile, reason)
        return verdicts

    def _needs_check(self, claim: Claim) -> bool:
        """Cited claims always; uncited ones unless they are exempt (see module docstring)."""
        plain = _plain(claim.text)
        if plain and plain == self._heading:
            self.general = True
            return False
        if plain == self._decline:
            return False
        if claim.numbers:
            return True
        exempt = not claim.has_words or self.general or claim.text.rstrip().endswith((":", "："))
        return not exempt

    def _judge(
        self, claim: Claim, profile: Profile, row: np.ndarray
    ) -> tuple[Claim, Reason | None]:
        threshold = self.scorer.threshold(profile)
        t = self.tally
        t.checked += len(claim.numbers)
        valid = tuple(n for n in claim.numbers if n in self.columns)
        if not profile.measurable:
            if not claim.numbers and (n := self._verbatim(claim)) is not None:
                t.checked += 1
                t.corrected += 1
                return claim.with_numbers((n,)), None
            t.removed += len(claim.numbers) - len(valid)
            return claim.with_numbers(valid), None
        best = int(np.argmax(row)) if row.size else -1
        supported = best >= 0 and row[best] >= threshold
        if not claim.numbers:
            if not supported:
                return claim, "uncited"
            t.checked += 1  # a missing marker, supplied: counted as one checked and corrected
            t.corrected += 1
            return claim.with_numbers((self.evidence[best].n,)), None
        keep = tuple(n for n in valid if row[self.columns[n]] >= threshold)
        if keep:
            t.removed += len(claim.numbers) - len(keep)
            return claim.with_numbers(keep), None
        if supported:
            t.corrected += 1
            t.removed += len(claim.numbers) - 1
            return claim.with_numbers((self.evidence[best].n,)), None
        t.removed += len(claim.numbers)
        return claim.with_numbers(()), "unsupported"

    def _verbatim(self, claim: Claim) -> int | None:
        """The first passage holding a short uncited claim word for word (folded), if any."""
        plain = _plain(claim.text)
        if len(plain) < 2:
            return None
        return next((e.n for e in self.evidence if plain in _PLAIN.sub("", e.folded)), None)


def _flag(claim: Claim, reason: Reason, offset: int) -> Flag:
    stripped = claim.text.strip()
    start = offset + claim.text.index(stripped)
    return Flag(stripped, start, start + len(stripped), reason)


def _plain(text: str) -> str:
    return _PLAIN.sub("", fold(text))


def _script_converter(language: Language) -> Callable[[str], str] | None:
    return {"zh-Hant": to_traditional, "zh-Hans": to_simplified}.get(language)
