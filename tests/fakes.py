"""Test doubles for the project's seams: a deterministic embedder and generator.

`FakeEmbedder` hashes character unigrams and bigrams of the script-folded text
into a small normalised vector, so texts that share characters are close: good
enough to exercise retrieval logic without loading a model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from index.text.textnorm import fold
from qa.answer import Citation, Draft
from qa.retrieval.query import Query
from qa.retrieval.retrieve import Hit


class FakeEmbedder:
    def __init__(self, dimension: int = 64, model_id: str = "fake-embedder") -> None:
        self.dimension = dimension
        self.model_id = model_id
        self.checksum: str | None = "fake-checksum"
        self.max_tokens = 512
        self.runtime: str = "torch"
        self.parity: float | None = 1.0
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        folded = fold(text)
        grams = list(folded) + [folded[i : i + 2] for i in range(len(folded) - 1)]
        for gram in grams:
            if gram.strip():
                digest = hashlib.blake2b(gram.encode(), digest_size=4).digest()
                vector[int.from_bytes(digest, "little") % self.dimension] += 1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return (
            np.vstack([self._vector(t) for t in texts])
            if texts
            else np.zeros((0, self.dimension), np.float32)
        )

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def count_tokens(self, text: str) -> int:
        return len(text) + 2


class EchoGenerator:
    """Cites the first hit's passage verbatim; records what it was given."""

    def __init__(self) -> None:
        self.seen: list[tuple[Query, list[Hit]]] = []

    def generate(self, query: Query, hits: list[Hit]) -> Draft:
        self.seen.append((query, hits))
        hit = hits[0]
        c = hit.chunk
        citation = Citation(
            n=1,
            doc_id=c.doc_id,
            chunk_id=c.chunk_id,
            title=hit.document.title,
            date=hit.document.date,
            outlet=hit.document.outlet,
            passage=c.text,
            passage_start=c.start,
            passage_end=c.end,
            start=c.start,
            end=c.end,
            quote=c.text,
            score=hit.score,
        )
        return Draft(f"{c.text}[1]", [citation])
