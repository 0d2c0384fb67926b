"""The answer path, top to bottom in `QAService.ask` (and, streamed, in `QAService.stream`).

Validate the question; make a follow-up standalone from the conversation
(``qa.answering.conversation``, ``qa.answering.llm``); analyse it (language, keywords), embed it,
retrieve and fuse passages, decide whether they answer it; then decline in
the question's language, or let the generator write a cited answer — falling
back to the extractive generator, with a notice, if an LLM fails — and check
every citation of a generated answer (``qa.citations.verify``).  `stream` takes the same
steps and yields events as the answer is written (``qa.answering.streaming``).  The
service holds the loaded index, embedder, dictionary, generators, rewriter and
verifier it was given: it loads nothing itself.

An answer reports ``mode`` only when the service has a fallback generator
(an LLM is configured), and ``rewritten_query`` only when there was history.

Leaves out: HTTP (``api``) and model/index loading (``qa.runtime``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from index.embed.embedder import Embedder
from index.errors import InvalidInput
from index.store.view import IndexView
from prompts import message
from qa.answer import Answer, Citation, Draft, GenerationError, Generator, Notice, Sources
from qa.answering.conversation import HeuristicRewriter, Message, Rewriter
from qa.answering.prompting import Grounding
from qa.answering.streaming import Event, Finished, Passages, Token, Verified, draft_pieces, pieces
from qa.citations.support import SupportScorer
from qa.citations.verify import Checked, Session, Verifier
from qa.language import Language, detect
from qa.retrieval.crosslingual import Dictionary
from qa.retrieval.query import Query, analyse
from qa.retrieval.retrieve import Hit, RetrievalConfig, is_relevant, retrieve

log = logging.getLogger("article_qa.service")


@dataclass(frozen=True)
class Turn:
    """The question, and the standalone query retrieval uses for it."""

    question: str
    query: str
    language: Language
    history: bool
    notices: tuple[Notice, ...] = ()


class QAService:
    def __init__(
        self,
        index: IndexView,
        embedder: Embedder,
        generator: Generator,
        config: RetrievalConfig,
        dictionary: Dictionary | None = None,
        max_question_chars: int = 2000,
        *,
        fallback: Generator | None = None,
        rewriter: Rewriter | None = None,
        verifier: Verifier | None = None,
        grounding: Grounding = "strict",
        aux_embedder: Embedder | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.generator = generator
        self.config = config
        self.dictionary = dictionary
        self.max_question_chars = max_question_chars
        self.fallback = fallback
        self.rewriter = rewriter or HeuristicRewriter()
        self.verifier = verifier or Verifier(SupportScorer(index, embedder, dictionary), index)
        self.grounding = grounding
        self.aux_embedder = aux_embedder
        self.on_answer: Callable[[Answer], None] | None = None  # e.g. metrics

    def ask(
        self, question: str, top_k: int | None = None, history: Sequence[Message] = ()
    ) -> Answer:
        clock = _Clock()
        question = self.validate(question)
        turn = self.understand(question, history)
        query, hits, relevant = self.search(turn, top_k)
        clock.lap("retrieve")
        draft = self.draft(query, hits, relevant)
        clock.lap("answer")
        checked = self.check(draft, query.language)
        clock.lap("verify" if checked.verification else "answer")
        return self.answer(turn, draft, checked, clock)

    def stream(
        self, question: str, top_k: int | None = None, history: Sequence[Message] = ()
    ) -> Iterator[Event]:
        clock = _Clock()
        question = self.validate(question)
        turn = self.understand(question, history)
        query, hits, relevant = self.search(turn, top_k)
        clock.lap("retrieve")
        rewritten, notices = (turn.query if turn.history else None), turn.notices
        for piece in self.draft_stream(query, hits, relevant):
            if isinstance(piece, Sources):
                session = self._session(piece.citations, query.language, _generated(piece))
                yield Passages(piece.citations, rewritten, turn.language, piece.mode)
                yield from notices
                notices = ()
            elif isinstance(piece, str):
                yield Token(session.convert_delta(piece))
                if checked_text := session.feed(piece):
                    yield Verified(checked_text)
            elif isinstance(piece, Notice):
                yield piece
            else:
                draft = piece
        clock.lap("answer")
        if tail := session.flush():
            yield Verified(tail)
        checked = session.result()
        clock.lap("verify" if checked.verification else "answer")
        yield Finished(self.answer(turn, draft, checked, clock))

    def validate(self, question: str) -> str:
        question = question.strip()
        if not question:
            raise InvalidInput("The question is empty.")
        if len(question) > self.max_question_chars:
            raise InvalidInput(
                f"The question is {len(question)} characters long; the limit is "
                f"{self.max_question_chars}.",
                detail={"limit": self.max_question_chars, "length": len(question)},
            )
        return question

    def understand(self, question: str, history: Sequence[Message]) -> Turn:
        """The standalone query for a question that may follow up on ``history``."""
        language = detect(question)
        if not history:
            return Turn(question, question, language, history=False)
        rewrite = self.rewriter.rewrite(question, history)
        query = rewrite.query.strip()
        if not query or len(query) > 2 * self.max_question_chars:
            query = question
        return Turn(question, query, language, history=True, notices=rewrite.notices)

    def search(self, turn: Turn, top_k: int | None) -> tuple[Query, list[Hit], bool]:
        """Retrieve for the standalone query; the answer stays in the question's language."""
        query = analyse(turn.query, self.dictionary)
        vector = self.embedder.embed_query(turn.query)
        aux = self.aux_embedder
        aux_vector = aux.embed_query(turn.query) if aux and query.language == "en" else None
        k = top_k or self.config.top_k
        hits = retrieve(self.index, vector, query, self.config, k, aux_vector=aux_vector)
        relevant = is_relevant(hits, query, self.config)
        return replace(query, language=turn.language), hits, relevant

    def draft(self, query: Query, hits: list[Hit], relevant: bool) -> Draft:
        if not relevant and self.grounding == "strict":
            return _declined(query.language)
        try:
            return self.generator.generate(query, hits if relevant else [])
        except GenerationError as exc:
            return self.fall_back(query, hits, relevant, exc)

    def draft_stream(
        self, query: Query, hits: list[Hit], relevant: bool
    ) -> Iterator[Sources | str | Notice | Draft]:
        """`draft`, streamed: on failure, a notice and then the fallback's answer."""
        if not relevant and self.grounding == "strict":
            yield from draft_pieces(_declined(query.language))
            return
        try:
            yield from pieces(self.generator, query, hits if relevant else [])
        except GenerationError as exc:
            fallback = self.fall_back(query, hits, relevant, exc)
            yield fallback.notices[-1]
            yield from draft_pieces(fallback)

    def check(self, draft: Draft, language: Language) -> Checked:
        """The draft with its citations checked (generated drafts only)."""
        session = self._session(draft.citations, language, _generated(draft))
        session.feed(draft.text)
        return session.result()

    def _session(self, citations: list[Citation], language: Language, check: bool) -> Session:
        general = self.grounding == "general"
        return self.verifier.session(citations, language, check=check, general=general)

    def fall_back(
        self, query: Query, hits: list[Hit], relevant: bool, error: GenerationError
    ) -> Draft:
        if self.fallback is None:
            raise error
        log.warning("the LLM failed (%s); answering extractively", error)
        notice = Notice("llm_unavailable", message("notice_llm_unavailable", query.language))
        draft = self.fallback.generate(query, hits) if relevant else _declined(query.language)
        return replace(draft, notices=(*draft.notices, notice))

    def answer(self, turn: Turn, draft: Draft, checked: Checked, clock: _Clock) -> Answer:
        language = turn.language
        notices = [*turn.notices, *draft.notices]
        if checked.general_knowledge:
            notices.append(
                Notice("general_knowledge", message("notice_general_knowledge", language))
            )
        if checked.verification and checked.verification.unsupported:
            notices.append(Notice("unsupported", message("notice_unsupported", language)))
        declined = draft.declined or checked.declined
        text, citations = checked.text, checked.citations
        verification = checked.verification
        if declined and not checked.general_knowledge:
            text, citations = message("declined", language), []
            notices = [n for n in notices if n.code != "unsupported"]
            verification = verification and replace(verification, unsupported=())
        answer = Answer(
            question=turn.question,
            text=text,
            citations=citations,
            language=language,
            declined=declined,
            timings_ms=clock.timings(),
            rewritten_query=turn.query if turn.history else None,
            mode=draft.mode if self.fallback is not None else None,
            verification=verification,
            notices=tuple(notices),
        )
        if self.on_answer is not None:
            self.on_answer(answer)
        return answer


def _declined(language: Language) -> Draft:
    return Draft(message("declined", language), [], declined=True)


def _generated(draft: Draft | Sources) -> bool:
    return draft.mode == "llm"


class _Clock:
    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self.last
        self.last = now

    def timings(self) -> dict[str, float]:
        out = {name: _ms(seconds) for name, seconds in self.laps.items()}
        out["total"] = _ms(self.last - self.started)
        return out


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)
