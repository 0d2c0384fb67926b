"""``qa eval --llm``: one question measured with a scripted model, and the report's figures."""

from __future__ import annotations

import json

import pytest

from evaluation import llm_report
from evaluation.data import EvalQuestion
from evaluation.llm_eval import RecordingGenerator, drifted, measure
from qa.answer import GenerationError
from tests.llm_fakes import LANZHOU, broken, llm_service, passage_numbers, scripted, sentence_of

QUESTION = "兰州市委的决定要求什么?"
PLENARY = f"{LANZHOU}#0"


def question(text: str = QUESTION, gold: str = LANZHOU, answers=("全面过硬",)) -> EvalQuestion:
    return EvalQuestion("q1", "sample", text, "zh", (gold,), tuple(answers))


@pytest.fixture
def make(fake_index_dir, dictionary):
    def build(chat_model):
        service = llm_service(fake_index_dir, dictionary, chat_model)
        recorder = RecordingGenerator(service.generator)
        service.generator = recorder
        baseline = llm_service(fake_index_dir, dictionary, None)
        return service, recorder, baseline

    return build


def test_a_cited_answer_is_measured(make):
    service, _, _ = make(scripted("unused"))
    plenary = sentence_of(service, PLENARY)
    wrong = passage_numbers(service, QUESTION)[PLENARY] % 5 + 1
    service, recorder, baseline = make(scripted(f"{plenary}【{wrong}】"))
    r = measure(service, recorder, baseline, question(answers=("全面进步全面过硬",)))
    assert r.asked and not r.declined and not r.fallback and r.match
    assert r.citations == r.gold_citations == 1
    assert r.raw_markers == 1 and r.formats == {"【n】/［n］": 1}
    assert r.checked == 1 and r.corrected + r.removed <= 1
    assert r.prompt_tokens and r.prompt_tokens > 100 and r.passages >= 2
    assert r.ttft_ms is not None and r.model_ttft_ms is not None and r.ttft_ms >= r.model_ttft_ms
    assert not r.drift and not r.raw_drift and r.raw == f"{plenary}【{wrong}】"


def test_a_failing_model_counts_as_a_fallback_without_timings(make):
    service, recorder, baseline = make(broken(GenerationError("refused")))
    r = measure(service, recorder, baseline, question())
    assert r.asked and r.fallback and r.ttft_ms is None and "llm_unavailable" in r.notices


def test_an_english_reply_to_a_chinese_question_is_drift():
    assert drifted("The decision requires progress.", QUESTION)
    assert not drifted("兰州要求全面过硬。", QUESTION)
    assert not drifted("Lanzhou 要求全面过硬。", QUESTION)
    assert drifted("兰州要求全面过硬。", "What does Lanzhou require?")


def test_the_report_has_a_row_per_set_and_the_questions(make, tmp_path):
    service, recorder, baseline = make(scripted("第八次全体会议", "这些文章中没有这个问题的答案。"))
    results = [
        measure(service, recorder, baseline, question(answers=("第八次",))),
        measure(service, recorder, baseline, question()),
    ]
    summary = llm_report.write(results, tmp_path)
    g = summary["all"]
    assert (g["n"], g["asked"], g["match"], g["declined"], g["llm_declined"]) == (2, 2, 0.5, 0.5, 1)
    assert g["citation_precision"] == 1.0 and g["no_markers"] == 1
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## LLM answers" in markdown and "| sample |" in markdown and "| all |" in markdown
    payload = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert len(payload["questions"]) == 2 and payload["llm"]["sets"]["sample"]["n"] == 2
