"""Exact extractive answers: question types, typed spans, and the answer that leads with one."""

from __future__ import annotations

import re

import pytest

from evaluation.metrics import answer_body, short_answer
from index.build import ingest_records
from index.store.loader import open_index
from index.store.manifest import ChunkParams
from index.text.sources import Record
from prompts import message
from qa.answering.answer_type import classify
from qa.answering.extractive import ExtractiveGenerator
from qa.answering.spans import best_span, candidates
from qa.retrieval.query import analyse
from qa.retrieval.retrieve import RetrievalConfig, retrieve
from tests.fakes import FakeEmbedder

AIRPORT = (
    "兰州新机场位于兰州市以北的永登县，距市中心约七十公里。"
    "新机场于1998年正式建成通航，总投资约11.42亿元。"
    "机场的首任总经理是张建国，他在任期间推动了三次扩建。"
    "目前机场每天起降航班超过三百架次，旅客吞吐量逐年增长。"
)
ROADS = (
    "西宁市计划于2020年完成城市道路改造，全长约四十公里。"
    "改造工程由市交通局负责实施，预计惠及沿线居民。"
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who won the Ekstraklasa Championship in 2000?", "person"),
        ("When was Sky Digital launched?", "time"),
        ("In what year did the theatre close?", "time"),
        ("Where is Polonia's home venue located?", "place"),
        ("How many times has Polonia won the cup?", "number"),
        ("What was Warsaw's population in 1901?", "number"),
        ("What is the Saxon Garden in Polish?", "other"),
        ("艾尔多安的配偶是谁？", "person"),
        ("亚达夫什么时候投入“人民运动”？", "time"),
        ("大莱龙铁路位于哪里？", "place"),
        ("大莱龙铁路一共投资多少亿元？", "number"),
        ("该队赢得过几次冠军？", "number"),
        ("掌球戲是流行於哪一時期的遊戲？", "time"),
        ("誰在網球比賽中擁有最終仲裁權？", "person"),
        ("溫網在哪個城市舉行？", "place"),
        ("他几乎没有什么爱好吗？", "other"),
        ("什么宗教的信徒最多？", "other"),
    ],
)
def test_questions_are_typed_in_english_and_both_scripts(question, kind):
    assert classify(question) == kind


def spans_of(sentence: str, kind) -> list[str]:
    return [sentence[s:e] for s, e in candidates(sentence, kind)]


def test_typed_candidates_are_dates_numbers_with_units_names_and_places():
    assert spans_of("而后于1990年代他投身“人民运动”，1961年7月成立委员会。", "time") == [
        "1990年代",
        "1961年7月",
    ]
    assert spans_of("夏季剧院在1870 年到 1939 年间运营。", "time") == ["1870 年到 1939 年"]
    assert spans_of("溫網於1877年7月9日開賽。", "time") == ["1877年7月9日"]
    # a year is a date, not a quantity; a number keeps its magnitude and measure word
    assert spans_of("1911年人口711,988人，占15%，面积127平方公里，赢过两次。", "number") == [
        "711,988人",
        "15%",
        "127平方公里",
        "两次",
    ]
    assert "埃米内·居尔巴兰" in spans_of("艾尔多安的配偶是埃米内·居尔巴兰。", "person")
    assert "Emine Gülbaran" in spans_of("他的配偶是 Emine Gülbaran。", "person")
    assert "永登县" in spans_of("兰州新机场位于兰州市以北的永登县。", "place")
    assert spans_of("这是一个句子。", "other") == []


def test_the_span_is_the_candidate_nearest_the_keywords_and_not_in_the_question():
    sentence = "面积127平方公里，人口8.57万。"
    start, end = best_span(sentence, "number", "王江泾镇有多少人口？", ["人口", "王江泾"]) or (0, 0)
    assert sentence[start:end] == "8.57万"
    # the question's own year is not its answer
    sentence = "1901年华沙人口为711,988人。"
    found = best_span(sentence, "number", "What was Warsaw's population in 1901?", ["人口"])
    assert found and sentence[found[0] : found[1]] == "711,988人"
    assert best_span("2000年他们夺冠。", "time", "Who won in 2000?", ["夺冠"]) is None


@pytest.fixture(scope="module")
def airport(tmp_path_factory):
    directory = tmp_path_factory.mktemp("airport")
    records = [Record("a1", "兰州新机场", AIRPORT), Record("b2", "西宁城市道路", ROADS)]
    ingest_records(directory, records, FakeEmbedder(), ChunkParams(256, 32))
    return open_index(directory)


def ask(index, dictionary, question: str):
    query = analyse(question, dictionary)
    hits = retrieve(index, FakeEmbedder().embed_query(question), query, RetrievalConfig(), 3)
    return query, ExtractiveGenerator(index).generate(query, hits)


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("兰州新机场是哪一年建成通航的？", "1998年"),
        ("蘭州新機場總投資多少？", "11.42亿元"),  # traditional question, simplified article
        ("兰州新机场位于哪里？", "永登县"),
        ("When did the new Lanzhou airport open?", "1998年"),
        ("Who was the first general manager of the airport?", "张建国"),
        ("How many flights does the airport have each day?", "三百架次"),
    ],
)
def test_a_typed_question_is_answered_by_its_phrase_first_then_the_quoted_sentences(
    airport, dictionary, question, phrase
):
    query, draft = ask(airport, dictionary, question)
    stop = "." if query.language == "en" else "。"
    first, _, rest = draft.text.partition("\n")
    assert first == f"{phrase}{stop}"
    intro = message("extractive_intro", query.language)
    assert short_answer(draft.text, intro) == first
    assert not intro or intro not in answer_body(draft.text, intro)
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", rest)}
    assert numbers == {c.n for c in draft.citations}  # markers still point at citations
    text = airport.texts["a1"]
    exact = []
    for c in draft.citations:
        doc = airport.texts[c.doc_id]
        assert doc[c.start : c.end] == c.quote
        for s, e in c.highlights:
            assert c.start <= s < e <= c.end
            inside = [(S, E) for S, E in c.highlights if s >= S and e <= E and e - s < E - S]
            if inside:
                exact.append(doc[s:e])
                assert all(doc[S:E] in rest for S, E in inside)  # its sentence is quoted
    assert exact == [phrase] and phrase in text


def test_quotes_stay_verbatim_with_a_phrase(airport, dictionary):
    _, draft = ask(airport, dictionary, "兰州新机场是哪一年建成通航的？")
    body = draft.text.partition("\n")[2]
    for c in draft.citations:
        for s, e in c.highlights:
            assert airport.texts[c.doc_id][s:e] in body


def test_an_untyped_question_falls_back_to_sentences(airport, dictionary):
    _, draft = ask(airport, dictionary, "兰州新机场有什么特点？")
    assert "\n" not in draft.text and draft.text.endswith("]")
    for c in draft.citations:
        assert all(
            not any(s >= S and e <= E and e - s < E - S for S, E in c.highlights)
            for s, e in c.highlights
        )
        sentences = [airport.texts[c.doc_id][s:e] for s, e in c.highlights]
        assert all(x.endswith("。") for x in sentences)
    assert short_answer(draft.text) == answer_body(draft.text)
