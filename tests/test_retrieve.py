"""Retrieval logic with fakes: fusion arithmetic, routing by language, exclusion, relevance."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from index.build import ingest
from index.store.loader import open_index
from index.store.manifest import ChunkParams
from qa.retrieval.fusion import rrf, zscore
from qa.retrieval.query import analyse
from qa.retrieval.retrieve import RetrievalConfig, is_relevant, retrieve
from tests.conftest import SAMPLE
from tests.fakes import FakeEmbedder

LANZHOU = "004_7c2c5349670b6628"


def test_rrf_weights_and_ranks():
    fused = rrf([(1.0, [1, 2, 3]), (0.5, [3, 1])], k=60)
    assert fused[1] == pytest.approx(1 / 61 + 0.5 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 0.5 / 61)
    assert max(fused, key=fused.__getitem__) == 1


def test_zscore_standardises_each_list():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([10.0, 10.0, 40.0])  # larger spread must not dominate
    fused = zscore([(1.0, a), (1.0, b)])
    assert fused.mean() == pytest.approx(0.0)
    np.testing.assert_allclose(zscore([(2.0, a)]), 2 * (a - a.mean()) / a.std())
    assert np.all(zscore([(1.0, np.ones(3))]) == 0)  # a flat list adds nothing


@pytest.fixture(scope="module")
def aux_index(tmp_path_factory):
    directory = tmp_path_factory.mktemp("aux-index")
    aux = FakeEmbedder(dimension=32, model_id="fake-aux")
    report = ingest(directory, [SAMPLE], FakeEmbedder(), ChunkParams(256, 32), aux=aux)
    assert not report.failed
    return open_index(directory), aux


def test_chinese_question_finds_lanzhou_and_exclusion_hides_it(fake_index_dir, dictionary):
    index = open_index(fake_index_dir)
    query = analyse("兰州市委的决定要求什么?", dictionary)
    vector = FakeEmbedder().embed_query(query.text)
    hits = retrieve(index, vector, query, RetrievalConfig(), 5)
    assert hits[0].chunk.doc_id == LANZHOU
    assert hits[0].coverage > 0.5 and -1 <= hits[0].dense <= 1
    hidden = retrieve(index, vector, query, RetrievalConfig(), 5, frozenset({LANZHOU}))
    assert hidden and all(h.chunk.doc_id != LANZHOU for h in hidden)


def test_ablation_modes_use_one_retriever(fake_index_dir, dictionary):
    index = open_index(fake_index_dir)
    query = analyse("细胞工程", dictionary)
    vector = FakeEmbedder().embed_query(query.text)
    keyword = retrieve(index, vector, query, RetrievalConfig(mode="keyword"), 3)
    assert "细胞工程" in keyword[0].chunk.text
    assert all(any(t in h.chunk.terms for t in ("细胞", "工程")) for h in keyword)
    dense = retrieve(index, vector, query, RetrievalConfig(mode="dense", max_per_doc=99), 3)
    assert [h.chunk.id for h in dense] == [c for c, _ in index.dense.search(vector, 3)]


def test_chinese_questions_fuse_dense_and_keyword_scores_by_zscore(fake_index_dir, dictionary):
    index = open_index(fake_index_dir)
    query = analyse("细胞工程和头雁工程", dictionary)
    vector = FakeEmbedder().embed_query(query.text)
    config = RetrievalConfig(max_per_doc=99)
    hits = retrieve(index, vector, query, config, 5)
    ids, dense = index.dense.all_scores(vector)
    assert np.array_equal(ids, index.bm25.ids)
    expected = zscore([(1.0, dense), (0.2, index.bm25.scores(query.flat_terms()))])
    best = np.argsort(-expected)[:5]
    assert [h.chunk.id for h in hits] == [int(ids[i]) for i in best]
    assert [h.score for h in hits] == pytest.approx([float(expected[i]) for i in best])
    by_keywords = retrieve(index, vector, query, replace(config, keyword_weight=100.0), 1)
    assert by_keywords[0].chunk.id == index.bm25.search(query.flat_terms(), 1)[0][0]
    ranked = retrieve(index, vector, query, replace(config, fusion="rrf"), 5)
    assert all(0 < h.score <= 2 / (config.rrf_k + 1) for h in ranked)  # rank fusion's scale


def test_english_questions_fuse_translation_and_cross_lingual_vectors(aux_index, dictionary):
    index, aux = aux_index
    assert index.aux is not None and index.manifest.aux_model_id == "fake-aux"
    query = analyse("What does the Lanzhou decision require?", dictionary)
    assert query.translated and "兰州" in query.flat_terms()
    vector = FakeEmbedder().embed_query(query.text)
    with_aux = retrieve(
        index, vector, query, RetrievalConfig(), 5, aux_vector=aux.embed_query(query.text)
    )
    keyword_only = RetrievalConfig(aux_weight=0.0, translated_keyword_weight=5.0)
    by_keywords = retrieve(index, vector, query, keyword_only, 5)
    assert by_keywords[0].chunk.doc_id == LANZHOU  # the translation finds 兰州
    assert len(with_aux) == 5 and len({h.chunk.id for h in with_aux}) == 5
    assert [h.score for h in with_aux] == sorted((h.score for h in with_aux), reverse=True)


def test_relevance_uses_cosine_or_keyword_coverage(fake_index_dir, dictionary):
    index = open_index(fake_index_dir)
    query = analyse("兰州市委的决定要求什么?", dictionary)
    hits = retrieve(index, FakeEmbedder().embed_query(query.text), query, RetrievalConfig(), 3)
    strict = RetrievalConfig(min_dense_score=1.01, min_keyword_coverage=1.01)
    assert not is_relevant(hits, query, strict)
    assert is_relevant(hits, query, replace(strict, min_keyword_coverage=0.5))
    assert is_relevant(hits, query, replace(strict, min_dense_score=-1.0))
    assert not is_relevant([], query, RetrievalConfig())


def test_one_chunk_per_article_by_default(fake_index_dir, dictionary):
    index = open_index(fake_index_dir)
    query = analyse("基层党组织建设", dictionary)
    vector = FakeEmbedder().embed_query(query.text)
    diverse = retrieve(index, vector, query, RetrievalConfig(), 5)
    assert len({h.chunk.doc_id for h in diverse}) == len(diverse) == 5
    crowded = retrieve(index, vector, query, RetrievalConfig(max_per_doc=99), 5)
    assert len({h.chunk.doc_id for h in crowded}) < 5
