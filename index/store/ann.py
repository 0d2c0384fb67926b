"""Approximate nearest-neighbour candidates: an HNSW graph beside the flat vectors.

From ``AnnParams.threshold`` chunks on, a version gets an HNSW graph
(FAISS ``IndexHNSWSQ`` or ``IndexHNSWFlat`` inside an ``IndexIDMap``) per
vector file.  The graph only proposes candidates: their scores are computed
again, exactly, from the flat vectors (``FaissIndex.scores_for``), so an
approximate search can miss a chunk but never mis-scores one.  With ``sq8``
storage the graph's own copy of the vectors is 8-bit (d bytes a vector instead
of 4d), and the graph's links add about ``2 * m * 4`` bytes a vector.

Memory and workers.  The file is read with ``IO_FLAG_MMAP_IFC`` like the flat
index.  At 1M chunks the 1.46 GB of graph files did not show in a worker's
anonymous memory, so they are shared between workers like the vectors
(docs/scaling.md).

Building.  Adding to an existing graph is cheap (the new vectors only), but a
graph cannot drop nodes, so a version that removed chunks rebuilds it from
the flat vectors (``index.build``).  ``ef_search`` is a query-time knob
(QA_HNSW_EF_SEARCH), never below the number of candidates asked for.

Leaves out: exact search below the threshold (``index.store.vectors``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.store.manifest import AnnParams
from index.store.vectors import MMAP_FLAG, FaissIndex

_STORAGE = {"sq8": "SQ8", "flat": "Flat"}


class HnswIndex:
    def __init__(self, index: faiss.Index) -> None:
        self._index = index
        idmap: Any = faiss.downcast_index(index)
        self._hnsw: Any = faiss.downcast_index(idmap.index)
        self.dimension = int(index.d)

    @classmethod
    def build(cls, params: AnnParams, ids: np.ndarray, vectors: np.ndarray) -> HnswIndex:
        """A graph over ``vectors`` (L2-normalised, so inner product is cosine)."""
        if params.storage not in _STORAGE:
            raise ValueError(f"unknown HNSW storage {params.storage!r}; use one of {_STORAGE}")
        dimension = int(vectors.shape[1])
        spec = f"HNSW{params.m},{_STORAGE[params.storage]}"
        inner = faiss.index_factory(dimension, spec, faiss.METRIC_INNER_PRODUCT)
        hnsw: Any = faiss.downcast_index(inner)
        hnsw.hnsw.efConstruction = params.ef_construction
        if not inner.is_trained:  # SQ8 learns each dimension's range
            inner.train(np.ascontiguousarray(vectors[:200_000], dtype=np.float32))
        out = cls(faiss.IndexIDMap(inner))
        out.add(ids, vectors)
        return out

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray, batch: int = 65_536) -> None:
        for lo in range(0, len(ids), batch):
            block = np.ascontiguousarray(vectors[lo : lo + batch], dtype=np.float32)
            self._index.add_with_ids(block, np.asarray(ids[lo : lo + batch], dtype=np.int64))

    def search(self, query: np.ndarray, k: int, ef_search: int) -> np.ndarray:
        """Ids of (about) the ``k`` nearest vectors, best first."""
        if len(self) == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64)
        self._hnsw.hnsw.efSearch = max(ef_search, k)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        _, ids = self._index.search(q, min(k, len(self)))
        return ids[0][ids[0] >= 0]

    def save(self, path: Path) -> Path:
        faiss.write_index(self._index, str(path))
        return path

    @classmethod
    def load(cls, path: Path, *, mmap: bool = True) -> HnswIndex:
        if mmap and MMAP_FLAG is not None:
            return cls(faiss.read_index(str(path), MMAP_FLAG))
        return cls(faiss.read_index(str(path)))


def graph_filename(vectors_filename: str) -> str:
    """``dense.faiss`` → ``dense.hnsw``: the graph file beside a vector file."""
    return vectors_filename.rsplit(".", 1)[0] + ".hnsw"


def write_graphs(
    directory: Path,
    vectors: list[tuple[str, FaissIndex]],
    params: AnnParams,
    previous: Path | None,
    added: np.ndarray | None,
) -> list[Path]:
    """Write an HNSW graph beside each vector file, or none below ``params.threshold``.

    A graph of ``previous`` (the version this one was copied from) is extended
    with the ``added`` ids when nothing was removed (``added`` is not None);
    otherwise each graph is built again from the flat vectors.
    """
    if not vectors or len(vectors[0][1]) < params.threshold:
        return []
    paths = []
    for name, flat in vectors:
        old = previous / graph_filename(name) if previous is not None else None
        if old is not None and old.exists() and added is not None:
            graph = HnswIndex.load(old, mmap=False)
            graph.add(added, flat.vectors_of(added))
        else:
            graph = HnswIndex.build(params, flat.stored_ids(), flat.vectors(0, len(flat)))
        paths.append(graph.save(directory / graph_filename(name)))
    return paths
