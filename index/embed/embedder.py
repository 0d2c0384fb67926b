"""The embedding seam: an `Embedder` protocol and its sentence-transformers implementation.

An embedder turns passages and queries into L2-normalised float32 vectors, so
inner product is cosine similarity.  Models that define ``query``/``passage``
prompts (E5) get them applied; others embed text as is.  The model is loaded
when the object is created, never at import time.

Leaves out: where the model folder comes from (``index.embed.e5_model``) and test
fakes (``tests/fakes.py``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """What indexing and retrieval need from an embedding model."""

    model_id: str
    checksum: str | None
    dimension: int
    max_tokens: int
    # How the vectors are computed (``torch``, ``onnx``, ``onnx-int8``), and the lowest cosine
    # to the torch fp32 model measured on the parity probe (1.0 for torch itself; None when
    # never measured): an index built by one runtime serves queries from another only when
    # both were measured (``index.store.manifest.Manifest.check_runtime``).
    runtime: str
    parity: float | None

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, on the CPU."""

    def __init__(
        self,
        path: str,
        *,
        model_id: str,
        checksum: str | None = None,
        batch_size: int = 16,
        threads: int | None = None,
    ) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(path, device="cpu")
        self._tokenizer_lock = threading.Lock()
        self.model_id = model_id
        self.checksum = checksum
        self.runtime: str = "torch"
        self.parity: float | None = 1.0
        self.batch_size = batch_size
        dimension = getattr(self._model, "get_embedding_dimension", None)
        dimension = dimension or self._model.get_sentence_embedding_dimension
        self.dimension = int(dimension() or 0)
        self.max_tokens = int(self._model.max_seq_length or 512)
        prompts = self._model.prompts or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else None

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._tokenizer_lock:  # see count_tokens
            vectors = self._model.encode(
                list(texts),
                prompt_name=self._passage_prompt,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        with self._tokenizer_lock:
            vector = self._model.encode(
                [text],
                prompt_name=self._query_prompt,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
        return np.ascontiguousarray(vector[0], dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Model tokens for ``text`` as a passage, prompt and special tokens included."""
        prompt = self._model.prompts.get(self._passage_prompt or "", "") or ""
        # A fast tokenizer keeps its truncation and padding settings on the object and sets
        # them per call, so a call here beside encode() on the ingest's embedding thread
        # would flip them under it (measured: an 807-token text counted as 512).
        with self._tokenizer_lock:
            return len(self._model.tokenizer(prompt + text, truncation=False)["input_ids"])
