"""Candidate retrieval: exact statistics, exact fill, HNSW recall and the manifest check.

The candidate path must give the exhaustive path's fused top 10: checked here
on the pooled public dev corpus (real text, so BM25 statistics are real; the
fake embedder stands in for e5 and the cross-lingual encoder), and measured
with the real model by ``qa eval`` and benchmarks/scale.py (docs/scaling.md).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from evaluation import data as eval_data
from index.build import ingest, ingest_records, remove
from index.errors import IndexMismatch
from index.store.ann import HnswIndex
from index.store.bm25 import BM25Index
from index.store.bm25 import moments as bm25_moments
from index.store.loader import open_index
from index.store.manifest import AnnParams, ChunkParams
from index.store.vectors import FaissIndex
from index.text.sources import Record
from qa.retrieval.query import analyse
from qa.retrieval.retrieve import RetrievalConfig, retrieve
from tests.conftest import ROOT, SAMPLE
from tests.fakes import FakeEmbedder

SHARED_EVAL = ROOT.parent / "shared" / "eval"
PARAMS = ChunkParams(256, 32)


def _unit(rows: int, dim: int, seed: int = 0, clusters: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, dim)).astype(np.float32)
    if clusters:  # clustered, like real embeddings (all share a common direction too)
        centres = rng.standard_normal((clusters, dim)).astype(np.float32) * 2 + 1
        x += centres[rng.integers(0, clusters, rows)]
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_dense_moments_and_scores_for_are_exact(tmp_path):
    flat = FaissIndex.create(48)
    ids = np.arange(500, dtype=np.int64) * 7 + 3
    flat.add(ids, _unit(500, 48, clusters=5))
    query = _unit(1, 48, seed=1)[0]
    all_ids, scores = flat.all_scores(query)
    mean, sd = flat.moments(query)
    assert mean == pytest.approx(float(scores.astype(np.float64).mean()), abs=1e-6)
    assert sd == pytest.approx(float(scores.astype(np.float64).std()), rel=1e-5)
    pick = all_ids[[5, 0, 499, 17]]
    np.testing.assert_allclose(flat.scores_for(query, pick), scores[[5, 0, 499, 17]], rtol=1e-6)
    with pytest.raises(KeyError):
        flat.scores_for(query, np.array([4], dtype=np.int64))  # not an id
    flat.save(tmp_path)  # the moments travel with the vectors
    loaded = FaissIndex.load(tmp_path)
    assert loaded.moments(query) == pytest.approx((mean, sd))


def test_keyword_moments_cover_rows_no_term_touches():
    bm25 = BM25Index.build([1, 2, 3, 4], [["甲", "乙"], ["乙"], ["丙"], ["丁", "丁"]])
    scores = bm25.scores({"乙": 1.0})
    assert (scores > 0).sum() == 2
    assert bm25_moments(scores) == pytest.approx((scores.mean(), scores.std()))
    assert [c for c, _ in bm25.search({"乙": 1.0, "丁": 0.5}, 2)] == [
        c for c, _ in sorted(bm25.search({"乙": 1.0, "丁": 0.5}, 10), key=lambda p: -p[1])
    ][:2]


@pytest.mark.parametrize("storage", ["sq8", "flat"])
def test_hnsw_recall_on_a_generated_set(storage):
    """Top-10 recall of the graph's 200 candidates, queries near the data as questions are."""
    vectors = _unit(20_000, 64, clusters=40)
    ids = np.arange(len(vectors), dtype=np.int64) * 2
    graph = HnswIndex.build(AnnParams(m=32, ef_construction=80, storage=storage), ids, vectors)
    rng = np.random.default_rng(2)
    queries = vectors[rng.integers(0, len(vectors), 50)] + 0.1 * _unit(50, 64, seed=3)
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    found = [set(graph.search(q, 200, 256).tolist()) for q in queries]
    recall = np.mean(
        [len(set(ids[e].tolist()) & f) / 10 for e, f in zip(exact, found, strict=True)]
    )
    assert recall >= 0.98, recall
    assert graph.search(queries[0], 0, 256).size == 0


@pytest.fixture(scope="module")
def eval_pool(tmp_path_factory):
    """The pooled public dev corpus (1,200 passages), indexed with fakes, and its questions."""
    if not SHARED_EVAL.is_dir():
        pytest.skip("../shared/eval not beside the repo")
    data = eval_data.load(SHARED_EVAL, limit=15, pool=1200)
    directory = tmp_path_factory.mktemp("eval-pool")
    aux = FakeEmbedder(dimension=32, model_id="fake-aux")
    report = ingest_records(directory, data.records, FakeEmbedder(96), PARAMS, aux=aux)
    assert len(report.added) > 1000  # a few rgb passages are empty after cleaning
    return open_index(directory), data.questions, aux


