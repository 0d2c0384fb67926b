"""Serving the newest index version without a restart.

A ``Reloader`` compares the version ``CURRENT`` names with the one being
served; when they differ it loads the new version completely, assembles a
new `QAService` around it (same models) and only then swaps
``app.state.service``.  Each request takes the service once, at its start, so
it sees one version from first to last event — old or new, never a mix —
and the old version is freed when its last request ends.  A version that
fails to load (corrupt, wrong model) is logged, counted and skipped: the
previous one keeps serving, and it is not retried until ``CURRENT`` changes.

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

from index.errors import ArticleQAError
from index.store import versions
from qa.runtime import Models, assemble, load_index
from qa.service import QAService
from qa.settings import Settings

log = logging.getLogger("article_qa.reload")


class Reloader:
    def __init__(self, settings: Settings, models: Models, state: Any, metrics: Any) -> None:
        self.settings, self.models, self.state, self.metrics = settings, models, state, metrics
        self.lock = threading.Lock()
        self.failed: str | None = None  # the version that last failed to load

    def check(self) -> bool:
        """Serve the current version if it is not served yet; True if it was swapped in."""
        with self.lock:
            directory = versions.current(self.settings.index_dir)
            service: QAService | None = self.state.service
            if directory is None or directory.name == self.failed:
                return False
            if service is not None and directory.name == service.index.version:
                return False
            try:
                index = load_index(self.settings, self.models.embedder)
                fresh = assemble(self.settings, self.models, index)
            except ArticleQAError as exc:
                self.failed = directory.name
                self.metrics.index_reloads.labels("failed").inc()
                log.error("index version %s not loaded: %s", directory.name, exc.message)
                if service is None:
                    self.state.load_error = exc
                return False
            fresh.on_answer = self.metrics.observe_answer
            self.state.service, self.state.load_error, self.failed = fresh, None, None
            self.metrics.observe_index(index)
            self.metrics.index_reloads.labels("loaded").inc()
            log.info("serving index version %s", index.version)
            return True

    async def watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await to_thread.run_sync(self.check)
            except Exception:  # keep watching whatever one check ran into
                log.exception("checking for a new index version failed")
