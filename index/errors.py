"""The project's error hierarchy: every failure a user can cause or meet has one.

Each error carries a stable machine-readable ``code`` and a message written for
the person who has to act on it.  ``api.errors`` maps codes to HTTP statuses
and renders the one JSON error shape; the CLI prints the message.

Leaves out: HTTP statuses (an API concern) and validation of request bodies
(pydantic's, mapped in ``api.errors``).
"""

from __future__ import annotations

# How to recover from a damaged index, for messages that end in it.
REBUILD_HINT = (
    "Rebuild it with `qa ingest --rebuild PATH...` (the files or folders of your articles)"
)


class ArticleQAError(Exception):
    """Base class; ``code`` names the kind of failure."""

    code = "internal_error"

    def __init__(self, message: str, *, detail: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidInput(ArticleQAError):
    code = "invalid_input"


class NotFound(ArticleQAError):
    code = "not_found"


class IndexMissing(ArticleQAError):
    """No index has been built at the configured location."""

    code = "index_missing"


class IndexMismatch(ArticleQAError):
    """The index was built with another embedding model or incompatible settings."""

    code = "index_mismatch"


class IndexCorrupt(ArticleQAError):
    """An index file is missing, truncated or fails its checksum."""

    code = "index_corrupt"


class IndexUnavailable(ArticleQAError):
    """The index's backend (Milvus) cannot be reached; serving resumes when it is back."""

    code = "index_unavailable"


class IngestError(ArticleQAError):
    """One input file could not be ingested (the rest of the batch still lands)."""

    code = "ingest_error"


class IndexBusy(ArticleQAError):
    """Another process is writing the index."""

    code = "index_busy"


class NotReady(ArticleQAError):
    """The service is still loading its models or index."""

    code = "not_ready"


class ModelUnavailable(ArticleQAError):
    """An embedding model's files are missing or damaged (``make model`` builds them)."""

    code = "model_unavailable"
