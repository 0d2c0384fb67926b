"""``POST /v1/ask/stream``: an answer as Server-Sent Events, extractive or generated.

Events, each ``event: <name>`` with one JSON ``data:`` line:

* ``citations`` — first: the passages the answer may cite, numbered as its
  ``[n]`` markers, with ``rewritten_query``, ``language`` and ``mode``
  (`StreamPassages`);
* ``token`` — ``{"text": …}``, the answer's text as it is written;
* ``notice`` — ``{"code", "message"}``, e.g. ``llm_unavailable`` when the LLM
  fails: a new ``citations`` event and the extractive answer's tokens follow,
  and the client starts the answer afresh;
* ``done`` — last: the final answer, exactly the body ``POST /v1/ask`` returns;
  its text and citations (checked, corrected) replace what was streamed;
* ``error`` — instead of ``done`` if something fails mid-stream, in the one
  error shape ``{"error": {"code", "message", "detail"}}``.

Errors before the first event (invalid question, index not ready) are
ordinary HTTP error responses.  A client that disconnects stops generation.

Leaves out: the OpenAI-style stream (``api.openai_compat``).
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from api import convert, sse
from api.deps import ERRORS, service_of
from api.schemas import (
    AskRequest,
    AskResponse,
    ErrorResponse,
    NoticeOut,
    StreamPassages,
    StreamToken,
)
from qa.answer import Notice
from qa.answering.streaming import Event, Finished, Passages, Token

router = APIRouter()
STREAM_RESPONSE = {
    200: sse.stream_response(
        "Server-Sent Events: citations, token…, notice…, then done or error.",
        sse.event_schema("citations", sse.json_schema(StreamPassages)),
        sse.event_schema("token", sse.json_schema(StreamToken)),
        sse.event_schema("notice", sse.component(NoticeOut)),
        sse.event_schema("done", sse.component(AskResponse)),
        sse.event_schema("error", sse.component(ErrorResponse)),
    ),
    **ERRORS,
}


@router.post("/v1/ask/stream", response_class=StreamingResponse, responses=STREAM_RESPONSE)
async def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:
    service = service_of(request)
    events = service.stream(body.question, body.top_k, convert.history(body.history))
    head = await sse.first(events)
    return StreamingResponse(
        sse.relay(request, head, events, encode, error),
        media_type="text/event-stream",
        headers=sse.HEADERS,
    )


def encode(item: Event) -> Iterable[str]:
    if isinstance(item, Passages):
        yield sse.event("citations", convert.passages(item).model_dump(mode="json"))
    elif isinstance(item, Token) and item.text:
        yield sse.event("token", {"text": item.text})
    elif isinstance(item, Notice):
        yield sse.event("notice", convert.notice(item).model_dump(mode="json"))
    elif isinstance(item, Finished):
        yield sse.event("done", convert.ask_response(item.answer).model_dump(mode="json"))


def error(exc: Exception) -> Iterable[str]:
    yield sse.event("error", convert.error_body(exc))
