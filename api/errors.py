"""One JSON error shape for every error path: ``{"error": {code, message, detail}}``.

Project errors (``index.errors``) map to statuses by their code; request
validation failures become 400 (malformed JSON) or 422 (wrong fields or
types) with readable messages; unknown routes and methods keep their 404/405;
anything unexpected is a 500 whose body leaks no internals.

Leaves out: logging policy beyond recording unexpected exceptions.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.errors import ArticleQAError

log = logging.getLogger("article_qa.api")

STATUS = {
    "invalid_input": 400,
    "ingest_error": 400,
    "not_found": 404,
    "index_busy": 409,
    "index_missing": 503,
    "index_mismatch": 503,
    "index_corrupt": 503,
    "index_unavailable": 503,
    "not_ready": 503,
    "model_unavailable": 503,
    "feedback_unavailable": 503,
}


class _ErrorJSON(JSONResponse):
    """JSON that renders whatever it is given: a lone surrogate echoed from a request (a
    field name, a value) is written as its ``\\ud800`` escape instead of failing."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8", "backslashreplace")


def error_response(status: int, code: str, message: str, detail: object = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "detail": detail}}
    return _ErrorJSON(body, status_code=status)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ArticleQAError, _project_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


async def _project_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ArticleQAError)
    return error_response(STATUS.get(exc.code, 500), exc.code, exc.message, exc.detail)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "malformed_json", "The request body is not valid JSON.")
    problems = [_describe(e) for e in errors]
    return error_response(422, "invalid_request", "; ".join(problems), problems)


def _describe(error: dict) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
    return f"{where}: {error.get('msg', 'invalid value')}"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    response = error_response(exc.status_code, code, str(exc.detail))
    response.headers.update(exc.headers or {})  # e.g. the Allow header of a 405
    return response


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "An unexpected error occurred.")
