"""The FastAPI application: `create_app(settings)` assembles middleware, routers and the lifespan.

Models and the index load in the lifespan, not at import; a service passed
to ``create_app`` (tests, benchmarks) is used as is.  If loading fails, the
app still starts: ``/healthz`` answers, while ``/readyz`` and the question
endpoints return 503 with the reason.  The routes live in ``api.routes`` (ask, documents,
health, metrics), ``api.stream``, ``api.openai_compat``, ``api.feedback``, ``api.admin``,
``api.kb`` (the admin page) and ``api.widget``.

Leaves out: the answer logic (``qa.service``) and error rendering (``api.errors``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI

from api import (
    admin,
    cors,
    errors,
    feedback,
    guard,
    kb,
    openai_compat,
    routes,
    stream,
    widget,
)
from api.access import KeyRing
from api.guard import Gate, Guard
from api.metrics import Metrics
from api.observability import RequestContext
from api.ratelimit import RateLimiter
from api.reload import Reloader
from index.docs.ocr import Ocr
from index.errors import ArticleQAError
from qa.runtime import Models, load_models
from qa.service import QAService
from qa.settings import Settings

log = logging.getLogger("article_qa.api")


def create_app(
    settings: Settings | None = None,
    *,
    service: QAService | None = None,
    models: Models | None = None,
) -> FastAPI:
    """The app; a ``service`` is served as is, ``models`` (fakes in tests) replace loading."""
    settings = settings or Settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service, app.state.load_error, app.state.reloader = service, None, None
        if service is not None:
            service.on_answer = metrics.observe_answer
            metrics.observe_index(service.index)
        else:
            await to_thread.run_sync(_start, app, settings, models, metrics)
        watcher = None
        if app.state.reloader is not None and settings.reload_interval > 0:
            watcher = asyncio.create_task(app.state.reloader.watch(settings.reload_interval))
        yield
        if watcher is not None:
            watcher.cancel()

    app = FastAPI(
        title="article-qa",
        version="0.1.0",
        description="Answers questions about a collection of Chinese articles, with citations.",
        lifespan=lifespan,
    )
    app.state.settings, app.state.metrics = settings, metrics
    app.state.ocr = Ocr(threads=settings.ocr_threads)  # loads on the first uploaded scan
    errors.install(app)
    keys = KeyRing.from_settings(settings)
    gate = Gate(
        settings.max_concurrent_answers, settings.max_queued_answers, settings.queue_timeout
    )
    app.state.gate = gate
    app.add_middleware(
        Guard,
        keys=keys,
        limiter=RateLimiter(settings.rate_limit, settings.rate_limit_burst),
        gate=gate,
        max_body=settings.max_body_bytes,
        max_upload=settings.max_upload_bytes,
    )
    widget_origins = sorted({o for k in keys.keys for o in k.origins})
    cors.install(app, [*settings.allowed_origins, *widget_origins])
    app.add_middleware(RequestContext, metrics=metrics)
    app.include_router(routes.router)
    app.include_router(stream.router)
    app.include_router(openai_compat.router)
    app.include_router(widget.router)
    app.include_router(feedback.router)
    app.include_router(admin.router)
    app.include_router(kb.router)
    app.include_router(kb.pages)
    app.openapi = lambda: app.openapi_schema or _documented(app, keys)  # type: ignore[method-assign]
    return app


def _documented(app: FastAPI, keys: KeyRing) -> dict[str, Any]:
    app.openapi_schema = guard.document(FastAPI.openapi(app), keys)
    return app.openapi_schema


def _start(app: FastAPI, settings: Settings, models: Models | None, metrics: Metrics) -> None:
    """Load the models, then the index; without an index, keep watching for one."""
    try:
        models = models or load_models(settings)
    except ArticleQAError as exc:
        log.error("not ready: %s", exc.message)
        app.state.load_error = exc
        return
    app.state.reloader = Reloader(settings, models, app.state, metrics)
    app.state.reloader.check()
    if app.state.service is None and app.state.load_error is None:
        app.state.load_error = app.state.reloader.missing()
    if app.state.load_error is not None:
        log.error("not ready: %s", app.state.load_error.message)
