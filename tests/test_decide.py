"""The calibrated decision to decline: its shipped models, their inputs, and where it applies."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

import pytest

from qa.retrieval.decide import INPUTS, Decider, inputs
from qa.retrieval.query import analyse
from qa.retrieval.retrieve import RetrievalConfig, is_relevant


@dataclass(frozen=True)
class _Hit:
    score: float
    dense: float
    coverage: float


def test_the_shipped_models_cover_both_groups_with_known_inputs():
    decider = Decider.load()
    for model in decider.models.values():
        assert set(model.inputs) <= set(INPUTS)
        assert "top" not in model.inputs  # z-scores grow with the index: not size-independent
        assert 0 < model.threshold < 1


def test_a_model_with_unknown_inputs_or_a_missing_group_is_refused(tmp_path):
    body = {"inputs": ["cosine", "luck"], "mean": [0, 0], "scale": [1, 1], "coef": [1, 1]}
    body |= {"intercept": 0, "threshold": 0.5}
    path = tmp_path / "decline.json"
    path.write_text(json.dumps({"models": {"zh": body, "en": body}}))
    with pytest.raises(ValueError, match="luck"):
        Decider.load(path)
    path.write_text(json.dumps({"models": {"zh": body | {"inputs": ["cosine", "coverage"]}}}))
    with pytest.raises(ValueError, match="zh and en"):
        Decider.load(path)


def test_inputs_describe_the_best_hit_and_its_lead():
    values = inputs([_Hit(3.0, 0.80, 0.2), _Hit(1.0, 0.85, 0.6)])
    assert values["margin"] == 2.0 and values["cosine_margin"] == pytest.approx(-0.05)
    assert values["cosine"] == 0.85 and values["coverage"] == 0.6
    assert values["dense_agrees"] == 0.0 and values["keyword_agrees"] == 0.0


def test_evidence_in_the_passages_raises_the_probability_of_answering(dictionary):
    decider = Decider.load()
    for question in ("兰州市委的决定要求什么?", "What does the Lanzhou decision require?"):
        query = analyse(question, dictionary)
        weak = [_Hit(1.0, 0.70, 0.0), _Hit(0.9, 0.69, 0.0)]
        strong = [_Hit(1.0, 0.93, 0.9), _Hit(0.9, 0.80, 0.1)]
        assert decider.probability(strong, query) > decider.probability(weak, query)
        assert decider.answers(strong, query) and not decider.answers(weak, query)
        assert not decider.answers([], query)


def test_is_relevant_uses_the_decider_when_configured(dictionary):
    query = analyse("兰州市委的决定要求什么?", dictionary)
    hits = [_Hit(1.0, 0.91, 0.0)]  # passes the old cosine threshold alone
    assert is_relevant(hits, query, RetrievalConfig())  # type: ignore[arg-type]
    shipped = Decider.load()
    never = Decider({g: replace(m, threshold=1.01) for g, m in shipped.models.items()})
    with_model = replace(RetrievalConfig(), decider=never)
    assert not is_relevant(hits, query, with_model)  # type: ignore[arg-type]
