"""Z-score fusion over candidates: each retriever proposes its top K, fusion fills the rest.

The exhaustive path (``retrieve._exhaustive_fusion``) scores every chunk with every
retriever.  Here each retriever — e5 dense, the cross-lingual encoder, BM25 over
the question or its translation — proposes its ``pool`` best chunk ids and knows
the mean and standard deviation of its scores over every chunk without listing
them (a `Scored`, from the index's ``Retrievers``: ``index.store.view`` for the
local files, ``index.milvus.reader`` for Milvus).  Every candidate of the union
then gets every retriever's exact score, so a candidate's fused score is exactly
the one the exhaustive path gives it; the two paths can differ only where a chunk
outside every retriever's top K would have fused into the top ranks, which the
benchmark measures (docs/scaling.md).  The best ``keep`` fused candidates are
picked with ``argpartition``: nothing sorts all N.

Leaves out: proposing candidates (the backends) and diversity across documents
(``qa.retrieval.retrieve``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from index.store.view import Scored

__all__ = ["Scored", "fuse"]


def fuse(
    lists: list[Scored], excluded: Callable[[np.ndarray], np.ndarray], keep: int
) -> dict[int, float]:
    """The ``keep`` best candidates by weighted z-score sum, minus ``excluded`` ones."""
    union = np.unique(np.concatenate([s.ids for s in lists])) if lists else np.zeros(0, np.int64)
    union = union[~excluded(union)] if len(union) else union
    total = np.zeros(len(union), dtype=np.float64)
    for s in lists:
        if s.weight == 0 or s.sd <= 0 or len(union) == 0:
            continue
        total += s.weight * (s.score(union).astype(np.float64) - s.mean) / s.sd
    best = np.argpartition(-total, keep - 1)[:keep] if len(union) > keep else np.arange(len(union))
    best = best[np.argsort(-total[best], kind="stable")]
    return {int(union[i]): float(total[i]) for i in best}
