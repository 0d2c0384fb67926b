"""Server-Sent Events: encoding, and relaying a blocking event iterator to a client.

`relay` pulls events from the service's (synchronous) iterator in a worker
thread, one at a time, and stops — closing the iterator, which closes an
LLM's HTTP stream — as soon as the client disconnects: it checks before
every event, and Starlette cancels it when the connection drops.  An error
raised mid-stream becomes one last event in the one error shape.

Leaves out: what the events mean (``api.stream``, ``api.openai_compat``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

log = logging.getLogger("article_qa.api")
T = TypeVar("T")
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_END = object()


def event(name: str | None, data: Any) -> str:
    """One SSE message: an optional ``event:`` line and a one-line JSON ``data:``."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return (f"event: {name}\n" if name else "") + f"data: {payload}\n\n"


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
