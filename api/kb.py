"""The admin knowledge-base page and the admin reads behind it.

``GET /admin`` and ``GET /admin.js`` serve the page (``api/static/admin.html`` and
``admin.js``; public files like the widget's, with an ``ETag``, ``no-cache`` and a
strict Content-Security-Policy).  The page holds no data: it asks for an admin key
and sends it with every call it makes.  The admin endpoints here are

* ``GET /v1/admin/documents``: every document with its format, pages, chunk count,
  ingest time and warnings (fields the index may not record yet read as empty);
* ``GET /v1/admin/documents/{doc_id}``: one of them with its cleaned text and the
  offsets where its pages start;
* ``POST /v1/admin/search``: the passages a question retrieves, with their scores,
  and whether the service would answer from them — without writing an answer.

Starlette names only the first matching route's methods in a 405's ``Allow``; the two
document paths also have admin write routes (``api.admin``), so other methods on them
get a 405 naming both.

Leaves out: ingest, removal and re-ingest (``api.admin``), the page's behaviour
(``api/static/admin.js``, plain JavaScript) and retrieval itself (``qa.service``).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from functools import cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.admin import ADMIN_ERRORS
from api.deps import service_of
from api.schemas import QUESTION_SCHEMA, Text
from api.widget import asset, serve
from index.docs.model import page_at
from index.store.chunks import DocumentInfo
from qa.retrieval.retrieve import Hit
from qa.settings import Settings

router = APIRouter(tags=["admin"])
pages = APIRouter(include_in_schema=False)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class AdminDocument(BaseModel):
    id: str
    title: str
    date: str | None
    outlet: str | None = Field(description="The outlet or, for official documents, the issuer.")
    origin: str | None
    author: str | None
    source: str = Field(description="The file the document was ingested from.")
    format: str = Field(description="txt, md, html, pdf, docx or image.")
    pages: int | None = Field(description="Pages of the original, where it has pages.")
    chunks: int
    ingested_at: str
    warnings: list[str] = Field(description="What the conversion could not do cleanly.")


class AdminDocumentList(BaseModel):
    documents: list[AdminDocument]
    version: str = Field(description="The index version listed.")
    max_upload_bytes: int = Field(description="The largest upload request the service takes.")


class AdminDocumentText(AdminDocument):
    page_starts: list[int] = Field(description="Offsets in `text` where each page starts.")
    text: str = Field(description="The cleaned text that is chunked and cited.")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Text = Field(
        description="The question: not blank, at most QA_MAX_QUESTION_CHARS once trimmed "
        "(else 400).",
        json_schema_extra=QUESTION_SCHEMA,
    )
    top_k: int = Field(10, ge=1, le=50, description="Passages to retrieve (1-50).")


class SearchHit(BaseModel):
    rank: int
    doc_id: str
    chunk_id: str
    title: str
    text: str = Field(description="The passage (chunk) text.")
    start: int = Field(description="Where the passage starts in the document's text.")
    end: int
    score: float = Field(description="The fused score the hits are ranked by.")
    dense: float = Field(description="Cosine similarity of the passage and the question.")
    coverage: float = Field(description="Share of the question's keywords (idf-weighted) found.")
    page: int | None = Field(
        None, description="The page the passage starts on (PDF, Word, scans); null: no pages."
    )
    last_page: int | None = Field(None, description="The page the passage ends on.")


class SearchResult(BaseModel):
    question: str
    language: str
    keywords: list[str] = Field(description="The terms keyword search looked for.")
    relevant: bool = Field(description="Whether the service would answer from these hits.")
    min_dense_score: float = Field(description="Cosine at or above which a hit is relevant.")
    min_keyword_coverage: float = Field(description="Coverage at or above which it is.")
    hits: list[SearchHit]
    version: str


@router.get("/v1/admin/documents", response_model=AdminDocumentList, responses=ADMIN_ERRORS)
def list_documents(request: Request) -> AdminDocumentList:
    index = service_of(request).index
    settings: Settings = request.app.state.settings
    documents = [
        _document(d, index.chunk_counts.get(d.doc_id, 0)) for d in index.documents.values()
    ]
    return AdminDocumentList(
        documents=documents, version=index.version, max_upload_bytes=settings.max_upload_bytes
    )


@router.get(
    "/v1/admin/documents/{doc_id}", response_model=AdminDocumentText, responses=ADMIN_ERRORS
)
def read_document(doc_id: str, request: Request) -> AdminDocumentText:
    index = service_of(request).index
    info, text = index.document_text(doc_id)
    starts = list(info.page_starts)
    listed = _document(info, index.chunk_counts.get(info.doc_id, 0))
    return AdminDocumentText(**listed.model_dump(), page_starts=starts, text=text)


@router.post("/v1/admin/search", response_model=SearchResult, responses=ADMIN_ERRORS)
def search(body: SearchRequest, request: Request) -> SearchResult:
    service = service_of(request)  # one index version for the whole request
    question = service.validate(body.question)
    query, hits, relevant = service.search(service.understand(question, ()), body.top_k)
    floor = (
        service.config.min_dense_score_crosslingual
        if query.translated
        else service.config.min_dense_score
    )
    return SearchResult(
        question=question,
        language=query.language,
        keywords=list(query.flat_terms()),
        relevant=relevant,
        min_dense_score=floor,
        min_keyword_coverage=service.config.min_keyword_coverage,
        hits=[_hit(rank, hit) for rank, hit in enumerate(hits, start=1)],
        version=service.index.version,
    )


def _document(info: DocumentInfo, chunks: int) -> AdminDocument:
    return AdminDocument(
        id=info.doc_id,
        title=info.title,
        date=info.date,
        outlet=info.outlet,
        origin=info.origin,
        author=info.author,
        source=info.source,
        format=info.fmt,
        pages=info.pages,
        chunks=chunks,
        ingested_at=info.ingested_at,
        warnings=list(info.warnings),
    )


def _hit(rank: int, hit: Hit) -> SearchHit:
    chunk = hit.chunk
    return SearchHit(
        rank=rank,
        doc_id=chunk.doc_id,
        chunk_id=chunk.chunk_id,
        title=hit.document.title,
        text=chunk.text,
        start=chunk.start,
        end=chunk.end,
        score=_finite(hit.score),
        dense=_finite(hit.dense),
        coverage=_finite(hit.coverage),
        page=page_at(hit.document.page_starts, chunk.start),
        last_page=page_at(hit.document.page_starts, max(chunk.start, chunk.end - 1)),
    )


def _finite(value: float) -> float:
    """A score JSON can carry (NaN and infinities cannot be written)."""
    number = float(value)
    return number if math.isfinite(number) else 0.0


def _refuse_other_methods(path: str, documented: tuple[str, ...]) -> None:
    """405 for the methods no route of ``path`` takes, naming every one that does."""
    allow = ", ".join(documented)

    def refuse() -> Any:
        raise StarletteHTTPException(405, "Method Not Allowed", headers={"Allow": allow})

    others = [m for m in METHODS if m not in documented]
    router.add_api_route(path, refuse, methods=others, include_in_schema=False, response_model=None)


_refuse_other_methods("/v1/admin/documents", ("GET", "POST"))
_refuse_other_methods("/v1/admin/documents/{doc_id}", ("GET", "DELETE"))


# ---- the page ------------------------------------------------------------------------------


@cache
def page_policy() -> str:
    """The page's CSP: its own script and API only, its one inline stylesheet by hash."""
    html = asset("admin.html", "text/html; charset=utf-8").body.decode("utf-8")
    styles = re.findall(r"<style>(.*?)</style>", html, flags=re.DOTALL)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in styles
    )
    style = hashes or "'none'"
    return (
        "default-src 'none'; script-src 'self'; connect-src 'self'; "
        f"style-src {style}; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


@pages.api_route("/admin", methods=["GET", "HEAD"])
def admin_page(request: Request) -> Response:
    item = asset("admin.html", "text/html; charset=utf-8")
    headers = {"Referrer-Policy": "no-referrer", "Content-Security-Policy": page_policy()}
    return serve(request, item, headers)


@pages.api_route("/admin.js", methods=["GET", "HEAD"])
def admin_js(request: Request) -> Response:
    return serve(request, asset("admin.js", "text/javascript; charset=utf-8"), {})
