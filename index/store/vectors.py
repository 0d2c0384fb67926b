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

Candidates.  `scores_for` scores given chunk ids exactly, reading only their
rows, and `moments` gives the mean and standard deviation of a query's scores
over every vector without computing them: with the stored mean vector ``m``
and second-moment matrix ``S = XᵀX / N`` (``*.moments.npy``, written with the
vectors), the mean is ``q·m`` and the mean square ``qᵀSq``.  Together they
let fusion standardise scores exactly from a few hundred candidates
(``qa.retrieval.candidates``).

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

    def scores_for(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray: ...

    def moments(self, query: np.ndarray) -> tuple[float, float]: ...

    def cosines(self, query: np.ndarray, ids: list[int]) -> list[float]: ...


class FaissIndex:
    FILENAME = "dense.faiss"
    AUX_FILENAME = "aux.faiss"

    def __init__(
        self, index: faiss.Index, *, mapped: bool = False, moments: np.ndarray | None = None
    ) -> None:
        self._index = index
        self.dimension = int(index.d)
        self.mapped = mapped  # vectors are a read-only view of the file
        self._order: tuple[np.ndarray, np.ndarray] | None = None
        self._moments = moments  # row 0: mean vector; rows 1..d: XᵀX / N

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
        self._order = self._moments = None

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._make_writable()
            # faiss wraps an id array in an IDSelectorBatch; its stubs only list the selector.
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))  # type: ignore[arg-type]
            self._order = self._moments = None

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if len(self) == 0 or k <= 0:
            return []
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(q, min(k, len(self)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def all_scores(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids ascending, similarity of ``query`` to each): the full score list."""
        n = len(self)
        q = self._query(query)
        ids, order = self._id_order()
        scores = np.empty(n, dtype=np.float32)
        if n:
            # Reads the vectors where they are (the mapping, or faiss' own array).
            _kernels.fvec_inner_products_ny(
                faiss.swig_ptr(scores), faiss.swig_ptr(q), self._xb(), self.dimension, n
            )
        return ids, scores[order]

    def scores_for(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Exact similarity of ``query`` to the stored vectors of ``ids`` (which must exist)."""
        q = self._query(query)
        stored, order = self._id_order()
        at = np.searchsorted(stored, ids)
        if len(ids) and (at.max() >= len(stored) or not np.array_equal(stored[at], ids)):
            raise KeyError("scores_for: an id is not in the index")
        rows = np.ascontiguousarray(order[at], dtype=np.int64)
        out = np.empty(len(rows), dtype=np.float32)
        if len(rows):
            _kernels.fvec_inner_products_by_idx(
                faiss.swig_ptr(out),
                faiss.swig_ptr(q),
                self._xb(),
                faiss.swig_ptr(rows),
                self.dimension,
                1,
                len(rows),
            )
        return out

    def moments(self, query: np.ndarray) -> tuple[float, float]:
        """Mean and (population) standard deviation of ``query``'s scores over every vector."""
        if self._moments is None:
            self._moments = self.compute_moments()
        q = self._query(query).astype(np.float64)
        mean = float(q @ self._moments[0])
        square = float(q @ self._moments[1:] @ q)
        return mean, float(np.sqrt(max(square - mean * mean, 0.0)))

    def compute_moments(self, block: int = 65_536) -> np.ndarray:
        """(d + 1, d) float64: the mean vector, then XᵀX / N, read block by block."""
        d, n = self.dimension, len(self)
        out = np.zeros((d + 1, d), dtype=np.float64)
        for lo in range(0, n, block):
            x = self.vectors(lo, min(lo + block, n)).astype(np.float64)
            out[0] += x.sum(axis=0)
            out[1:] += x.T @ x
        return out / max(n, 1)

    def vectors(self, lo: int, hi: int) -> np.ndarray:
        """A copy of stored rows ``lo:hi`` (storage order, see `stored_ids`)."""
        hi = max(lo, min(hi, len(self)))
        out = np.empty((hi - lo, self.dimension), dtype=np.float32)
        flat: Any = _inner(self._index)
        if hi > lo:
            flat.reconstruct_n(lo, hi - lo, out)
        return out

    def vectors_of(self, ids: np.ndarray | list[int]) -> np.ndarray:
        """A copy of the stored vectors of chunk ids, in the order given."""
        keys = np.asarray(ids, dtype=np.int64)
        if len(keys) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._index.reconstruct_batch(keys)

    def stored_ids(self) -> np.ndarray:
        """Chunk ids in storage order (the rows `vectors` reads)."""
        idmap: Any = faiss.downcast_index(self._index)
        return faiss.vector_to_array(idmap.id_map)

    def _query(self, query: np.ndarray) -> np.ndarray:
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dimension:  # faiss would read past the query
            raise ValueError(f"expected a query of dimension {self.dimension}, got {q.shape}")
        return q

    def _id_order(self) -> tuple[np.ndarray, np.ndarray]:
        if self._order is None:
            stored_ids = self.stored_ids()
            order = np.argsort(stored_ids, kind="stable")
            self._order = (stored_ids[order], order)
        return self._order

    def _xb(self) -> Any:
        flat: Any = _inner(self._index)
        return flat.get_xb()

    def cosines(self, query: np.ndarray, ids: list[int]) -> list[float]:
        """Exact similarity of ``query`` to the stored vectors of ``ids``."""
        if not ids:
            return []
        return [float(s) for s in self.vectors_of(ids) @ query.astype(np.float32)]

    def save(self, directory: Path, filename: str = FILENAME) -> list[Path]:
        """Write the vectors and their moments; return both paths."""
        path = directory / filename
        faiss.write_index(self._index, str(path))
        if self._moments is None:
            self._moments = self.compute_moments()
        moments = directory / moments_filename(filename)
        with moments.open("wb") as fh:
            np.save(fh, self._moments)
        return [path, moments]

    @classmethod
    def load(cls, directory: Path, filename: str = FILENAME, *, mmap: bool = True) -> FaissIndex:
        """Open a saved index, its vectors memory-mapped unless ``mmap`` is false
        (or faiss is too old to map them).  Moments are read when the version has
        them (versions written before them compute them on first use)."""
        path = str(directory / filename)
        moments_path = directory / moments_filename(filename)
        moments = np.load(moments_path) if moments_path.exists() else None
        if mmap and MMAP_FLAG is not None:
            return cls(faiss.read_index(path, MMAP_FLAG), mapped=True, moments=moments)
        return cls(faiss.read_index(path), moments=moments)

    def _make_writable(self) -> None:
        """Swap a mapped index for an in-memory copy before faiss modifies it."""
        if self.mapped:
            self._index = faiss.deserialize_index(faiss.serialize_index(self._index))
            self.mapped = False
            self._order = None


def _inner(index: faiss.Index) -> Any:
    """The index inside an id map (faiss' stubs do not know ``.index``)."""
    idmap: Any = faiss.downcast_index(index)
    return faiss.downcast_index(idmap.index)


def moments_filename(vectors_filename: str) -> str:
    """``dense.faiss`` → ``dense.moments.npy``."""
    return vectors_filename.rsplit(".", 1)[0] + ".moments.npy"
