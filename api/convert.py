"""Service objects to API bodies: answers, citations, stream events, conversations.

Leaves out: the routes (``api.app``, ``api.stream``, ``api.openai_compat``).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict

from api.schemas import (
    AskResponse,
    CitationOut,
    FlagOut,
    HistoryMessage,
    NoticeOut,
    StreamPassages,
    Timings,
    VerificationOut,
)
from index.errors import ArticleQAError
from qa.answer import Answer, Citation, Notice
from qa.answering.conversation import Message
from qa.answering.streaming import Passages


def new_answer_id() -> str:
    """A fresh id for one answer, which feedback refers to (answers are not stored)."""
    return f"ans_{uuid.uuid4().hex}"


def ask_response(answer: Answer, answer_id: str | None = None) -> AskResponse:
    """The body of ``/v1/ask``, under ``answer_id`` (a fresh one unless given)."""
    check = answer.verification
    return AskResponse(
        answer_id=answer_id or new_answer_id(),
        answer=answer.text,
        citations=citations(answer.citations),
        language=answer.language,
        declined=answer.declined,
        timings_ms=Timings.model_validate(answer.timings_ms),
        rewritten_query=answer.rewritten_query,
        mode=answer.mode,
        verification=None
        if check is None
        else VerificationOut(
            checked=check.checked,
            corrected=check.corrected,
            removed=check.removed,
            unsupported=[FlagOut.model_validate(asdict(f)) for f in check.unsupported],
        ),
        notices=[notice(n) for n in answer.notices] or None,
    )


def pages_label(first: int | None, last: int | None) -> str | None:
    """``p. 3``, ``pp. 3–4``, or None for a document without pages (plain-text sources)."""
    if not first:
        return None
    return f"pp. {first}–{last}" if last and last > first else f"p. {first}"


def citations(items: list[Citation]) -> list[CitationOut]:
    return [CitationOut.model_validate(asdict(c)) for c in items]


def notice(item: Notice) -> NoticeOut:
    return NoticeOut(code=item.code, message=item.message)


def passages(event: Passages) -> StreamPassages:
    return StreamPassages(
        citations=citations(event.citations),
        rewritten_query=event.rewritten_query,
        language=event.language,
        mode=event.mode,
    )


def history(messages: list[HistoryMessage]) -> list[Message]:
    return [Message(m.role, m.content) for m in messages]


def error_body(exc: Exception) -> dict[str, object]:
    """The one error shape for an error met mid-stream (no internals for unexpected ones)."""
    if isinstance(exc, ArticleQAError):
        error = {"code": exc.code, "message": exc.message, "detail": exc.detail}
    else:
        error = {
            "code": "internal_error",
            "message": "An unexpected error occurred.",
            "detail": None,
        }
    return {"error": error}
