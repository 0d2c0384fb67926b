"""Cross-origin access for pages on other hosts: CORS from ``QA_ALLOWED_ORIGINS``.

Starlette's ``CORSMiddleware`` does the work: only responses to the
configured origins carry ``Access-Control-Allow-Origin`` (so a browser page
on any other origin cannot read them), and a preflight (``OPTIONS`` with
``Access-Control-Request-Method``) from any other origin, or for a method or
header the API does not take, is refused — here with 403 in the one error
shape instead of Starlette's plain-text 400.  ``POST`` with a JSON body always
needs a preflight across origins, so a refused page cannot even make the
service answer.  ``Retry-After`` is exposed so a widget on an allowed origin
can read it from a 429.  No cookies are allowed: the API's keys travel in
``Authorization`` / ``X-API-Key``, which preflights accept.  The origins of
widget keys (QA_WIDGET_KEYS) are allowed as well.

With no origins configured (the default) only same-origin pages, such as the
demo page at ``/``, can use the API from a browser.

Leaves out: keys and rate limits (``api.guard``); non-browser clients,
which CORS does not concern.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import Headers
from starlette.responses import Response

from api.errors import error_response

METHODS = ["GET", "POST"]
HEADERS = ["Content-Type", "Accept", "Authorization", "X-API-Key", "X-Request-ID"]
PREFLIGHT_MAX_AGE = 600


class _RefusingCORSMiddleware(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        origin = request_headers.get("origin")
        return error_response(
            403,
            "cors_refused",
            "This cross-origin request is not allowed: the page's origin is not in "
            "QA_ALLOWED_ORIGINS, or the method or headers are not ones the API takes.",
            {
                "origin": origin,
                "origin_allowed": origin is not None and self.is_allowed_origin(origin),
                "method": request_headers.get("access-control-request-method"),
                "headers": request_headers.get("access-control-request-headers"),
            },
        )


def install(app: FastAPI, origins: list[str]) -> None:
    app.add_middleware(
        _RefusingCORSMiddleware,
        allow_origins=origins,
        allow_methods=METHODS,
        allow_headers=HEADERS,
        expose_headers=["Retry-After", "X-Request-ID"],
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE,
    )
