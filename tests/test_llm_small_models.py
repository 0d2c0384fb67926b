"""What a real small model (Qwen2.5-Coder-1.5B on two cores) broke, replayed by scripted models.

Each test scripts a reply the real model wrote (``qa eval --llm``, docs/llm.md "What a
small model gets wrong"): answers with no citation marker at all, one-phrase answers, a
traditional question over simplified articles that it declined, marker spellings other
than ``[n]``, and declines in its own words.
"""

from __future__ import annotations

import pytest

from qa.answering.prompting import AnswerPrompt
from qa.language import detect
from tests.llm_fakes import LANZHOU, llm_service, passage_numbers, recording, scripted, sentence_of

QUESTION = "兰州市委的决定要求什么?"
PLENARY = f"{LANZHOU}#0"
DECLINE = "这些文章中没有这个问题的答案。"


@pytest.fixture
def make(fake_index_dir, dictionary):
    def build(chat_model, **settings):
        return llm_service(fake_index_dir, dictionary, chat_model, **settings)

    return build


def test_an_answer_without_markers_gets_the_passage_that_supports_it(make):
    service = make(scripted("unused"))
    plenary = sentence_of(service, PLENARY)
    number = passage_numbers(service, QUESTION)[PLENARY]
    answer = make(scripted(plenary)).ask(QUESTION)
    assert answer.mode == "llm" and not answer.declined
    assert answer.text == f"{plenary}[{number}]"
    assert [c.chunk_id for c in answer.citations] == [PLENARY]
    v = answer.verification
    assert (v.checked, v.corrected, v.removed, v.unsupported) == (1, 1, 0, ())


def test_an_unsupported_answer_without_markers_stays_uncited_and_flagged(make):
    answer = make(scripted("兰州市委决定在全市新建十座机场并取消所有社区党组织。")).ask(QUESTION)
    assert answer.citations == [] and answer.verification.unsupported[0].reason == "uncited"


def test_a_short_answer_quoted_from_a_passage_cites_it(make):
    service = make(scripted("unused"))
    number = passage_numbers(service, QUESTION)[PLENARY]
    answer = make(scripted("第八次全体会议")).ask(QUESTION)
    assert answer.text == f"第八次全体会议[{number}]"
    assert answer.citations[0].doc_id == LANZHOU


def test_a_traditional_question_over_simplified_passages_is_asked_in_simplified(make):
    model = recording("unused")
    service = make(model)
    plenary = sentence_of(service, PLENARY)
    number = passage_numbers(service, QUESTION)[PLENARY]
    model = recording(f"{plenary}[{number}]")
    answer = make(model).ask("蘭州市委的決定要求什麼?")
    system, user = (m.content for m in model.seen[0])
    assert "Simplified Chinese" in system and DECLINE in system
    assert user.rstrip().endswith("Question: 兰州市委的决定要求什么?")
    assert answer.language == "zh-Hant" and detect(answer.text) == "zh-Hant"
    assert answer.citations and not answer.declined


def test_the_working_language_follows_the_passages_script(make):
    service = make(scripted("unused"))
    query, hits, _ = service.search(service.understand("What does Lanzhou require?", []), None)
    messages, _ = AnswerPrompt().build(query, hits)
    assert "Write the whole answer in English" in messages[0].content


@pytest.mark.parametrize("reply", ["[1][3]", "【2】。", " [1] [2] "])
def test_a_reply_of_only_markers_falls_back_to_the_extractive_answer(make, reply):
    answer = make(scripted(reply)).ask(QUESTION)
    assert answer.mode == "extractive" and answer.notices[-1].code == "llm_unavailable"
    streamed = list(make(scripted(reply)).stream(QUESTION))[-1].answer
    assert streamed.mode == "extractive" and streamed.citations


def test_a_bare_number_is_an_answer(make):
    answer = make(scripted("8[1]")).ask(QUESTION)
    assert answer.mode == "llm" and answer.text.startswith("8")