def test_candidate_path_gives_the_exhaustive_top_10_on_the_eval_pool(eval_pool, dictionary):
    index, questions, aux = eval_pool
    embedder = FakeEmbedder(96)
    exact_config = RetrievalConfig(exhaustive=True, max_per_doc=1)
    for config in (RetrievalConfig(max_per_doc=1), RetrievalConfig(pool=60, max_per_doc=3)):
        for question in questions:
            query = analyse(question.question, dictionary)
            vector, aux_vector = embedder.embed_query(query.text), aux.embed_query(query.text)
            args = (index, vector, query)
            fast = retrieve(*args, config, 10, aux_vector=aux_vector)
            slow = retrieve(
                *args,
                replace(exact_config, max_per_doc=config.max_per_doc),
                10,
                aux_vector=aux_vector,
            )
            assert [h.chunk.id for h in fast] == [h.chunk.id for h in slow], question.question
            for a, b in zip(fast, slow, strict=True):
                assert a.score == pytest.approx(b.score, abs=1e-4)


def test_exclusion_is_the_same_on_both_paths(eval_pool, dictionary):
    index, questions, _ = eval_pool
    embedder, question = FakeEmbedder(96), questions[0]
    query = analyse(question.question, dictionary)
    vector = embedder.embed_query(query.text)
    first = retrieve(index, vector, query, RetrievalConfig(), 5)
    hidden = frozenset({first[0].chunk.doc_id})
    fast = retrieve(index, vector, query, RetrievalConfig(), 5, hidden)
    slow = retrieve(index, vector, query, RetrievalConfig(exhaustive=True), 5, hidden)
    assert [h.chunk.id for h in fast] == [h.chunk.id for h in slow]
    assert all(h.chunk.doc_id not in hidden for h in fast)


def _sample_records(n: int, offset: int = 0) -> list[Record]:
    cities = ["兰州", "西宁", "银川", "拉萨", "昆明", "贵阳", "南宁", "福州"]
    return [
        Record(
            f"d{offset + i}",
            f"通知{offset + i}",
            f"{cities[i % 8]}第{offset + i}号通知要求加强{cities[(i * 3) % 8]}"
            f"的道路建设，计划于{2000 + i % 20}年完成。",
        )
        for i in range(n)
    ]


def test_an_index_above_the_threshold_gets_graphs_extended_on_add_rebuilt_on_remove(
    tmp_path, dictionary
):
    ann = AnnParams(threshold=50, m=16, ef_construction=40, storage="sq8")
    aux = FakeEmbedder(dimension=32, model_id="fake-aux")
    ingest_records(tmp_path, _sample_records(40), FakeEmbedder(), PARAMS, aux=aux, ann=ann)
    index = open_index(tmp_path, ann=ann)
    assert not index.manifest.ann_built and index.dense_graph is None  # 40 < 50
    ingest_records(
        tmp_path, _sample_records(30, offset=40), FakeEmbedder(), PARAMS, aux=aux, ann=ann
    )
    index = open_index(tmp_path, ann=ann)
    assert index.manifest.ann_built and "dense.hnsw" in index.manifest.files
    assert index.dense_graph is not None and index.aux_graph is not None
    assert len(index.dense_graph) == len(index.aux_graph) == 70
    ingest_records(
        tmp_path, _sample_records(5, offset=70), FakeEmbedder(), PARAMS, aux=aux, ann=ann
    )
    assert len(open_index(tmp_path, ann=ann).dense_graph or []) == 75  # extended
    remove(tmp_path, ["d3", "d4"])
    index = open_index(tmp_path, ann=ann)
    assert index.dense_graph is not None and len(index.dense_graph) == 73  # rebuilt
    query = analyse("兰州的道路建设计划哪年完成？", dictionary)
    vector = FakeEmbedder().embed_query(query.text)
    fast = retrieve(index, vector, query, RetrievalConfig(pool=20), 5)
    slow = retrieve(index, vector, query, RetrievalConfig(exhaustive=True), 5)
    assert [h.chunk.id for h in fast] == [h.chunk.id for h in slow]


def test_an_index_built_with_other_hnsw_parameters_is_refused(tmp_path):
    built = AnnParams(threshold=1, m=16)
    ingest(tmp_path, [SAMPLE], FakeEmbedder(), PARAMS, ann=built)
    loaded = open_index(tmp_path, ann=built)
    assert loaded.manifest.ann == built and loaded.dense_graph is not None
    with pytest.raises(IndexMismatch, match="QA_HNSW_M") as caught:
        open_index(tmp_path, ann=AnnParams(threshold=1, m=32))
    assert "--rebuild" in caught.value.message
    with pytest.raises(IndexMismatch, match="--rebuild"):
        ingest(tmp_path, [SAMPLE], FakeEmbedder(), PARAMS, ann=AnnParams(threshold=1, m=32))
    report = ingest(tmp_path, [SAMPLE], FakeEmbedder(), PARAMS, ann=AnnParams(), rebuild=True)
    assert report.version and open_index(tmp_path, ann=AnnParams()).dense_graph is None
