"""Request and response bodies of the HTTP API (pydantic models, shown in /docs).

``AskResponse`` is the body of ``POST /v1/ask`` and the data of the stream's
``done`` event.  Its fields added with LLM answers and conversations are
omitted when they do not apply, so an extractive answer to a single question
looks exactly as it always has: ``mode`` without an LLM configured,
``rewritten_query`` without ``history``, ``verification`` for extractive
answers (verbatim quotes), ``notices`` when there are none, and the
``rewrite`` / ``verify`` timings when those steps did not run.  The stream's
other events are described by `StreamPassages`, `StreamToken` and `NoticeOut`.

Leaves out: turning service objects into these models (``api.convert``) and
the OpenAI-compatible bodies (``api.openai_schemas``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_serializer

from qa.settings import Settings

MAX_HISTORY = 100
MAX_MESSAGE_CHARS = 20_000
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def characters(value: str) -> str:
    """Refuse lone surrogates: a JSON escape such as ``\\ud800`` decodes to a code point
    that is no character and cannot be written as UTF-8, so no answer could carry it."""
    if _SURROGATE.search(value):
        raise ValueError("contains a lone surrogate (\\ud800-\\udfff), which is not a character")
    return value


Text = Annotated[str, AfterValidator(characters)]
"""A string from a request that may reach a response, a log or a store: characters only."""

# What the service accepts as a question (``QAService.validate``, which answers 400, not
# the 422 of a wrong type): documented, not enforced here.  The pattern asks for one
# character that is not whitespace to ``str.strip``.
_SPACE = (
    "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
_LIMIT = Settings.model_fields["max_question_chars"].default
QUESTION_SCHEMA: dict[str, Any] = {"minLength": 1, "maxLength": _LIMIT, "pattern": f"[^{_SPACE}]"}


class HistoryMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"] = Field(..., description="Who said it.")
    content: Text = Field(..., max_length=MAX_MESSAGE_CHARS, description="What was said.")


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Text = Field(
        ...,
        description="The question, in English or Chinese: not blank, and at most "
        "QA_MAX_QUESTION_CHARS (2000 by default) characters once trimmed. Either refused: 400.",
        json_schema_extra=QUESTION_SCHEMA,
    )
    top_k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve (1-50).")
    history: list[HistoryMessage] = Field(
        default_factory=list,
        max_length=MAX_HISTORY,
        description="The conversation so far, oldest first. A follow-up question is "
        "rewritten into a standalone query from it before retrieval.",
    )


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
    page: int | None = Field(
        None,
        description="The page (1-based) the cited text starts on, for PDF, Word and scanned "
        "documents; null for articles and documents without page information.",
    )
    page_end: int | None = Field(
        None, description="The page the cited text ends on (the same as `page` unless it runs on)."
    )


def _without_unset(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Serializers that drop unset optional fields call this.  They are left unannotated:
    a return annotation (``dict[str, Any]``) would become the model's documented schema,
    a bare object, where without one the schema lists the fields (those dropped when
    unset are the ones not required)."""
    return {k: v for k, v in data.items() if not (k in names and v is None)}


class Timings(BaseModel):
    retrieve: float = Field(..., description="Rewriting a follow-up, embedding, retrieval.")
    answer: float = Field(..., description="Writing the answer (streamed: with checking).")
    verify: float | None = Field(None, description="Checking a generated answer's citations.")
    total: float

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler):  # unannotated: see _without_unset
        return _without_unset(handler(self), ("verify",))


class NoticeOut(BaseModel):
    code: str = Field(
        ...,
        description="llm_unavailable (the LLM failed; the answer is extractive), "
        "general_knowledge, unsupported (flagged sentences), rewrite_fallback.",
    )
    message: str = Field(..., description="The notice for the reader, in the question's language.")


class FlagOut(BaseModel):
    text: str = Field(..., description="The flagged sentence: answer[start:end].")
    start: int
    end: int
    reason: Literal["unsupported", "uncited"] = Field(
        ...,
        description="unsupported: no passage supports what it cited (citation removed); "
        "uncited: it cites nothing and no passage supports it.",
    )


class VerificationOut(BaseModel):
    checked: int = Field(..., description="Citation markers checked.")
    corrected: int = Field(..., description="Markers replaced by the passage that supports it.")
    removed: int = Field(..., description="Markers removed (wrong number or unsupported).")
    unsupported: list[FlagOut] = Field(..., description="Sentences no passage supports.")


class AskResponse(BaseModel):
    answer_id: str = Field(
        ..., description="This answer's id (ans_…), to send feedback on it (POST /v1/feedback)."
    )
    answer: str
    citations: list[CitationOut]
    language: str = Field(..., description="en, zh-Hans or zh-Hant.")
    declined: bool = Field(..., description="True when the articles do not answer it.")
    timings_ms: Timings
    rewritten_query: str | None = Field(
        None, description="The standalone query used for retrieval (with history only)."
    )
    mode: Literal["llm", "extractive"] | None = Field(
        None, description="Who wrote the answer (with an LLM configured only)."
    )
    verification: VerificationOut | None = Field(
        None, description="What checking the citations of a generated answer found."
    )
    notices: list[NoticeOut] | None = Field(None, description="What the reader should know.")

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler):  # unannotated: see _without_unset
        optional = ("rewritten_query", "mode", "verification", "notices")
        return _without_unset(handler(self), optional)


class StreamPassages(BaseModel):
    """Data of the stream's first event, ``citations``."""

    citations: list[CitationOut] = Field(..., description="The passages, numbered as cited.")
    rewritten_query: str | None = None
    language: str
    mode: Literal["llm", "extractive"]


class StreamToken(BaseModel):
    """Data of a ``token`` event: the next piece of the answer's text."""

    text: str


class DocumentSummary(BaseModel):
    id: str
    title: str
    date: str | None
    outlet: str | None = Field(..., description="The outlet, or a document's issuing body.")
    origin: str | None
    author: str | None
    format: str = Field(..., description="txt, md, html, pdf, docx or image.")
    pages: int | None = Field(..., description="Pages of a PDF, Word or image file.")
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
    format: str = Field(..., description="txt, md, html, pdf, docx or image.")
    pages: int | None = Field(..., description="Pages of a PDF, Word or image file.")
    page_starts: list[int] = Field(
        ..., description="Where each page starts in `text` (empty: no page information)."
    )
    text: str = Field(..., description="The cleaned article text that citation spans index.")


class ErrorBody(BaseModel):
    code: str
    message: str
    detail: object | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody
