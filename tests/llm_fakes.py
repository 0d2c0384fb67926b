"""LLM test doubles built on LangChain's fake chat models, and services that use them.

`scripted` is ``FakeListChatModel`` with the given replies (it streams them one
character per chunk, and ``error_on_chunk_number`` breaks a stream midway);
`Broken` raises a given exception on every call, as a client library would on
a refused connection or a 5xx; `Slow` streams numbered tokens slowly and
records how many it produced and whether its stream was closed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import Field

from index.store.loader import open_index
from qa.retrieval.crosslingual import Dictionary
from qa.runtime import build_service
from qa.service import QAService
from qa.settings import Settings
from tests.fakes import FakeEmbedder

LANZHOU = "004_7c2c5349670b6628"


def scripted(*replies: str, error_on_chunk_number: int | None = None) -> FakeListChatModel:
    return FakeListChatModel(responses=list(replies), error_on_chunk_number=error_on_chunk_number)


class Broken(FakeListChatModel):
    """Raises ``error`` whenever it is asked anything."""

    error: Any = None
    calls: int = 0

    def _call(self, *args: Any, **kwargs: Any) -> str:
        self.calls += 1
        raise self.error

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        self.calls += 1
        raise self.error


def broken(error: Exception) -> Broken:
    return Broken(responses=["unused"], error=error)


def connection_refused() -> Exception:
    return openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1:9/v1"))


def timed_out() -> Exception:
    """What the client raises when the server does not answer in time (it always has a request)."""
    return openai.APITimeoutError(
        request=httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    )


def server_error() -> Exception:
    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    response = httpx.Response(503, request=request, json={"error": {"message": "overloaded"}})
    return openai.InternalServerError("overloaded", response=response, body=None)


class Slow(FakeListChatModel):
    """Streams ``tokens`` numbered tokens, ``delay`` seconds apart; counts what it produced."""

    tokens: int = 200
    delay: float = 0.02
    produced: int = 0
    closed: bool = False

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        try:
            for i in range(self.tokens):
                time.sleep(self.delay)
                self.produced += 1
                yield ChatGenerationChunk(message=AIMessageChunk(content=f"第{i}句。"))
        finally:
            self.closed = True


def llm_service(
    index_dir: Path, dictionary: Dictionary, chat_model: Any, **settings: Any
) -> QAService:
    """The sample corpus (fake embedder) answered by ``chat_model``.

    Several chunks per article are retrieved, so the scripted replies can cite
    (and mis-cite) two passages of the Lanzhou article.
    """
    values = {"index_dir": index_dir, "min_dense_score": 0.6, "max_chunks_per_doc": 5, **settings}
    return build_service(
        Settings(**values),
        embedder=FakeEmbedder(),
        index=open_index(index_dir),
        dictionary=dictionary,
        chat_model=chat_model,
    )


def passage_numbers(service: QAService, question: str) -> dict[str, int]:
    """chunk_id -> the number the LLM sees for it, for ``question`` without history."""
    turn = service.understand(question, [])
    _, hits, _ = service.search(turn, None)
    return {hit.chunk.chunk_id: n for n, hit in enumerate(hits, 1)}


def sentence_of(service: QAService, chunk_id: str, index: int = 0) -> str:
    """A sentence of a chunk, verbatim (cut where the chunk cuts it)."""
    chunk = next(c for c in service.index.chunks.values() if c.chunk_id == chunk_id)
    span = service.index.sentences_between(chunk.doc_id, chunk.start, chunk.end)[index]
    text = service.index.texts[chunk.doc_id]
    return text[max(span.start, chunk.start) : min(span.end, chunk.end)]


class Recording(FakeListChatModel):
    """``FakeListChatModel`` that keeps the messages of every call."""

    seen: list[list[BaseMessage]] = Field(default_factory=list)

    def _call(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> str:
        self.seen = [*self.seen, messages]
        return super()._call(messages, *args, **kwargs)

    def _stream(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.seen = [*self.seen, messages]
        return super()._stream(messages, *args, **kwargs)


def recording(*replies: str) -> Recording:
    return Recording(responses=list(replies))
