"""The FastAPI application: `create_app(settings)` and its routes.

Models and the index load in the lifespan, not at import; a service passed
to ``create_app`` (tests, benchmarks) is used as is.  If loading fails, the
app still starts: ``/healthz`` answers, while ``/readyz`` and the question
endpoints return 503 with the reason.  The streaming route lives in
``api.stream`` and the OpenAI-compatible ones in ``api.openai_compat``.

Leaves out: the answer logic (``qa.service``) and error rendering (``api.errors``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from api import convert, cors, errors, openai_compat, stream, widget
from api.deps import ERRORS, service_of
from api.schemas import AskRequest, AskResponse, DocumentList, DocumentOut, DocumentSummary
from index.errors import ArticleQAError
from qa.runtime import build_service
from qa.service import QAService
from qa.settings import Settings

log = logging.getLogger("article_qa.api")


def create_app(settings: Settings | None = None, *, service: QAService | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service, app.state.load_error = service, None
        if service is None:
            try:
                app.state.service = build_service(settings)
            except ArticleQAError as exc:
                log.error("not ready: %s", exc.message)
                app.state.load_error = exc
        yield

    app = FastAPI(
        title="article-qa",
        version="0.1.0",
        description="Answers questions about a collection of Chinese articles, with citations.",
        lifespan=lifespan,
    )
    errors.install(app)
    cors.install(app, settings.allowed_origins)
    _routes(app)
    app.include_router(stream.router)
    app.include_router(openai_compat.router)
    app.include_router(widget.router)
    return app


def _routes(app: FastAPI) -> None:
    @app.post("/v1/ask", response_model=AskResponse, responses=ERRORS)
    def ask(body: AskRequest, request: Request) -> AskResponse:
        history = convert.history(body.history)
        return convert.ask_response(service_of(request).ask(body.question, body.top_k, history))

    @app.get("/v1/documents", response_model=DocumentList)
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
                    chunks=index.chunk_counts.get(d.doc_id, 0),
                )
                for d in index.documents.values()
            ]
        )

    @app.get("/v1/documents/{doc_id}", response_model=DocumentOut, responses=ERRORS)
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
            text=text,
        )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", responses=ERRORS)
    def readyz(request: Request) -> dict[str, object]:
        service = service_of(request)
        meta = service.index.manifest
        return {
            "status": "ready",
            "index_version": service.index.version,
            "documents": meta.documents,
            "chunks": meta.chunks,
            "model": meta.model_id,
            "generator": "llm" if service.fallback is not None else "extractive",
        }
