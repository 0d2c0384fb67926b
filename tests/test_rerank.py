"""The English reranker: its shipped model, its features, and where retrieval applies it."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from index.store.loader import open_index
from qa.retrieval.query import analyse
from qa.retrieval.rerank import FEATURES, Reranker, features
from qa.retrieval.retrieve import RetrievalConfig, first_stage, retrieve
from tests.fakes import FakeEmbedder

QUESTION = "What does the Lanzhou decision require in 2023?"


def test_the_shipped_model_uses_known_features(dictionary):
    reranker = Reranker.load(dictionary.glosses)
    assert set(reranker.features) <= set(FEATURES)
    assert len(reranker.coef) == len(reranker.mean) == len(reranker.scale) == len(reranker.features)
    assert reranker.candidates >= 10 and np.all(reranker.scale > 0)


def test_a_model_with_unknown_features_is_refused(tmp_path, dictionary):
    path = tmp_path / "model.json"
    body = {"features": ["dense", "magic"], "mean": [0, 0], "scale": [1, 1], "coef": [1, 1]}
    path.write_text(json.dumps(body | {"intercept": 0, "candidates": 5}))
    with pytest.raises(ValueError, match="magic"):
        Reranker.load(dictionary.glosses, path)


def test_reverse_glosses_map_chinese_words_to_english_stems(dictionary):
    assert "decision" in dictionary.glosses["决定"]
    assert dictionary.translate("contributes")[0] == dictionary.translate("contribute")[0]


def test_features_match_glosses_numbers_and_latin_words(fake_index_dir, dictionary):
    index = open_index(fake_index_dir)
    query = analyse(QUESTION, dictionary)
    vector = FakeEmbedder().embed_query(QUESTION)
    found = first_stage(index, vector, None, query, RetrievalConfig(), frozenset(), 20)
    table = features(index, query, found, dictionary.glosses)
    assert set(table) == set(FEATURES)
    assert all(len(v) == len(found.ids) for v in table.values())
    chunks = [index.chunks[int(c)] for c in found.ids]
    with_decision = np.array(["决定" in c.terms for c in chunks])
    assert with_decision.any() and (~with_decision).any()
    assert table["glossed"][with_decision].min() > table["glossed"][~with_decision].max()
    has_year = np.array(["2023" in c.text for c in chunks])
    assert np.array_equal(table["numbers"] == 1.0, has_year)
    assert np.all(table["latin"] == 0)  # "Lanzhou" is written 兰州 in the articles
    assert np.all(table["aux"] == 0)  # no cross-lingual vectors in this index


def _reversing(dictionary) -> Reranker:
    """A model that ranks the first stage's candidates in reverse."""
    one = np.ones(1)
    return Reranker(("rank",), 0 * one, one, -one, 0.0, 8, dictionary.glosses)


def test_english_questions_are_reranked_and_chinese_ones_are_not(fake_index_dir, dictionary):
    index = open_index(fake_index_dir)
    config = RetrievalConfig(max_per_doc=99)
    reranked = replace(config, reranker=_reversing(dictionary))
    for question, changes in ((QUESTION, True), ("兰州市委的决定要求什么?", False)):
        query = analyse(question, dictionary)
        vector = FakeEmbedder().embed_query(question)
        plain = [h.chunk.id for h in retrieve(index, vector, query, config, 8)]
        other = [h.chunk.id for h in retrieve(index, vector, query, reranked, 8)]
        assert (other == plain[::-1]) is changes and (other == plain) is not changes
