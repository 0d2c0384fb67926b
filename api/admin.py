"""Admin endpoints (admin key only, see ``api.guard``): ingest, remove, reload.

``POST /v1/admin/documents`` takes articles as JSON (text, or base64 for any
other encoding — GBK and Big5 are detected like files on disk), writes them
to a private temporary folder under their file names and runs the same
ingest as ``qa ingest``; ``DELETE /v1/admin/documents/{doc_id}`` removes one.
Both publish a new index version and serve it before they answer, so the
next request sees the change.  Bad files are reported one by one while the
rest land; another writer holding the index gives 409 ``index_busy``.
``POST /v1/admin/documents/{doc_id}/reingest`` ingests one document again from
the original file kept when it was ingested (``index.reingest``).  Uploads
keep their originals beside the index (``QA_INDEX_DIR/originals``), as ``qa ingest`` does.

Leaves out: the ingest itself (``index.build``) and version switching (``api.reload``).
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api.deps import service_of
from api.reload import Reloader
from api.schemas import ErrorResponse, Text
from index import build
from index.errors import InvalidInput, NotFound, NotReady
from index.reingest import reingest as reingest_document
from index.store import versions
from qa.settings import Settings

router = APIRouter(prefix="/v1/admin", tags=["admin"])
ADMIN_ERRORS: dict[int | str, dict] = {
    s: {"model": ErrorResponse} for s in (400, 401, 403, 404, 409, 413, 422, 429, 503)
}
FileName = Annotated[
    str, Field(min_length=1, max_length=200, pattern=r"^[^/\\\x00-\x1f]+$", examples=["004.html"])
]


class Upload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: FileName = Field(description="File name; its stem is the document id, e.g. `004`.")
    content: Text = Field(description="The file's text, or its bytes in base64.")
    encoding: Literal["text", "base64"] = "text"


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    documents: list[Upload] = Field(min_length=1, max_length=10_000)


class Failure(BaseModel):
    file: str
    reason: str


class ChangeReport(BaseModel):
    added: list[str]
    replaced: list[str]
    unchanged: list[str]
    removed: list[str]
    failed: list[Failure]
    warnings: list[Failure] = Field(
        default_factory=list, description="Files ingested with a problem (e.g. a page by OCR)."
    )
    chunks_embedded: int
    seconds: float
    version: str | None = Field(description="Index version now served (None: unchanged).")


class ReloadResult(BaseModel):
    reloaded: bool
    version: str | None


@router.post("/documents", response_model=ChangeReport, responses=ADMIN_ERRORS)
def ingest(body: IngestRequest, request: Request) -> ChangeReport:
    settings, models = _settings(request), _reloader(request).models
    with tempfile.TemporaryDirectory(prefix="qa-upload-") as folder:
        paths = [_write(Path(folder), doc) for doc in body.documents]
        _fail_fast(settings)
        report = build.ingest(
            settings.index_destination,
            paths,
            models.embedder,
            settings.chunk_params,
            **_ingest_options(request),
        )
        report.failed = [(Path(f).name, r.replace(f"{folder}/", "")) for f, r in report.failed]
        report.warnings = [(Path(f).name, r.replace(f"{folder}/", "")) for f, r in report.warnings]
    _reloader(request).check()
    return _report(report)


@router.delete("/documents/{doc_id}", response_model=ChangeReport, responses=ADMIN_ERRORS)
def remove(doc_id: str, request: Request) -> ChangeReport:
    settings = _settings(request)
    report = build.remove(settings.index_destination, [doc_id], settings.originals_dir)
    _reloader(request).check()
    return _report(report)


@router.post("/documents/{doc_id}/reingest", response_model=ChangeReport, responses=ADMIN_ERRORS)
def reingest(doc_id: str, request: Request) -> ChangeReport:
    """Ingest one document again from its kept original (e.g. after a converter fix); 404 if
    it has none (ingested before originals were kept, or from data)."""
    if doc_id not in service_of(request).index.documents:
        raise NotFound(f"No document with id {doc_id!r} in the index.", detail={"doc_id": doc_id})
    settings, models = _settings(request), _reloader(request).models
    _fail_fast(settings)
    report = reingest_document(
        settings.index_destination,
        doc_id,
        models.embedder,
        settings.chunk_params,
        **_ingest_options(request),
    )
    _reloader(request).check()
    return _report(report)


@router.post("/reload", response_model=ReloadResult, responses=ADMIN_ERRORS)
def reload(request: Request) -> ReloadResult:
    swapped = _reloader(request).check()
    service = getattr(request.app.state, "service", None)
    return ReloadResult(reloaded=swapped, version=service.index.version if service else None)


def _write(folder: Path, doc: Upload) -> Path:
    if doc.name in (".", ".."):
        raise InvalidInput(f"{doc.name!r} is not a file name.")
    if len(doc.name.encode("utf-8")) > 255:
        raise InvalidInput(f"{doc.name[:40]}…: a file name may have at most 255 bytes.")
    path = folder / doc.name
    if path.exists():
        raise InvalidInput(f"Two documents are named {doc.name!r}.")
    if doc.encoding == "text":
        path.write_text(doc.content, encoding="utf-8")
    else:
        try:
            path.write_bytes(base64.b64decode(doc.content, validate=True))
        except (binascii.Error, ValueError):
            raise InvalidInput(f"{doc.name}: content is not valid base64.") from None
    return path


def _fail_fast(settings: Settings) -> None:
    """409 ``index_busy`` now, rather than waiting, if another writer holds the local index."""
    if settings.index_backend == "local":
        with versions.writer_lock(settings.index_dir, wait=False):
            pass


def _ingest_options(request: Request) -> dict[str, Any]:
    """What every ingest from the server passes: the serving models, kept originals (as
    `qa ingest` keeps them) and the server's one OCR engine (QA_OCR_THREADS threads)."""
    settings, models = _settings(request), _reloader(request).models
    return {
        "ann": settings.ann_params,
        "aux": models.aux(settings),
        "cache_dir": settings.embed_cache_dir,
        "originals": settings.originals_dir,
        "ocr": request.app.state.ocr,
    }


def _report(report: build.Report) -> ChangeReport:
    fields = asdict(report)
    fields["failed"] = [Failure(file=Path(f).name, reason=r) for f, r in report.failed]
    fields["warnings"] = [Failure(file=Path(f).name, reason=r) for f, r in report.warnings]
    return ChangeReport(**fields)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _reloader(request: Request) -> Reloader:
    reloader: Reloader | None = getattr(request.app.state, "reloader", None)
    if reloader is None:
        raise NotReady("This server was started without its models; it cannot change the index.")
    return reloader
