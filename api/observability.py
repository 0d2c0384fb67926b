"""Request ids, structured logs and per-request metrics.

``RequestContext`` is the outermost middleware: it takes the caller's
``X-Request-ID`` when it is a sane token (or makes one), returns it in the
response header, makes it available to every log line written while the
request is handled, and when the response is done writes one access-log
line and records the request's metrics.  ``log_config`` sets the
server's log format: one JSON object per line (``QA_LOG_FORMAT=json``) with
``request_id`` on every line, or plain text.

Question text never reaches the logs unless ``QA_LOG_QUESTIONS`` is on
(``log_question``); otherwise only its length and language are written.

Leaves out: the metric definitions (``api.metrics``).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import Metrics

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
access_log = logging.getLogger("article_qa.access")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def log_config(level: str, fmt: str) -> dict[str, Any]:
    """``logging.config.dictConfig`` for the server (uvicorn applies it in every worker):
    every line to stderr in ``fmt`` (json or text) with the request id; uvicorn's own
    access log is replaced by ``article_qa.access``."""
    text = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
    formatter = {"()": JsonFormatter} if fmt == "json" else {"format": text}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"main": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "main",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }


def log_question(logger: logging.Logger, question: str, language: str, enabled: bool) -> None:
    extra: dict[str, Any] = {"question_chars": len(question), "language": language}
    if enabled:
        extra["question"] = question
    logger.info("question", extra=extra)


class RequestContext:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _SANE_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.finish(scope, status, time.perf_counter() - started)
            request_id.reset(token)

    def finish(self, scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        self.metrics.observe_request(scope["method"], route, status, seconds)
        identity = scope.get("state", {}).get("identity")
        client = scope.get("client")
        access_log.info(
            "%s %s %d",
            scope["method"],
            route,
            status,
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "ms": round(seconds * 1000, 1),
                "client": client[0] if client else None,
                "key": getattr(identity, "name", None),
            },
        )
