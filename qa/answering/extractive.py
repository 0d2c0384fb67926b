"""Extractive answers: the direct answer phrase, then the passages' most relevant sentences, cited.

Every whole sentence of the retrieved passages (each widened by its neighbouring
chunks, since retrieval keeps one chunk per article by default) is scored by the weighted share
of the question's keyword groups it contains (for English questions, their
dictionary translations; the article's title counts as part of every sentence,
whose subject it often is), plus a small bonus for the rank of its passage;
headings and fragments (under ``MIN_SENTENCE_CHARS``) are not quoted.  For a
question asking who, when, where or how many (``qa.answering.answer_type``), a
sentence holding a phrase of that type (``qa.answering.spans``) gains
``TYPE_BONUS``; the best such phrase leads the answer on a line of its own
("1998年。"), verbatim, and is one more highlight of its citation, inside its
sentence's.  The best
sentence is quoted with the sentence that follows it in the article, its
likely elaboration (a question's words tend to match the sentence that
introduces a topic, "the decision…", while the next one says what it is,
"it requires…").  Further sentences scoring at least ``KEEP_RATIO`` of the
best are added up to ``MAX_SENTENCES`` and ``MAX_CHARS``.  Quotes are verbatim,
grouped by article (best-ranked first) in reading order, each followed by the ``[n]`` of the passage
(chunk) it comes from.  When no sentence shares a keyword with the question
(a paraphrase only the dense retriever found), the top passage's opening
sentences are quoted.

Leaves out: paraphrase, translation and any generated prose; a phrase for
questions of no type (what, which, why, how), which get sentences only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from index.store.chunks import ChunkRecord
from index.store.view import IndexView
from index.text.textnorm import fold
from prompts import message
from qa.answer import Citation, Draft
from qa.answering import spans
from qa.answering.answer_type import AnswerType, classify
from qa.retrieval.query import Query
from qa.retrieval.retrieve import Hit, keyword_coverage

MAX_SENTENCES = 3
MAX_CHARS = 600
MIN_SENTENCE_CHARS = 12
RANK_BONUS = 0.3
KEEP_RATIO = 0.5
TITLE_WEIGHT = 1.0  # the title's keywords count as in every sentence of its article
TYPE_BONUS = 0.1  # a sentence holding a phrase of the asked type (a year for "when")
TAGGED_SENTENCES = 6  # person/place questions tag only the best sentences (jieba.posseg)


@dataclass(frozen=True)
class _Sentence:
    rank: int
    chunk: ChunkRecord
    start: int
    end: int
    text: str
    score: float
    hit_score: float
    answer: tuple[int, int] | None = None  # the typed answer phrase, offsets in ``text``


class ExtractiveGenerator:
    def __init__(self, index: IndexView) -> None:
        self.index = index

    def generate(self, query: Query, hits: list[Hit]) -> Draft:
        chosen = self._choose(query, hits, classify(query.text))
        doc_rank: dict[str, int] = {}
        for s in sorted(chosen, key=lambda s: s.rank):
            doc_rank.setdefault(s.chunk.doc_id, s.rank)
        chosen.sort(key=lambda s: (doc_rank[s.chunk.doc_id], s.chunk.doc_id, s.start))
        numbers: dict[int, int] = {}
        for s in chosen:
            numbers.setdefault(s.chunk.id, len(numbers) + 1)
        separator = " " if query.language == "en" else ""
        body = separator.join(f"{s.text}[{numbers[s.chunk.id]}]" for s in chosen)
        intro = message("extractive_intro", query.language)
        text = f"{intro}\n{body}" if intro else body
        short = next((s for s in chosen if s.answer is not None), None)
        if short is not None and short.answer is not None:
            phrase = short.text[short.answer[0] : short.answer[1]].strip()
            text = f"{phrase}{'.' if query.language == 'en' else '。'}\n{text}"
        citations = [
            self._citation(n, [s for s in chosen if s.chunk.id == chunk_id])
            for chunk_id, n in numbers.items()
        ]
        return Draft(text, citations)

    def _choose(self, query: Query, hits: list[Hit], kind: AnswerType) -> list[_Sentence]:
        candidates = self._sentences(query, hits)
        matched = self._typed(
            query, kind, sorted((s for s in candidates if s.score > 0), key=lambda s: -s.score)
        )
        if not matched:
            return [s for s in candidates if s.rank == 0][:2]
        best = matched[0]
        phrase = next((s for s in matched if s.answer is not None), None)
        matched = [s if s is phrase else replace(s, answer=None) for s in matched]
        best = matched[0]
        chosen = [best]
        follower = self._follower(best, candidates)
        if follower is not None and len(best.text) + len(follower.text) <= MAX_CHARS:
            chosen.append(follower)
        used = sum(len(s.text) for s in chosen)
        for sentence in matched[1:]:
            if sentence.score < best.score * KEEP_RATIO or len(chosen) == MAX_SENTENCES:
                break
            if (
                any(
                    c.start == sentence.start and c.chunk.doc_id == sentence.chunk.doc_id
                    for c in chosen
                )
                or used + len(sentence.text) > MAX_CHARS
            ):
                continue
            chosen.append(sentence)
            used += len(sentence.text)
        return chosen

    def _typed(self, query: Query, kind: AnswerType, matched: list[_Sentence]) -> list[_Sentence]:
        """``matched`` with each sentence's answer phrase found, those holding one raised first.

        Only the best sentences are tagged for people and places (part-of-speech
        tagging costs about a millisecond a sentence); dates and numbers are patterns.
        """
        if kind == "other":
            return matched
        keywords = [t for group in query.groups for t in group]
        pool = TAGGED_SENTENCES if kind in ("person", "place") else len(matched)
        typed = []
        for i, s in enumerate(matched):
            found = spans.best_span(s.text, kind, query.text, keywords) if i < pool else None
            typed.append(
                s if found is None else replace(s, answer=found, score=s.score + TYPE_BONUS)
            )
        return sorted(typed, key=lambda s: -s.score)

    def _sentences(self, query: Query, hits: list[Hit]) -> list[_Sentence]:
        seen: set[tuple[str, int]] = set()
        out = []
        for rank, hit in enumerate(hits):
            doc_id, text = hit.chunk.doc_id, self.index.texts[hit.chunk.doc_id]
            title = fold(hit.document.title or "")
            start, end = self._window(hit)
            for span in self.index.sentences_between(doc_id, start, end):
                sentence = text[span.start : span.end]
                if (doc_id, span.start) in seen or len(sentence) < MIN_SENTENCE_CHARS:
                    continue
                seen.add((doc_id, span.start))
                lexical = self._lexical(query, fold(sentence), title)
                score = lexical + RANK_BONUS / (rank + 1) if lexical > 0 else 0.0
                out.append(
                    _Sentence(rank, hit.chunk, span.start, span.end, sentence, score, hit.score)
                )
        return out

    def _lexical(self, query: Query, folded: str, title: str) -> float:
        """Keyword coverage of a sentence; its article's title counts at ``TITLE_WEIGHT``
        (a sentence's subject is often the title: "是池波正太郎所作的时代小说")."""
        own = keyword_coverage(self.index, query, folded.__contains__)
        if not title:
            return own
        titled = keyword_coverage(self.index, query, lambda t: t in folded or t in title)
        return own + TITLE_WEIGHT * (titled - own)

    def _window(self, hit: Hit) -> tuple[int, int]:
        """The hit's chunk widened by its neighbours: retrieval keeps one chunk per article."""
        before, after = self.index.neighbours(hit.chunk)
        return (before or hit.chunk).start, (after or hit.chunk).end

    def _follower(self, best: _Sentence, candidates: list[_Sentence]) -> _Sentence | None:
        """The article's next quotable sentence after ``best``, retrieved or not."""
        doc_id, text = best.chunk.doc_id, self.index.texts[best.chunk.doc_id]
        following = self.index.sentences_between(doc_id, best.end, len(text))
        span = next(
            (s for s in following if s.start >= best.end and s.end - s.start >= MIN_SENTENCE_CHARS),
            None,
        )
        if span is None:
            return None
        for c in candidates:
            if c.chunk.doc_id == doc_id and c.start == span.start:
                return c
        chunk = self.index.chunk_at(doc_id, span.start)
        return _Sentence(
            best.rank, chunk, span.start, span.end, text[span.start : span.end], 0.0, best.hit_score
        )

    def _citation(self, n: int, mine: list[_Sentence]) -> Citation:
        chunk = mine[0].chunk
        start, end = mine[0].start, mine[-1].end
        return Citation.of_passage(
            n,
            chunk,
            self.index.documents[chunk.doc_id],
            max(s.hit_score for s in mine),
            cited=(start, end, self.index.texts[chunk.doc_id][start:end]),
            highlights=tuple((s.start, s.end) for s in mine)
            + tuple((s.start + s.answer[0], s.start + s.answer[1]) for s in mine if s.answer),
        )
