"""Request and response bodies of the HTTP API (pydantic models, shown in /docs).

Leaves out: turning service objects into these models (``api.app``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., description="The question, in English or Chinese.")
    top_k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve (1-50).")


class CitationOut(BaseModel):
    n: int = Field(..., description="The number used in the answer's [n] markers.")
    doc_id: str
    chunk_id: str
    title: str
    date: str | None
    outlet: str | None
    passage: str = Field(..., description="The retrieved passage the citation comes from.")
    passage_start: int
    passage_end: int
    start: int = Field(..., description="Start of the cited text in the cleaned article.")
    end: int = Field(..., description="End (exclusive) of the cited text in the article.")
    quote: str = Field(..., description="The cited text: article text[start:end].")
    highlights: list[tuple[int, int]] = Field(
        default_factory=list, description="Spans of the individual cited sentences."
    )
    score: float


class Timings(BaseModel):
    retrieve: float
    answer: float
    total: float


class AskResponse(BaseModel):
    answer: str
    citations: list[CitationOut]
    language: str = Field(..., description="en, zh-Hans or zh-Hant.")
    declined: bool = Field(..., description="True when the articles do not answer it.")
    timings_ms: Timings


class DocumentSummary(BaseModel):
    id: str
    title: str
    date: str | None
    outlet: str | None
    origin: str | None
    author: str | None
    chunks: int


class DocumentList(BaseModel):
    documents: list[DocumentSummary]


class DocumentOut(BaseModel):
    id: str
    title: str
    date: str | None
    outlet: str | None
    origin: str | None
    author: str | None
    source: str
    text: str = Field(..., description="The cleaned article text that citation spans index.")


class ErrorBody(BaseModel):
    code: str
    message: str
    detail: object | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody
