"""Serving the newest index version without a restart.

A ``Reloader`` compares the version ``CURRENT`` names with the one being
served; when they differ it loads the new version completely, assembles a
new `QAService` around it (same models) and only then swaps
``app.state.service``.  Each request takes the service once, at its start, so
it sees one version from first to last event — old or new, never a mix —
and the old version is freed when its last request ends.  A version that
fails to load (corrupt, wrong model) is logged, counted and skipped: the
previous one keeps serving, and it is not retried until ``CURRENT`` changes.

With ``QA_INDEX_BACKEND=milvus`` the version is the published generation in Milvus's
``head`` row.  While Milvus cannot be reached the check logs it once, keeps the service it
has (its requests fail with 503 ``index_unavailable`` until Milvus is back; ``/readyz``
says so), and logs again when Milvus answers.

``watch`` polls every ``QA_RELOAD_INTERVAL`` seconds (a stat and a small read),
which also covers several worker processes and ``qa ingest`` run from a
shell; ``POST /v1/admin/reload`` and the admin ingest call ``check`` directly.

Leaves out: building versions (``index.build``) and their atomic switch (``index.store.versions``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from anyio import to_thread

from index.errors import ArticleQAError, IndexMissing, IndexUnavailable
from index.store.milvus.client import Milvus
from qa.runtime import Models, assemble, current_version, load_index
from qa.service import QAService
from qa.settings import Settings

log = logging.getLogger("article_qa.reload")


class Reloader:
    def __init__(self, settings: Settings, models: Models, state: Any, metrics: Any) -> None:
        self.settings, self.models, self.state, self.metrics = settings, models, state, metrics
        self.lock = threading.Lock()
        self.failed: str | None = None  # the version that last failed to load
        self.outage: IndexUnavailable | None = None  # Milvus unreachable at the last check
        if models.milvus is None and settings.index_backend == "milvus":
            models.milvus = Milvus(settings.milvus)

    def check(self) -> bool:
        """Serve the current version if it is not served yet; True if it was swapped in."""
        with self.lock:
            service: QAService | None = self.state.service
            try:
                version = current_version(self.settings, self.models.milvus)
            except IndexUnavailable as exc:  # Milvus is down: keep serving what we have
                self._unavailable(exc, service)
                return False
            if self.outage is not None:
                self.outage = None
                if service is None:
                    self.state.load_error = None if version else self.missing()
                log.info("the index backend is reachable again")
            if version is None or version == self.failed:
                return False
            if service is not None and version == service.index.version:
                return False
            try:
                index = load_index(self.settings, self.models.embedder, self.models.milvus)
                fresh = assemble(self.settings, self.models, index)
            except IndexUnavailable as exc:
                self._unavailable(exc, service)
                return False
            except ArticleQAError as exc:
                self.failed = version
                self.metrics.index_reloads.labels("failed").inc()
                log.error("index version %s not loaded: %s", version, exc.message)
                if service is None:
                    self.state.load_error = exc
                return False
            fresh.on_answer = self.metrics.observe_answer
            self.state.service, self.state.load_error, self.failed = fresh, None, None
            self.metrics.observe_index(index)
            self.metrics.index_reloads.labels("loaded").inc()
            log.info("serving index version %s", index.version)
            return True

    def missing(self) -> IndexMissing:
        settings = self.settings
        where = (
            settings.milvus.describe() if settings.index_backend == "milvus" else settings.index_dir
        )
        return IndexMissing(
            f"No index found in {where}. Build one with `qa ingest PATH`; "
            "the server starts serving it as soon as it is published."
        )

    def _unavailable(self, exc: IndexUnavailable, service: QAService | None) -> None:
        """Log the outage once; without a service yet, it is why the server is not ready."""
        if service is None:
            self.state.load_error = exc
        if self.outage is None:
            log.error("index backend unavailable: %s", exc.message)
        self.outage = exc

    async def watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await to_thread.run_sync(self.check)
            except Exception:  # keep watching whatever one check ran into
                log.exception("checking for a new index version failed")
