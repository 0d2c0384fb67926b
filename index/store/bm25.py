"""Okapi BM25 as one sparse matrix: scoring a query is a sparse column sum.

At build time every (chunk, term) pair gets its final BM25 weight
``idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avglen))``, stored in a
CSC matrix (columns are terms).  A query's score vector is the weighted sum of
its terms' columns: well under a millisecond for tens of thousands of chunks,
where a per-document Python loop takes tens of milliseconds.  Query terms may
carry weights (e.g. dictionary translations of English words).

For candidate retrieval (``qa.retrieval.candidates``) a query's scores are
summed from its terms' posting columns only; `top` picks the best rows with
``argpartition`` (no sort of all rows), and the mean and standard deviation
over every row come from the sum and sum of squares, the rows no term touches
scoring zero.

Leaves out: segmentation and script folding (``index.text.textnorm``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy import sparse

K1 = 1.2
B = 0.75


class BM25Index:
    def __init__(self, matrix: sparse.csc_matrix, vocab: dict[str, int], ids: np.ndarray):
        self.matrix = matrix
        self.vocab = vocab
        self.ids = ids
        n_docs = max(matrix.shape[0], 1)
        df = np.diff(matrix.indptr)
        self._idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))

    @classmethod
    def build(cls, ids: Sequence[int], docs: Sequence[Sequence[str]]) -> BM25Index:
        vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        lengths = np.array([len(d) for d in docs], dtype=np.float64)
        for row, terms in enumerate(docs):
            for term, tf in Counter(terms).items():
                rows.append(row)
                cols.append(vocab.setdefault(term, len(vocab)))
                tfs.append(tf)
        n_docs = len(docs)
        tf_arr = np.array(tfs, dtype=np.float64)
        row_arr = np.array(rows, dtype=np.int64)
        col_arr = np.array(cols, dtype=np.int64)
        df = np.bincount(col_arr, minlength=len(vocab)) if len(vocab) else np.zeros(0)
        idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
        avg = lengths.mean() if n_docs else 1.0
        norm = K1 * (1 - B + B * lengths[row_arr] / max(avg, 1e-9)) if n_docs else 0.0
        weights = idf[col_arr] * tf_arr * (K1 + 1) / (tf_arr + norm)
        matrix = sparse.csc_matrix(
            (weights.astype(np.float32), (row_arr, col_arr)), shape=(n_docs, len(vocab))
        )
        return cls(matrix, vocab, np.asarray(ids, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    def idf(self, term: str) -> float:
        """Inverse document frequency of ``term`` (0 when the index never saw it)."""
        col = self.vocab.get(term)
        return float(self._idf[col]) if col is not None else 0.0

    def scores(self, terms: Mapping[str, float]) -> np.ndarray:
        """BM25 score of every chunk, in row order, for weighted query terms."""
        out = np.zeros(len(self), dtype=np.float32)
        for term, weight in terms.items():
            col = self.vocab.get(term)
            if col is None or weight == 0:
                continue
            lo, hi = self.matrix.indptr[col], self.matrix.indptr[col + 1]
            out[self.matrix.indices[lo:hi]] += weight * self.matrix.data[lo:hi]
        return out

    def search(self, terms: Mapping[str, float], k: int) -> list[tuple[int, float]]:
        """The ``k`` best (chunk id, score) pairs with a positive score."""
        scores = self.scores(terms)
        best = top_rows(scores, k)
        return [(int(self.ids[i]), float(scores[i])) for i in best]

    def rows_for(self, ids: np.ndarray) -> np.ndarray:
        """Row numbers of chunk ids (rows are in chunk-id order, as built)."""
        rows = np.searchsorted(self.ids, ids)
        if len(ids) and (rows.max() >= len(self.ids) or not np.array_equal(self.ids[rows], ids)):
            raise KeyError("rows_for: a chunk id has no keyword row")
        return rows

    def save(self, directory: Path) -> list[Path]:
        matrix_path, meta_path = directory / "bm25.npz", directory / "bm25_vocab.json"
        sparse.save_npz(matrix_path, self.matrix, compressed=False)
        with meta_path.open("w", encoding="utf-8") as fh:
            json.dump({"vocab": self.vocab, "ids": self.ids.tolist()}, fh, ensure_ascii=False)
        return [matrix_path, meta_path]

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        matrix = sparse.load_npz(directory / "bm25.npz").tocsc()
        with (directory / "bm25_vocab.json").open(encoding="utf-8") as fh:
            meta = json.load(fh)
        return cls(matrix, meta["vocab"], np.asarray(meta["ids"], dtype=np.int64))


def top_rows(scores: np.ndarray, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Rows of the ``k`` highest positive scores, best first (ties by row), without a full sort.

    ``rows``, when given, are the rows with a positive score (`touched`), ascending.
    """
    positive = np.flatnonzero(scores > 0) if rows is None else rows
    if positive.size > k:
        part = np.argpartition(-scores[positive], k - 1)[:k]
        positive = np.sort(positive[part])
    return positive[np.argsort(-scores[positive], kind="stable")]


def touched(scores: np.ndarray) -> np.ndarray:
    """The rows some query term scores (BM25 weights are positive), ascending."""
    return np.flatnonzero(scores)


def moments(scores: np.ndarray, rows: np.ndarray | None = None) -> tuple[float, float]:
    """Mean and population standard deviation of a full score vector, in float64.

    Only ``rows`` (the nonzero scores, when given) are read: the others add nothing.
    """
    n = max(len(scores), 1)
    values = (scores if rows is None else scores[rows]).astype(np.float64)
    mean = float(values.sum()) / n
    return mean, float(np.sqrt(max(float(values @ values) / n - mean * mean, 0.0)))
