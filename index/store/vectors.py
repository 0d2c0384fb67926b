"""The vector-index seam: a `VectorIndex` protocol and its FAISS implementation.

Vectors are L2-normalised, so the FAISS inner-product index ranks by cosine.
Each vector carries the int64 id of its chunk (``IndexIDMap2``), so chunks can
be removed and replaced without renumbering.  Exact search (``IndexFlatIP``)
is right for this scale: tens of thousands of 384-d vectors search in about a
millisecond on two cores.

Memory mapping.  `FaissIndex.load` maps the file's vectors read-only
(``faiss.IO_FLAG_MMAP_IFC``, faiss >= 1.11: the ``IndexFlatIP``'s vector array
becomes a view of a ``PROT_READ``/``MAP_SHARED`` mapping of the file), so every
process serving the same index version — ``qa serve --workers N`` — shares one
copy of the vectors in the page cache instead of holding one each.  Only the
id map (8 bytes a vector, plus IndexIDMap2's reverse hash map) is read into
each process's own memory.  ``search``, ``reconstruct`` (``cosines``) and
``ntotal`` work unchanged on the mapped index, and `all_scores` computes over
the mapping too (with faiss' inner-product kernel: the mapped array is not
4-byte aligned, which would make numpy copy the whole matrix on every call).
Faiss cannot write through the mapping (an ``add`` aborts the process, a
``remove`` crashes it), so `add` and `remove` first replace a mapped index by
an in-memory copy: index building loads the current version, modifies the
copy and writes a new file, never touching the mapped one.

Index versions are replaced atomically and old ones pruned (``index.store.versions``).
Deleting a file that a process still has mapped is fine on Linux: the mapping
keeps the file's data alive until it is unmapped (when the `FaissIndex` is
garbage-collected), and a new version is a new file, never the old one
rewritten in place.

Leaves out: embedding (``index.embed.embedder``) and where the file lives
(``index.store.versions``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np

# Zero-copy mapping of a flat index's vectors; absent from faiss before 1.11,
# where `FaissIndex.load` falls back to reading the file into memory.
MMAP_FLAG: int | None = getattr(faiss, "IO_FLAG_MMAP_IFC", None)
_kernels: Any = faiss  # fvec_inner_products_ny is missing from faiss' type stubs


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

    def __init__(self, index: faiss.Index, *, mapped: bool = False) -> None:
        self._index = index
        self.dimension = int(index.d)
        self.mapped = mapped  # vectors are a read-only view of the file
        self._order: tuple[np.ndarray, np.ndarray] | None = None

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
        self._make_writable()
        self._index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
        self._order = None

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._make_writable()
            # faiss wraps an id array in an IDSelectorBatch; its stubs only list the selector.
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))  # type: ignore[arg-type]
            self._order = None

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if len(self) == 0 or k <= 0:
            return []
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(q, min(k, len(self)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def all_scores(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids ascending, similarity of ``query`` to each): the full score list."""
        n = len(self)
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dimension:  # faiss would read past the query
            raise ValueError(f"expected a query of dimension {self.dimension}, got {q.shape}")
        idmap: Any = faiss.downcast_index(self._index)  # IndexIDMap2 over IndexFlatIP
        if self._order is None:
            stored_ids = faiss.vector_to_array(idmap.id_map)
            order = np.argsort(stored_ids, kind="stable")
            self._order = (stored_ids[order], order)
        ids, order = self._order
        scores = np.empty(n, dtype=np.float32)
        if n:
            flat: Any = faiss.downcast_index(idmap.index)
            # Reads the vectors where they are (the mapping, or faiss' own array).
            _kernels.fvec_inner_products_ny(
                faiss.swig_ptr(scores), faiss.swig_ptr(q), flat.get_xb(), self.dimension, n
            )
        return ids, scores[order]

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
    def load(cls, directory: Path, filename: str = FILENAME, *, mmap: bool = True) -> FaissIndex:
        """Open a saved index, its vectors memory-mapped unless ``mmap`` is false
        (or faiss is too old to map them)."""
        path = str(directory / filename)
        if mmap and MMAP_FLAG is not None:
            return cls(faiss.read_index(path, MMAP_FLAG), mapped=True)
        return cls(faiss.read_index(path))

    def _make_writable(self) -> None:
        """Swap a mapped index for an in-memory copy before faiss modifies it."""
        if self.mapped:
            self._index = faiss.deserialize_index(faiss.serialize_index(self._index))
            self.mapped = False
            self._order = None
