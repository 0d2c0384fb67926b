"""The core routes: ``POST /v1/ask``, the documents, ``/metrics``, ``/healthz`` and ``/readyz``.

Each handler takes the service that is current when the request starts (``api.deps``), so one
request sees one index version.

Leaves out: the answer logic (``qa.service``), streaming (``api.stream``) and the app's
assembly (``api.app``).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import convert
from api.deps import ERRORS, service_of
from api.metrics import CONTENT_TYPE
from api.observability import log_question
from api.schemas import AskRequest, AskResponse, DocumentList, DocumentOut, DocumentSummary
from qa.settings import Settings

log = logging.getLogger("article_qa.api")
router = APIRouter()


@router.post("/v1/ask", response_model=AskResponse, responses=ERRORS)
def ask(body: AskRequest, request: Request, response: Response) -> AskResponse:
    service = service_of(request)  # one index version for the whole request
    response.headers["X-Index-Version"] = service.index.version
    answer = service.ask(body.question, body.top_k, convert.history(body.history))
    settings: Settings = request.app.state.settings
    log_question(log, answer.question, answer.language, settings.log_questions)
    return convert.ask_response(answer)


@router.get("/v1/documents", response_model=DocumentList, responses={503: ERRORS[503]})
def documents(request: Request) -> DocumentList:
    index = service_of(request).index
    return DocumentList(
        documents=[
            DocumentSummary(
                id=d.doc_id,
                title=d.title,
                date=d.date,
                outlet=d.outlet,
                origin=d.origin,
                author=d.author,
                format=d.fmt,
                pages=d.pages,
                chunks=index.chunk_counts.get(d.doc_id, 0),
            )
            for d in index.documents.values()
        ]
    )


@router.get("/v1/documents/{doc_id}", response_model=DocumentOut, responses=ERRORS)
def document(doc_id: str, request: Request) -> DocumentOut:
    info, text = service_of(request).index.document_text(doc_id)
    return DocumentOut(
        id=info.doc_id,
        title=info.title,
        date=info.date,
        outlet=info.outlet,
        origin=info.origin,
        author=info.author,
        source=info.source,
        format=info.fmt,
        pages=info.pages,
        page_starts=list(info.page_starts),
        text=text,
    )


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
def metrics(request: Request) -> Response:
    state = request.app.state
    state.metrics.observe_gate(state.gate.busy, state.gate.waiting)
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses=ERRORS)
def readyz(request: Request) -> dict[str, object]:
    service = service_of(request)
    reloader = getattr(request.app.state, "reloader", None)
    if reloader is not None and reloader.outage is not None:
        raise reloader.outage  # the index backend was unreachable at the last check
    meta = service.index.manifest
    return {
        "status": "ready",
        "index_version": service.index.version,
        "documents": meta.documents,
        "chunks": meta.chunks,
        "model": meta.model_id,
        "generator": "llm" if service.fallback is not None else "extractive",
    }
