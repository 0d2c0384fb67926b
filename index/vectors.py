"""The vector-index seam: a `VectorIndex` protocol and its FAISS implementation.

Vectors are L2-normalised, so the FAISS inner-product index ranks by cosine.
Each vector carries the int64 id of its chunk (``IndexIDMap2``), so chunks can
be removed and replaced without renumbering.  Exact search (``IndexFlatIP``)
is right for this scale: tens of thousands of 384-d vectors search in about a
millisecond on two cores.

Leaves out: embedding (``index.embed``) and where the file lives (``index.versions``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np


class VectorIndex(Protocol):
    dimension: int

    def __len__(self) -> int: ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None: ...

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]: ...

    def all_scores(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def cosines(self, query: np.ndarray, ids: list[int]) -> list[float]: ...


class FaissIndex:
    FILENAME = "dense.faiss"
    AUX_FILENAME = "aux.faiss"

    def __init__(self, index: faiss.Index) -> None:
        self._index = index
        self.dimension = int(index.d)
        self._matrix: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def create(cls, dimension: int) -> FaissIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"expected vectors of dimension {self.dimension}, got {vectors.shape}")
        self._index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
        self._matrix = None

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            # faiss wraps an id array in an IDSelectorBatch; its stubs only list the selector.
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))  # type: ignore[arg-type]
            self._matrix = None

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if len(self) == 0 or k <= 0:
            return []
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(q, min(k, len(self)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def all_scores(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids ascending, similarity of ``query`` to each): the full score list."""
        if self._matrix is None:
            mapped: Any = faiss.downcast_index(self._index)  # IndexIDMap2 over IndexFlatIP
            stored_ids = faiss.vector_to_array(mapped.id_map)
            order = np.argsort(stored_ids)
            vectors = mapped.index.reconstruct_n(0, len(self))
            self._matrix = (stored_ids[order], np.ascontiguousarray(vectors[order]))
        ids, vectors = self._matrix
        return ids, vectors @ query.astype(np.float32)

    def cosines(self, query: np.ndarray, ids: list[int]) -> list[float]:
        """Exact similarity of ``query`` to the stored vectors of ``ids``."""
        if not ids:
            return []
        stored = np.vstack([self._index.reconstruct(int(i)) for i in ids])
        return [float(s) for s in stored @ query.astype(np.float32)]

    def save(self, directory: Path, filename: str = FILENAME) -> Path:
        path = directory / filename
        faiss.write_index(self._index, str(path))
        return path

    @classmethod
    def load(cls, directory: Path, filename: str = FILENAME, *, mmap: bool = False) -> FaissIndex:
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        return cls(faiss.read_index(str(directory / filename), flags))
