"""The settings that choose where the index lives and how large ingests run.

A base class of ``qa.settings.Settings`` (same ``QA_`` prefix, same generated docs): the
index backend (`local` files or `milvus`), the Milvus connection and collections, the
embedding cache that makes long ingests resumable, and the Ray options of ``qa ingest --ray``.

Leaves out: every other setting (``qa.settings``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from index.store.milvus.client import MilvusConfig


class BackendSettings(BaseSettings):
    index_backend: Literal["local", "milvus"] = Field(
        "local",
        description="Where the index lives: `local` (versioned files in QA_INDEX_DIR, FAISS + "
        "BM25) or `milvus` (collections in the Milvus at QA_MILVUS_URI, shared by every "
        "server process; docs/scaling.md).",
    )
    milvus_uri: str = Field(
        "var/milvus.db",
        description="The Milvus to use: a `.db` path runs Milvus Lite inside the process (one "
        "process only); `http://host:19530` reaches Milvus standalone, a cluster, or "
        "`milvus-lite server`.",
    )
    milvus_token: SecretStr | None = Field(
        None, description="Milvus credentials (`user:password` or an API key); empty for none."
    )
    milvus_collection: str = Field(
        "article_qa",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$",
        description="Prefix of the index's collections (`<prefix>_chunks`, `_docs`, `_meta`); "
        "two prefixes are two independent indexes in one Milvus.",
    )
    milvus_timeout: float = Field(
        10.0,
        gt=0,
        le=600,
        description="Seconds one Milvus call may take; past it the request fails with 503 "
        "`index_unavailable` (and the next one reconnects).",
    )
    milvus_dense_index: Literal["HNSW", "FLAT", "IVF_FLAT"] = Field(
        "HNSW",
        description="Milvus index over the dense vectors (built when the collection is "
        "created; HNSW uses QA_HNSW_M and QA_HNSW_EF_CONSTRUCTION, searches QA_HNSW_EF_SEARCH).",
    )
    milvus_stats_limit: int = Field(
        2_048,
        ge=100,
        le=16_384,
        description="BM25 hits read per question for the keyword scores' mean and deviation "
        "(exact while fewer chunks than this contain a question term).",
    )
    embed_cache_dir: Path = Field(
        Path("var/embed-cache"),
        description="Where an ingest keeps the vectors it has computed until it has "
        "published, so a killed ingest re-run does not embed them again.",
    )
    ray_actors: int = Field(
        2, ge=1, le=256, description="Embedding actors of `qa ingest --ray` (one model each)."
    )
    ray_batch_docs: int = Field(
        8, ge=1, le=1000, description="Articles per batch handed to a Ray embedding actor."
    )

    def milvus_config(self, hnsw_m: int, ef_construction: int) -> MilvusConfig:
        token = self.milvus_token.get_secret_value() if self.milvus_token else None
        return MilvusConfig(
            uri=self.milvus_uri,
            token=token or None,
            collection=self.milvus_collection,
            timeout=self.milvus_timeout,
            dense_index=self.milvus_dense_index,
            hnsw_m=hnsw_m,
            hnsw_ef_construction=ef_construction,
            stats_limit=self.milvus_stats_limit,
        )
