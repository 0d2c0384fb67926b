"""Server-Sent Events: encoding, documenting, and relaying a blocking event iterator.

`relay` pulls events from the service's (synchronous) iterator in a worker
thread, one at a time, and stops — closing the iterator, which closes an
LLM's HTTP stream — as soon as the client disconnects: it checks before
every event, and Starlette cancels it when the connection drops.  An error
raised mid-stream becomes one last event in the one error shape.

`event` writes one event: its JSON on one ``data:`` line, with the separators
some line readers split on besides CR and LF (U+2028, U+2029, U+0085) escaped
too, so a passage's text can never cut an event.  `stream_response` documents
a stream for OpenAPI: each event as a client parses it, ``{"event", "data"}``,
with the data's JSON schema as its ``contentSchema`` (`event_schema`), referring
to the OpenAPI components where it can (`component`, `json_schema`).

Leaves out: what the events mean (``api.stream``, ``api.openai_compat``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

log = logging.getLogger("article_qa.api")
T = TypeVar("T")
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_END = object()


def event(name: str | None, data: Any) -> str:
    """One SSE message: an optional ``event:`` line and a one-line JSON ``data:`` (a str is
    sent as is, one ``data:`` line per line of it)."""
    if name is not None and (not name or _SEPARATORS.search(name)):
        raise ValueError(f"not an event name: {name!r}")
    if isinstance(data, str):
        lines = _LINE_END.split(data)
    else:
        lines = [json.dumps(data, ensure_ascii=False).translate(_ESCAPE_SEPARATORS)]
    return (f"event: {name}\n" if name else "") + "".join(f"data: {x}\n" for x in lines) + "\n"


# SSE ends lines at CR, LF and CRLF (JSON escapes those); str.splitlines-style readers also
# break at U+2028, U+2029 and U+0085, which JSON leaves raw.
_LINE_END = re.compile(r"\r\n|\r|\n")
_SEPARATORS = re.compile(r"[\r\n\u2028\u2029\x85]")
_ESCAPE_SEPARATORS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def stream_response(description: str, *events: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI response of ``text/event-stream`` whose every event is one of ``events``."""
    schema = {"anyOf": list(events)}
    return {"description": description, "content": {"text/event-stream": {"schema": schema}}}


def event_schema(name: str | None, data: dict[str, Any]) -> dict[str, Any]:
    """One event as a client reads it: ``{"event": name, "data": text}`` (``message`` when it
    has no ``event:`` line), the text being JSON that ``data`` describes."""
    return {
        "type": "object",
        "required": ["event", "data"],
        "properties": {
            "event": {"const": name or "message"},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": data,
            },
        },
    }


def component(model: type[BaseModel]) -> dict[str, Any]:
    """A reference to ``model``'s schema among the OpenAPI components (a route's model)."""
    return {"$ref": f"{_COMPONENTS}{model.__name__}"}


def json_schema(
    model: type[BaseModel], *, inline: tuple[type[BaseModel], ...] = ()
) -> dict[str, Any]:
    """``model``'s JSON Schema as serialised, for a model no route registers: the models it
    nests are referred to among the OpenAPI components, except ``inline`` ones, spelt out."""
    schema = model.model_json_schema(mode="serialization", ref_template=_COMPONENTS + "{model}")
    definitions = schema.pop("$defs", {})
    spelt = {m.__name__: definitions[m.__name__] for m in inline}
    inlined: dict[str, Any] = _inline(schema, spelt)
    return inlined


_COMPONENTS = "#/components/schemas/"


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    name = ref.removeprefix(_COMPONENTS) if isinstance(ref, str) else None
    if name not in definitions:
        return {key: _inline(value, definitions) for key, value in node.items()}
    out = {key: _inline(value, definitions) for key, value in node.items() if key != "$ref"}
    return {**_inline(definitions[name], definitions), **out}


async def first(events: Iterator[T]) -> T:
    """The first event, pulled before the response starts, so that errors in
    validation and retrieval are ordinary HTTP errors."""
    item = await run_in_threadpool(_next, events)
    if item is _END:
        raise RuntimeError("The answer stream ended before its first event.")
    return item


async def relay(
    request: Request,
    head: T,
    events: Iterator[T],
    encode: Callable[[T], Iterable[str]],
    on_error: Callable[[Exception], Iterable[str]],
) -> AsyncIterator[str]:
    try:
        item: Any = head
        while item is not _END:
            for chunk in encode(item):
                yield chunk
            if await request.is_disconnected():
                log.info("client disconnected; stopping the answer")
                break
            item = await run_in_threadpool(_next, events)
    except Exception as exc:
        log.exception("error while streaming an answer")
        for chunk in on_error(exc):
            yield chunk
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()


def _next(events: Iterator[Any]) -> Any:
    try:
        return next(events)
    except StopIteration:
        return _END
