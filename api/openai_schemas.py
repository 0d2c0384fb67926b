"""Bodies of the OpenAI-compatible endpoints (``/v1/chat/completions``, ``/v1/models``).

Requests accept (and ignore) the many options OpenAI clients send —
``temperature``, ``max_tokens``, ``stream_options``, ``user``, … — since
answers come from the articles; ``n`` must be 1.  Responses are OpenAI's
shapes plus two fields: ``citations`` (the answer's citations, structured as
in ``/v1/ask``) and ``article_qa`` (the whole ``/v1/ask`` body: verification,
notices, rewritten query, timings).  In a stream both come with the last
chunk, the one with ``finish_reason``.

Leaves out: the routes (``api.openai_compat``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas import MAX_HISTORY, MAX_MESSAGE_CHARS, AskResponse, CitationOut, Text, characters

MODEL_ID = "article-qa"


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: Text | None = Field(None, max_length=MAX_MESSAGE_CHARS)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = Field(None, max_length=MAX_MESSAGE_CHARS)

    @field_validator("content")
    @classmethod
    def _only_characters(cls, value: str | list[ContentPart] | None) -> object:
        return characters(value) if isinstance(value, str) else value


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: Text = Field(
        ...,
        description=f"Must be {MODEL_ID!r}; any other name is 404 `not_found`, as with OpenAI.",
        json_schema_extra={"enum": [MODEL_ID]},  # documented, not validated: 404, not 422
    )
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=MAX_HISTORY + 1)
    stream: bool = Field(False, description="Stream chat.completion.chunk events.")
    n: int = Field(1, ge=1, le=1, description="Only one answer is made.")
    top_k: int | None = Field(None, ge=1, le=50, description="Extension: passages to retrieve.")


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL_ID
    choices: list[Choice]
    usage: Usage
    citations: list[CitationOut] = Field(..., description="The answer's citations.")
    article_qa: AskResponse = Field(..., description="The answer as /v1/ask returns it.")


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str = MODEL_ID
    choices: list[ChunkChoice]
    citations: list[CitationOut] | None = None
    article_qa: AskResponse | None = None


class ModelCard(BaseModel):
    id: str = MODEL_ID
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "article-qa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
