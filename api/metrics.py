"""Prometheus metrics: requests, per-stage latency, declines, citation checks, LLM errors, index.

``Metrics`` owns its own registry (no process-global state, so two apps in
one test process do not share counters).  The HTTP middleware
(``api.observability``) records each request; the service calls
``observe_answer`` with every finished answer; the app reports index loads
and the answer gate's occupancy.  With several worker processes, set
``PROMETHEUS_MULTIPROC_DIR`` (``qa serve --workers`` does) and ``/metrics``
sums what every worker recorded.

Leaves out: tracing, and any label carrying user input (paths are route
templates, so ``/v1/documents/{doc_id}`` is one series however many ids exist).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from index.store.view import IndexView
from qa.answer import Answer

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        r = self.registry = CollectorRegistry()
        self.requests = Counter(
            "qa_http_requests", "HTTP requests answered.", ["method", "route", "status"], registry=r
        )
        self.request_seconds = Histogram(
            "qa_http_request_duration_seconds",
            "Time to answer an HTTP request (a stream: until its last event).",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.stage_seconds = Histogram(
            "qa_answer_stage_duration_seconds",
            "Time spent per stage of the answer path (retrieve, answer, verify, total).",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.answers = Counter(
            "qa_answers",
            "Answers given, by language and outcome.",
            ["language", "outcome"],
            registry=r,
        )
        self.citation_checks = Counter(
            "qa_citation_checks",
            "Citation checks of generated answers: checked, corrected, removed, unsupported.",
            ["result"],
            registry=r,
        )
        self.llm_errors = Counter(
            "qa_llm_errors",
            "Answers where the LLM failed and the extractive answer stood in.",
            registry=r,
        )
        self.index_documents = Gauge(
            "qa_index_documents",
            "Articles in the served index.",
            registry=r,
            multiprocess_mode="livemax",
        )
        self.index_chunks = Gauge(
            "qa_index_chunks",
            "Chunks in the served index.",
            registry=r,
            multiprocess_mode="livemax",
        )
        self.index_version = Gauge(
            "qa_index_version",
            "Number of the served index version (v000012 is 12).",
            registry=r,
            multiprocess_mode="livemax",
        )
        self.index_reloads = Counter(
            "qa_index_reloads",
            "Index versions loaded while serving, by result.",
            ["result"],
            registry=r,
        )
        self.answers_running = Gauge(
            "qa_answers_in_progress",
            "Answers being worked on.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.answers_waiting = Gauge(
            "qa_answers_queued",
            "Requests waiting for an answer slot.",
            registry=r,
            multiprocess_mode="livesum",
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(route).observe(seconds)

    def observe_answer(self, answer: Answer) -> None:
        for stage, ms in answer.timings_ms.items():
            self.stage_seconds.labels(stage).observe(ms / 1000)
        outcome = "declined" if answer.declined else "answered"
        self.answers.labels(answer.language, outcome).inc()
        if (check := answer.verification) is not None:
            for result in ("checked", "corrected", "removed"):
                self.citation_checks.labels(result).inc(getattr(check, result))
            self.citation_checks.labels("unsupported").inc(len(check.unsupported))
        if any(n.code == "llm_unavailable" for n in answer.notices):
            self.llm_errors.inc()

    def observe_index(self, index: IndexView) -> None:
        self.index_documents.set(index.manifest.documents)
        self.index_chunks.set(index.manifest.chunks)
        digits = index.version.lstrip("vg")  # v000003 (local), g000003 (milvus)
        self.index_version.set(int(digits) if digits.isdigit() else 0)

    def observe_gate(self, running: int, waiting: int) -> None:
        self.answers_running.set(running)
        self.answers_waiting.set(waiting)

    def render(self) -> bytes:
        if not self.multiprocess:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged)
        return generate_latest(merged)
