"""What every route needs: the loaded service from the app's state, and the error responses.

Leaves out: building the service (``api.app`` lifespan, ``qa.runtime``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from api.schemas import ErrorResponse
from index.errors import NotReady
from qa.service import QAService

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 404, 422, 503)
}


def service_of(request: Request) -> QAService:
    """The ready service, or the error that kept it from loading (503)."""
    found: QAService | None = getattr(request.app.state, "service", None)
    if found is None:
        cause = getattr(request.app.state, "load_error", None)
        if cause is not None:
            raise cause
        raise NotReady("The service is still loading its model and index.")
    return found
