"""Combining rankings: reciprocal-rank fusion and per-query z-score fusion.

`rrf` merges ranked lists by ``sum(weight / (k + rank))``; it needs no score
calibration and is used for Chinese questions, where dense and BM25 are both
strong (measured: fusion beats either alone).  `zscore` standardises each full
score list over every chunk (mean 0, sd 1) before a weighted sum; it is used
for English questions over Chinese text, where the retrievers are weak and
disagree, and score fusion beat RRF in every comparison measured (e5's
cosines spread ~3.5x less than USE's, so raw sums would ignore e5).

Leaves out: producing the rankings (``qa.retrieval.retrieve``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def rrf(rankings: Sequence[tuple[float, Sequence[int]]], k: int) -> dict[int, float]:
    """Weighted reciprocal-rank fusion of ranked chunk-id lists."""
    fused: dict[int, float] = {}
    for weight, ranking in rankings:
        for rank, chunk_id in enumerate(ranking):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (k + rank + 1)
    return fused


def zscore(scores: Sequence[tuple[float, np.ndarray]]) -> np.ndarray:
    """Weighted sum of per-list z-scores; all lists score the same chunks in one order."""
    total = np.zeros(len(scores[0][1]), dtype=np.float64)
    for weight, values in scores:
        if weight == 0 or len(values) == 0:
            continue
        sd = float(values.std())
        if sd > 0:
            total += weight * (values - float(values.mean())) / sd
    return total
