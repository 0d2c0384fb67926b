"""The chat widget's files: ``GET /widget.js`` and the demo intranet page at ``GET /``.

Both are static files in ``api/static`` (package data), read once and served
with an ``ETag`` (``If-None-Match`` gives 304) and ``Cache-Control: no-cache``,
so pages pick up a new widget on their next load without refetching an
unchanged one.  ``widget.js`` may be embedded by pages on any origin (a
classic ``<script>`` is not subject to CORS); the requests it then makes are
(``api.cors``).  The routes are left out of the OpenAPI schema.

Leaves out: the widget itself (``api/static/widget.js``, plain JavaScript).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)
COMMON_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


@cache
def asset(name: str, media_type: str) -> Asset:
    body = (resources.files("api") / "static" / name).read_bytes()
    return Asset(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')


def serve(request: Request, item: Asset, headers: dict[str, str]) -> Response:
    all_headers = {**COMMON_HEADERS, **headers, "ETag": item.etag}
    if item.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=all_headers)
    return Response(item.body, media_type=item.media_type, headers=all_headers)


@router.api_route("/widget.js", methods=["GET", "HEAD"])
def widget_js(request: Request) -> Response:
    item = asset("widget.js", "text/javascript; charset=utf-8")
    return serve(request, item, {"Cross-Origin-Resource-Policy": "cross-origin"})


@router.api_route("/", methods=["GET", "HEAD"])
def demo_page(request: Request) -> Response:
    item = asset("demo.html", "text/html; charset=utf-8")
    return serve(request, item, {"Referrer-Policy": "no-referrer"})
