"""The answer path, top to bottom in `QAService.ask`.

Validate the question, analyse it (language, keywords), embed it, retrieve
and fuse passages, decide whether they answer it, and either decline in the
question's language or let the generator write a cited answer.  The service
holds the loaded index, embedder, dictionary and generator it was given: it
loads nothing itself.

Leaves out: HTTP (``api``) and model/index loading (``qa.runtime``).
"""

from __future__ import annotations

import time

from index.embed import Embedder
from index.errors import InvalidInput
from index.loader import LoadedIndex
from prompts import message
from qa.answer import Answer, Generator
from qa.crosslingual import Dictionary
from qa.query import analyse
from qa.retrieve import RetrievalConfig, is_relevant, retrieve


class QAService:
    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        generator: Generator,
        config: RetrievalConfig,
        dictionary: Dictionary | None = None,
        max_question_chars: int = 2000,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.generator = generator
        self.config = config
        self.dictionary = dictionary
        self.max_question_chars = max_question_chars

    def ask(self, question: str, top_k: int | None = None) -> Answer:
        started = time.perf_counter()
        question = self.validate(question)
        query = analyse(question, self.dictionary)
        vector = self.embedder.embed_query(question)
        hits = retrieve(self.index, vector, query, self.config, top_k or self.config.top_k)
        retrieved = time.perf_counter()
        if not is_relevant(hits, query, self.config):
            text, citations, declined = message("declined", query.language), [], True
        else:
            draft = self.generator.generate(query, hits)
            text, citations, declined = draft.text, draft.citations, False
        done = time.perf_counter()
        timings = {
            "retrieve": _ms(retrieved - started),
            "answer": _ms(done - retrieved),
            "total": _ms(done - started),
        }
        return Answer(question, text, citations, query.language, declined, timings)

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


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)
