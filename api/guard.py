"""The gate every request passes: key, rate limit, body size, then a slot for answers.

One ASGI middleware, in this order, each refusal in the one error shape:

1. access (``api.access``): 401 ``unauthorized`` without a valid key where one
   is needed, 403 ``forbidden`` / ``origin_refused`` / ``admin_disabled``;
2. rate limit per key and per client address (``api.ratelimit``): 429
   ``rate_limited`` with ``Retry-After``;
3. body size: 413 ``body_too_large`` from ``Content-Length`` before reading,
   or while reading a body sent without one (it is buffered, then replayed);
4. for the answer endpoints only, one of ``QA_MAX_CONCURRENT_ANSWERS`` slots,
   waiting in a queue of at most ``QA_MAX_QUEUED_ANSWERS`` for up to
   ``QA_QUEUE_TIMEOUT`` seconds: 503 ``busy`` with ``Retry-After`` when full.
   The slot is held until the response — a whole stream — is sent.

Public paths (health, widget files, docs) skip all four.  The caller's
identity is left in ``request.state.identity`` for the routes and logs.

Leaves out: CORS (``api.cors``, which wraps this so refusals stay readable by
allowed pages) and the metrics of what passes (``api.observability``).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import access
from api.access import ANONYMOUS, Identity, KeyRing
from api.errors import error_response
from api.ratelimit import RateLimiter

ANSWER_PATHS = frozenset({"/v1/ask", "/v1/ask/stream", "/v1/chat/completions"})
UPLOAD_PATHS = frozenset({"/v1/admin/documents"})


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class Gate:
    """At most ``slots`` answers at once; at most ``queue`` more waiting."""

    def __init__(self, slots: int, queue: int, timeout: float) -> None:
        self.slots, self.queue, self.timeout = slots, queue, timeout
        self.semaphore = asyncio.Semaphore(slots)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiting = self.busy = 0
        self.mean_seconds = 1.0  # moving average of how long a slot is held

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.loop is not asyncio.get_running_loop():  # a new server (or test client) loop
            self.loop, self.semaphore = asyncio.get_running_loop(), asyncio.Semaphore(self.slots)
        if self.semaphore.locked() and self.waiting >= self.queue:
            raise self._full("The service is at capacity and its queue is full.")
        self.waiting += 1
        try:
            await asyncio.wait_for(self.semaphore.acquire(), self.timeout)
        except TimeoutError:
            raise self._full(f"No answer slot came free within {self.timeout:g} s.") from None
        finally:
            self.waiting -= 1
        self.busy += 1
        started = time.monotonic()
        try:
            yield
        finally:
            self.busy -= 1
            self.semaphore.release()
            self.mean_seconds = 0.9 * self.mean_seconds + 0.1 * (time.monotonic() - started)

    def _full(self, message: str) -> Refused:
        wait = max(1, math.ceil(self.mean_seconds * (self.waiting + 1) / self.slots))
        return Refused(503, "busy", message + " Try again shortly.", {"Retry-After": str(wait)})


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: KeyRing,
        limiter: RateLimiter,
        gate: Gate,
        max_body: int,
        max_upload: int,
    ) -> None:
        self.app, self.keys, self.limiter, self.gate = app, keys, limiter, gate
        self.max_body, self.max_upload = max_body, max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        need = access.need(path)
        try:
            if need == "public":
                await self.app(scope, receive, send)
                return
            headers = Headers(scope=scope)
            identity = self.authorize(need == "admin", headers)
            scope.setdefault("state", {})["identity"] = identity
            self.limit(identity, scope)
            limit = self.max_upload if path in UPLOAD_PATHS else self.max_body
            receive = await _buffered(receive, headers, limit)
            if path in ANSWER_PATHS and scope["method"] == "POST":
                async with self.gate.slot():
                    await self.app(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        except Refused as refused:
            response = error_response(refused.status, refused.code, refused.message)
            response.headers.update(refused.headers)
            await response(scope, receive, send)

    def authorize(self, admin: bool, headers: Mapping[str, str]) -> Identity:
        if admin and not self.keys.admin_enabled:
            raise Refused(403, "admin_disabled", "Admin endpoints are off: set QA_ADMIN_KEYS.")
        secret = access.presented_secret(headers)
        if secret is None:
            if not admin and self.keys.open_ask:
                return ANONYMOUS
            raise Refused(
                401,
                "unauthorized",
                "This endpoint needs an API key: send `Authorization: Bearer <key>`.",
                {"WWW-Authenticate": "Bearer"},
            )
        key = self.keys.identify(secret)
        if key is None and not admin and self.keys.open_ask:
            return ANONYMOUS  # open endpoints ignore keys they do not know (SDKs always send one)
        if key is None:
            raise Refused(
                401, "unauthorized", "The API key is not valid.", {"WWW-Authenticate": "Bearer"}
            )
        if key.role == "widget" and headers.get("origin", "").lower() not in key.origins:
            raise Refused(403, "origin_refused", f"Widget key {key.name!r} is not for this page.")
        if admin and key.role != "admin":
            raise Refused(403, "forbidden", "This endpoint needs an admin key.")
        return Identity(key.name, key.role)

    def limit(self, identity: Identity, scope: Scope) -> None:
        client = scope.get("client")
        buckets = [f"addr:{client[0] if client else 'unknown'}"]
        if identity.name is not None:
            buckets.append(f"key:{identity.name}")
        wait = self.limiter.take(*buckets)
        if wait:
            raise Refused(
                429,
                "rate_limited",
                f"Too many requests; try again in {wait:g} s.",
                {"Retry-After": str(int(wait))},
            )


async def _buffered(receive: Receive, headers: Mapping[str, str], limit: int) -> Receive:
    """Refuse a body over ``limit``; otherwise read it whole and replay it to the app."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return _replay([message], receive)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        more = message.get("more_body", False)
    body: dict[str, Any] = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
    return _replay([body], receive)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _too_large(limit: int) -> Refused:
    return Refused(413, "body_too_large", f"The request body is larger than {limit} bytes.")


REFUSALS = {
    401: "No valid API key.",
    403: "The key may not use this endpoint, or not from this page.",
    413: "The request body is too large.",
    429: "Too many requests; see Retry-After.",
}


def document(schema: dict[str, Any], keys: KeyRing) -> dict[str, Any]:
    """Add the keys and the refusals above to an OpenAPI schema, path by path."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(
        {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
    )
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    for path, operations in schema.get("paths", {}).items():
        need = access.need(path)
        if need == "public":
            continue
        refusals = dict(REFUSALS)
        if path in ANSWER_PATHS:
            refusals[503] = "No answer slot came free (busy), or the index is not ready."
        for operation in operations.values():
            optional = need == "reader" and keys.open_ask
            operation["security"] = [*([{}] if optional else []), {"bearer": []}, {"apiKey": []}]
            responses = operation.setdefault("responses", {})
            for status, description in refusals.items():
                responses.setdefault(str(status), {"description": description, "content": error})
    return schema
