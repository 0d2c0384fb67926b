"""Evaluation: metrics on hand-made cases, and a smoke run on the public dev sets.

The smoke run (marked e2e) evaluates a few dozen questions against a reduced
pool with the real model and fails if retrieval falls below floors set well
under the measured figures (docs/evaluation.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation import data as eval_data
from evaluation.metrics import answer_body, answer_match, char_f1, gold_rank, normalize
from tests.conftest import ROOT

SHARED_EVAL = ROOT.parent / "shared" / "eval"


def test_normalize_folds_script_width_space_and_punctuation():
    assert normalize("１２ 人，網球！") == normalize("12人网球") == "12人网球"


def test_answer_match_and_groups():
    assert answer_match("据报道，共有12 人死亡[1]", ["12人"])
    assert not answer_match("共有13人死亡", ["12人"])
    assert answer_match("甲和乙都对", [], groups=[["甲", "丙"], ["乙"]])
    assert not answer_match("甲对", [], groups=[["甲"], ["乙"]])


def test_char_f1_and_rank_and_body():
    assert char_f1("网球", ["網球"]) == 1.0
    assert 0 < char_f1("现代网球运动", ["网球"]) < 1
    assert gold_rank(["a", "b", "c"], ["c", "x"]) == 3
    assert gold_rank(["a"], ["z"]) is None
    assert answer_body("Intro:\n句子[1]句子[2]", "Intro:") == "\n句子句子"


def _write_set(folder: Path, name: str, passages: list[dict], questions: list[dict]) -> None:
    with (folder / f"{name}.dev.corpus.jsonl").open("w") as fh:
        fh.writelines(json.dumps(p, ensure_ascii=False) + "\n" for p in passages)
    with (folder / f"{name}.dev.questions.jsonl").open("w") as fh:
        fh.writelines(json.dumps(q, ensure_ascii=False) + "\n" for q in questions)


def test_load_pools_and_deduplicates_and_samples(tmp_path):
    p1 = {"doc_id": "x:1", "title": "甲", "text": "甲文"}
    p2 = {"doc_id": "x:2", "title": "乙", "text": "乙文"}
    q = [
        {"qid": str(i), "question": f"问{i}", "lang": "zh-Hans", "doc_id": "x:1", "answers": ["甲"]}
        for i in range(10)
    ]
    _write_set(tmp_path, "a", [p1, p2], q)
    _write_set(tmp_path, "b", [p1], q[:2])
    data = eval_data.load(tmp_path, limit=3)
    assert [r.doc_id for r in data.records] == ["x:1", "x:2"]
    assert len([x for x in data.questions if x.set_name == "a"]) == 3
    assert eval_data.load(tmp_path, limit=3).questions == data.questions  # seeded
    assert [r.doc_id for r in eval_data.load(tmp_path, pool=1).records] == ["x:1"]
    with pytest.raises(Exception, match="Unknown sets"):
        eval_data.load(tmp_path, sets=["nope"])


def test_chunk_size_ablation_reindexes_per_size_and_reports_each(tmp_path, dictionary):
    """With fakes: one cached index per chunk size, hybrid figures per set and size."""
    from evaluation import evaluate
    from evaluation import report as eval_report
    from qa.settings import Settings
    from tests.fakes import FakeEmbedder

    sentence = "第{}段讲的是{}的历史，它建于{}年，当地人都知道这件事。"
    passages = [
        {
            "doc_id": f"p:{i}",
            "title": f"城市{i}",
            "text": "".join(sentence.format(j, name, 1900 + i * 10 + j) for j in range(12)),
        }
        for i, name in enumerate(["兰州", "西宁", "银川", "拉萨"])
    ]
    questions = [
        {
            "qid": str(i),
            "question": f"{name}的历史是什么？",
            "lang": "zh-Hans",
            "doc_id": f"p:{i}",
            "answers": [name],
        }
        for i, name in enumerate(["兰州", "西宁", "银川", "拉萨"])
    ]
    _write_set(tmp_path, "tiny", passages, questions)
    _write_set(tmp_path, "tiny2", passages[:1], questions[:1])
    settings = Settings(
        index_dir=tmp_path / "unused", crosslingual_encoder="none", llm_base_url=None
    )
    run = evaluate.run(
        settings,
        eval_data.load(tmp_path),
        FakeEmbedder(),
        dictionary,
        cache_dir=tmp_path / "cache",
        unanswerable=2,
        chunk_tokens=(96, settings.chunk_tokens),
    )
    assert len(list((tmp_path / "cache").glob("eval-*"))) == 2  # one index per size
    assert run.chunk_counts[96] > run.chunk_counts[settings.chunk_tokens] == run.chunks
    assert all(r.chunk_ranks[256] == r.ranks["hybrid"] for r in run.results)
    assert all(set(r.ranks) == set(evaluate.MODES) for r in run.results)
    summary = eval_report.summarise(run)
    sizes = summary["chunk_sizes"]
    assert list(sizes) == ["96", "256"]
    assert set(sizes["96"]["sets"]) == {"tiny", "tiny2"}
    assert set(sizes["96"]["all"]) == {"hit@1", "hit@5", "hit@10", "mrr@10"}
    assert sizes["256"]["all"]["hit@10"] == summary["all"]["retrieval"]["hybrid"]["hit@10"]
    text = eval_report.markdown(summary)
    assert "## Chunk size" in text and "| tiny | 96 |" in text and "| all | 256 |" in text
    assert "## Chunk size" not in eval_report.markdown(summary | {"chunk_sizes": {}})
    with pytest.raises(ValueError, match="QA_CHUNK_OVERLAP"):  # overlap 32 needs 65+ tokens
        evaluate.run(
            settings,
            eval_data.load(tmp_path),
            FakeEmbedder(),
            dictionary,
            cache_dir=tmp_path / "cache",
            chunk_tokens=(64,),
        )


@pytest.mark.e2e
@pytest.mark.skipif(not SHARED_EVAL.is_dir(), reason="../shared/eval not beside the repo")
def test_smoke_evaluation_stays_above_floors(tmp_path, dictionary):
    from evaluation import evaluate
    from evaluation import report as eval_report
    from qa.runtime import load_embedder
    from qa.settings import Settings

    settings = Settings(index_dir=tmp_path / "unused")
    data = eval_data.load(SHARED_EVAL, limit=8, pool=300)
    run = evaluate.run(
        settings,
        data,
        load_embedder(settings),
        dictionary,
        cache_dir=tmp_path / "cache",
        unanswerable=20,
    )
    summary = eval_report.write(run, tmp_path / "report", plots=True)
    print(eval_report.markdown(summary))
    assert (tmp_path / "report" / "hit_at_k.png").stat().st_size > 1000
    langs = summary["languages"]
    assert langs["zh-Hans"]["retrieval"]["hybrid"]["hit@5"] >= 0.75
    assert langs["zh-Hant"]["retrieval"]["hybrid"]["hit@5"] >= 0.70
    assert langs["en"]["retrieval"]["hybrid"]["hit@5"] >= 0.35
    assert summary["all"]["answer_match"] >= 0.25
    assert summary["all"]["match_undeclined"] >= summary["all"]["answer_match"]
    assert all(r.match_undeclined or not r.match for r in run.results)
    assert summary["unanswerable"]["declined_unanswerable"] >= 0.2


def test_two_runs_building_the_same_cached_index_at_once_build_it_once(tmp_path):
    """Both see no index; the second waits for the writer lock and finds nothing to do."""
    import threading

    from evaluation import evaluate
    from index.store import versions
    from qa.settings import Settings
    from tests.fakes import FakeEmbedder

    passages = [
        {"doc_id": f"p:{i}", "title": f"题{i}", "text": f"第{i}篇文章的正文。"} for i in range(5)
    ]
    _write_set(tmp_path, "tiny", passages, [])
    data = eval_data.load(tmp_path)
    settings = Settings(index_dir=tmp_path / "unused", crosslingual_encoder="none")
    cache = tmp_path / "cache"
    built = []

    def build() -> None:
        built.append(evaluate.eval_index(settings, data, FakeEmbedder(), cache))

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(built) == 2 and built[0] == built[1]
    assert [p.name for p in (built[0] / "versions").iterdir()] == ["v000001"]
    assert versions.current(built[0]) is not None
