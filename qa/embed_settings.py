"""The settings that choose how passages and questions are embedded.

A base class of ``qa.settings.Settings`` (same ``QA_`` prefix, same generated docs): the
runtime of the embedding model (torch, or its ONNX fp32 / int8 exports built by ``make model``),
the batch size of ingest's length-sorted batches, and ingest's threads.  Serving threads are
``QA_THREADS`` (``qa.settings``).

Leaves out: which model (``QA_EMBEDDING_MODEL``) and where it is cached (``qa.settings``).
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class EmbedSettings(BaseSettings):
    embed_runtime: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx",
        description="How the embedding model runs: `torch` (sentence-transformers, fp32), "
        "`onnx` (ONNX Runtime, the same fp32 weights) or `onnx-int8` (ONNX Runtime, weights "
        "dynamically quantised to int8: fastest, but 1 point lower hit@5 on one English dev "
        "set). The ONNX files are built by `make model`. An index "
        "built by one runtime serves another only if `make model` measured both within "
        "cosine 0.98 of torch (docs/embedding.md).",
    )
    embed_batch_size: int = Field(
        4,
        ge=1,
        le=256,
        description="Passages per ONNX Runtime call when passages are embedded (ingest, and "
        "the answer checks of the LLM path); passages are sorted by token length first, so "
        "each batch is padded only to its own longest passage.",
    )
    embed_threads: int = Field(
        0,
        ge=0,
        le=256,
        description="Intra-op CPU threads per embedding call of `qa ingest` and `qa eval`; 0 "
        "picks by "
        "runtime: every core for `torch`, 1 for the ONNX runtimes (which run "
        "QA_EMBED_WORKERS calls at once instead: measured faster on 2 cores). Serving uses "
        "QA_THREADS.",
    )
    embed_workers: int = Field(
        0,
        ge=0,
        le=64,
        description="Embedding calls in flight at once in `qa ingest` and `qa eval`, each on its "
        "own batch of passages (e5 and the cross-lingual encoder); 0 = cores / "
        "QA_EMBED_THREADS. `torch` always uses 1. Uploads through the admin API embed one "
        "batch at a time with the server's QA_THREADS, leaving cores for questions.",
    )

    def ingest_threads(self) -> int:
        """Intra-op threads of one embedding call at ingest."""
        if self.embed_threads:
            return self.embed_threads
        return (os.cpu_count() or 1) if self.embed_runtime == "torch" else 1

    def ingest_workers(self) -> int:
        """Embedding calls in flight at once at ingest."""
        if self.embed_runtime == "torch":
            return 1
        return self.embed_workers or max(1, (os.cpu_count() or 1) // self.ingest_threads())
