"""``POST /v1/feedback``: a thumbs up or down, and optionally a comment, on one answer.

The body names the answer by the ``answer_id`` its response carried (``/v1/ask``
and the stream's ``done`` event), rates it ``up`` or ``down`` and may add a
comment and the question; the stored record comes back with status 201 once it
is committed to disk (``qa.feedback``).  The store is opened on first use from
``app.state.settings`` (``QA_FEEDBACK_PATH``) and kept on ``app.state``.  The
client's key name is recorded from ``request.state.identity`` (set by
``api.guard``).  Invalid bodies get the one error shape (422,
400 for malformed JSON); an unusable store is 503 ``feedback_unavailable``.

Leaves out: authentication (``api.guard``), checking that the answer id was issued (answers
are not stored), and reading feedback back (``qa feedback list``, an admin
command).
"""

from __future__ import annotations

import logging
import threading
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ERRORS
from qa.feedback import MAX_ANSWER_ID_CHARS, MAX_TEXT_CHARS, FeedbackStore, FeedbackUnavailable

ANSWER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"

log = logging.getLogger("article_qa.api")
router = APIRouter()
_opening = threading.Lock()


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer_id: str = Field(
        ...,
        min_length=1,
        max_length=MAX_ANSWER_ID_CHARS,
        pattern=ANSWER_ID_PATTERN,
        description="The `answer_id` of the answer (letters, digits, `_ . : -`).",
    )
    rating: Literal["up", "down"] = Field(..., description="Thumbs up or down.")
    comment: str | None = Field(None, max_length=MAX_TEXT_CHARS, description="Free text.")
    question: str | None = Field(
        None, max_length=MAX_TEXT_CHARS, description="The question that was answered, if wanted."
    )


class FeedbackOut(BaseModel):
    id: str = Field(..., description="The feedback's id (fb_…).")
    answer_id: str
    rating: Literal["up", "down"]
    comment: str | None
    created_at: str = Field(..., description="When it was stored, UTC ISO 8601.")


def store_of(request: Request) -> FeedbackStore:
    """The app's feedback store, opened on first use from ``app.state.settings``."""
    state = request.app.state
    with _opening:
        store: FeedbackStore | None = getattr(state, "feedback_store", None)
        if store is None:
            store = state.feedback_store = FeedbackStore(state.settings.feedback_path)
    return store


@router.post(
    "/v1/feedback",
    status_code=201,
    response_model=FeedbackOut,
    responses={status: ERRORS[status] for status in (400, 422, 503)},
)
def post_feedback(body: FeedbackRequest, request: Request) -> FeedbackOut:
    identity = getattr(request.state, "identity", None)
    client = getattr(identity, "name", None)
    try:
        record = store_of(request).add(
            body.answer_id,
            body.rating,
            comment=body.comment,
            question=body.question,
            client=client if isinstance(client, str) else None,
        )
    except FeedbackUnavailable as exc:
        log.error("feedback not stored: %s", exc.message)
        raise
    return FeedbackOut(
        id=record.id,
        answer_id=record.answer_id,
        rating=record.rating,
        comment=record.comment,
        created_at=record.created_at,
    )
