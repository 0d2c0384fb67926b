"""Extractive answers: the retrieved passages' most relevant sentences, cited.

Every sentence of the retrieved passages is scored by the idf-weighted share
of the question's keyword groups it contains (for English questions, their
dictionary translations), plus a small bonus for the rank of its passage;
headings and fragments (under ``MIN_SENTENCE_CHARS``) are not quoted.  The best
sentences, up to ``MAX_SENTENCES`` and ``MAX_CHARS``, are quoted verbatim in
passage-rank then reading order, each followed by the ``[n]`` of its passage.
When no sentence shares a keyword with the question (a paraphrase the dense
retriever found), the top passage's opening sentences are quoted.

Leaves out: paraphrase, translation and any generated prose (``qa.llm``).
"""

from __future__ import annotations

from dataclasses import dataclass

from index.chunk import sentence_spans
from index.loader import LoadedIndex
from index.textnorm import fold
from prompts import message
from qa.answer import Citation, Draft
from qa.query import Query
from qa.retrieve import Hit, keyword_coverage

MAX_SENTENCES = 3
MAX_CHARS = 420
MIN_SENTENCE_CHARS = 12
RANK_BONUS = 0.15
KEEP_RATIO = 0.5


@dataclass(frozen=True)
class _Sentence:
    hit: int
    start: int
    end: int
    text: str
    score: float


class ExtractiveGenerator:
    def __init__(self, index: LoadedIndex) -> None:
        self.index = index

    def generate(self, query: Query, hits: list[Hit]) -> Draft:
        chosen = self._choose(query, hits)
        numbers: dict[int, int] = {}
        parts = []
        for s in sorted(chosen, key=lambda s: (s.hit, s.start)):
            n = numbers.setdefault(s.hit, len(numbers) + 1)
            parts.append(f"{s.text}[{n}]")
        separator = " " if query.language == "en" else ""
        intro = message("extractive_intro", query.language)
        body = separator.join(parts)
        text = f"{intro}\n{body}" if intro else body
        citations = [_citation(n, hits[h], chosen, h) for h, n in numbers.items()]
        return Draft(text, citations)

    def _choose(self, query: Query, hits: list[Hit]) -> list[_Sentence]:
        candidates = self._sentences(query, hits)
        matched = sorted((s for s in candidates if s.score > 0), key=lambda s: -s.score)
        if not matched:
            return [s for s in candidates if s.hit == 0][:2]
        floor = matched[0].score * KEEP_RATIO
        chosen: list[_Sentence] = []
        used = 0
        for sentence in matched:
            if sentence.score < floor or len(chosen) == MAX_SENTENCES:
                break
            if used + len(sentence.text) > MAX_CHARS and chosen:
                continue
            chosen.append(sentence)
            used += len(sentence.text)
        return chosen

    def _sentences(self, query: Query, hits: list[Hit]) -> list[_Sentence]:
        seen: set[tuple[str, int]] = set()
        out = []
        for rank, hit in enumerate(hits):
            for span in sentence_spans(hit.chunk.text, hit.chunk.start):
                text = hit.chunk.text[span.start - hit.chunk.start : span.end - hit.chunk.start]
                key = (hit.chunk.doc_id, span.start)
                if key in seen or len(text) < MIN_SENTENCE_CHARS:
                    continue
                seen.add(key)
                folded = fold(text)
                lexical = keyword_coverage(self.index, query, folded.__contains__)
                score = lexical + RANK_BONUS / (rank + 1) if lexical > 0 else 0.0
                out.append(_Sentence(rank, span.start, span.end, text, score))
        return out


def _citation(n: int, hit: Hit, chosen: list[_Sentence], rank: int) -> Citation:
    mine = sorted((s for s in chosen if s.hit == rank), key=lambda s: s.start)
    chunk, doc = hit.chunk, hit.document
    start, end = mine[0].start, mine[-1].end
    quote = chunk.text[start - chunk.start : end - chunk.start]
    return Citation(
        n=n,
        doc_id=doc.doc_id,
        chunk_id=chunk.chunk_id,
        title=doc.title,
        date=doc.date,
        outlet=doc.outlet,
        passage=chunk.text,
        passage_start=chunk.start,
        passage_end=chunk.end,
        start=start,
        end=end,
        quote=quote,
        score=round(hit.score, 6),
        highlights=tuple((s.start, s.end) for s in mine),
    )
