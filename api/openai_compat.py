"""OpenAI-compatible endpoints, so OpenAI clients and chat front ends can use article-qa.

``POST /v1/chat/completions`` answers the last user message from the articles,
with the earlier user and assistant messages as the conversation (system
messages are ignored: the rules are article-qa's).  The reply's content is
the answer followed by its notices and a "Sources" list, so citations survive
in any chat window; the structured citations and the full ``/v1/ask`` body
travel in ``citations`` and ``article_qa``.  With ``stream: true`` the content
arrives as ``chat.completion.chunk`` events of checked text, claim by claim,
then the footer, a last chunk with ``finish_reason``, ``citations`` and
``article_qa``, and ``data: [DONE]``; a failure mid-stream sends
``data: {"error": …}`` instead.  ``GET /v1/models`` lists the one model,
``article-qa``.  Errors have the one error shape.

Leaves out: the answer logic (``qa.service``) and the native stream (``api.stream``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api import convert, sse
from api.deps import ERRORS, service_of
from api.openai_schemas import (
    MODEL_ID,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatMessage,
    Choice,
    ChunkChoice,
    Delta,
    ModelCard,
    ModelList,
    Usage,
)
from api.schemas import ErrorResponse
from index.errors import InvalidInput, NotFound
from index.text.chunk import count_tokens
from prompts import message
from qa.answer import Answer, Notice
from qa.answering.conversation import Message
from qa.answering.streaming import Event, Finished, Passages, Verified

router = APIRouter()
INLINE_NOTICES = ("llm_unavailable",)
STREAM_RESPONSE = sse.stream_response(
    "A chat.completion, or with `stream: true` Server-Sent Events: chat.completion.chunk "
    "data, then `[DONE]` (or an error instead).",
    sse.event_schema(
        None,
        {
            "anyOf": [
                sse.json_schema(ChatCompletionChunk, inline=(ChunkChoice, Delta)),
                sse.component(ErrorResponse),
            ]
        },
    ),
    {
        "type": "object",
        "required": ["event", "data"],
        "properties": {"event": {"const": "message"}, "data": {"const": "[DONE]"}},
    },
)


@router.get("/v1/models", response_model=ModelList)
def models() -> ModelList:
    return ModelList(data=[ModelCard()])


@router.post(
    "/v1/chat/completions",
    response_model=ChatCompletion,
    responses={**ERRORS, 200: STREAM_RESPONSE},
)
async def chat_completions(body: ChatCompletionRequest, request: Request) -> object:
    if body.model != MODEL_ID:
        raise NotFound(
            f"The model {body.model!r} does not exist; this server answers as {MODEL_ID!r}.",
            detail={"model": body.model, "available": [MODEL_ID]},
        )
    question, history = conversation(body.messages)
    service = service_of(request)
    if not body.stream:
        answer = await run_in_threadpool(service.ask, question, body.top_k, history)
        return completion(answer, body.messages)
    chunks = _Chunks()
    events = service.stream(question, body.top_k, history)
    head = await sse.first(events)
    return StreamingResponse(
        sse.relay(request, head, events, chunks.encode, _error),
        media_type="text/event-stream",
        headers=sse.HEADERS,
    )


def conversation(messages: list[ChatMessage]) -> tuple[str, list[Message]]:
    """The question (the last user message) and the user/assistant turns before it."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise InvalidInput("The last user or assistant message must be the user's question.")
    history = [Message("user" if m.role == "user" else "assistant", _text(m)) for m in turns]
    return history[-1].content, history[:-1]


def completion(answer: Answer, messages: list[ChatMessage]) -> ChatCompletion:
    content = answer.text + footer(answer, inline_shown=False)
    prompt_tokens = sum(count_tokens(_text(m)) for m in messages)
    completion_tokens = count_tokens(content)
    completion_id = _completion_id()  # also the answer's id, for feedback
    return ChatCompletion(
        id=completion_id,
        created=int(time.time()),
        choices=[Choice(message=AssistantMessage(content=content))],
        usage=Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        ),
        citations=convert.citations(answer.citations),
        article_qa=convert.ask_response(answer, answer_id=completion_id),
    )


def footer(answer: Answer, *, inline_shown: bool) -> str:
    """Notices, sources and unsupported sentences, as Markdown after the answer."""
    language = answer.language
    notes = [n for n in answer.notices if not (inline_shown and n.code in INLINE_NOTICES)]
    parts = [f"> {n.message}" for n in notes]
    if answer.citations:
        lines = [message("sources_heading", language)]
        for c in answer.citations:
            page = convert.pages_label(c.page, c.page_end)
            where = " · ".join(x for x in (c.title, c.date, c.outlet, page) if x)
            lines.append(f"- [{c.n}] {where} ({c.doc_id}, {c.start}-{c.end})")
        parts.append("\n".join(lines))
    if answer.verification and answer.verification.unsupported:
        flagged = [f"- {f.text}" for f in answer.verification.unsupported]
        parts.append("\n".join([message("unsupported_heading", language), *flagged]))
    return "".join(f"\n\n{part}" for part in parts)


class _Chunks:
    """Encodes one answer's events as chat.completion.chunk messages."""

    def __init__(self) -> None:
        self.id = _completion_id()
        self.created = int(time.time())
        self.started = False
        self.inline_shown = False

    def encode(self, item: Event) -> Iterable[str]:
        if isinstance(item, Passages) and not self.started:
            self.started = True
            yield self._chunk(Delta(role="assistant", content=""))
        elif isinstance(item, Verified) and item.text:
            yield self._chunk(Delta(content=item.text))
        elif isinstance(item, Notice) and item.code in INLINE_NOTICES:
            self.inline_shown = True
            yield self._chunk(Delta(content=f"\n\n> {item.message}\n\n"))
        elif isinstance(item, Finished):
            answer = item.answer
            if tail := footer(answer, inline_shown=self.inline_shown):
                yield self._chunk(Delta(content=tail))
            last = ChatCompletionChunk(
                id=self.id,
                created=self.created,
                choices=[ChunkChoice(delta=Delta(), finish_reason="stop")],
                citations=convert.citations(answer.citations),
                article_qa=convert.ask_response(answer, answer_id=self.id),
            )
            yield sse.event(None, last.model_dump(mode="json"))
            yield sse.event(None, "[DONE]")

    def _chunk(self, delta: Delta) -> str:
        chunk = ChatCompletionChunk(
            id=self.id, created=self.created, choices=[ChunkChoice(delta=delta)]
        )
        return sse.event(None, chunk.model_dump(mode="json", exclude_none=True))


def _error(exc: Exception) -> Iterable[str]:
    yield sse.event(None, convert.error_body(exc))


def _text(message: ChatMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    parts = message.content or []
    return "\n".join(p.text for p in parts if p.type == "text" and p.text)


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"
