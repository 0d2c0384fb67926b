"""Citation checking: markers, support across languages, corrections, flags, streaming."""

from __future__ import annotations

import pytest

from index.store.loader import open_index
from qa.answer import Citation
from qa.answering.prompting import passage_citation
from qa.citations.markers import parse, render, stable_end, strip_markers
from qa.citations.support import SupportScorer, _chinese_values, lexical_overlap
from qa.citations.verify import Checked, Verifier
from qa.language import detect
from qa.retrieval.retrieve import Hit
from tests.fakes import FakeEmbedder
from tests.llm_fakes import LANZHOU

PLENARY = f"{LANZHOU}#0"  # the plenary session adopted the decision
PROJECTS = f"{LANZHOU}#1"  # the decision's four projects
COMMUNITY = "000_5a7cdd35e9c45502#1"  # community Party organisations, another article
S_PLENARY = "兰州市第十四届委员会第八次全体会议审议通过了关于推进基层党组织全面进步全面过硬的决定。"
S_PROJECTS = (
    "全市要深入实施党的基层组织建设三年行动计划，抓实抓好“细胞工程”“头雁工程”“先锋工程”“强基工程”。"
)
FAKE = "兰州市委决定在全市新建十座机场并取消所有社区党组织。"


@pytest.fixture(scope="module")
def index(fake_index_dir):
    return open_index(fake_index_dir)


@pytest.fixture
def embedder():
    return FakeEmbedder()


@pytest.fixture
def verifier(index, embedder, dictionary):
    return Verifier(SupportScorer(index, embedder, dictionary), index)


def cite(index, *chunk_ids: str) -> list[Citation]:
    out = []
    for n, chunk_id in enumerate(chunk_ids, 1):
        chunk = next(c for c in index.chunks.values() if c.chunk_id == chunk_id)
        out.append(passage_citation(n, Hit(chunk, index.documents[chunk.doc_id], 0.5, 0.9, 0.5)))
    return out


def check(verifier, citations, text, language="zh-Hans", pieces=0, general=False) -> Checked:
    session = verifier.session(citations, language, check=True, general=general)
    if pieces:
        for i in range(0, len(text), pieces):
            session.feed(text[i : i + pieces])
    else:
        session.feed(text)
    return session.result()


def assert_citations_honest(index, checked: Checked) -> None:
    numbers = {int(n) for n in __import__("re").findall(r"\[(\d+)\]", checked.text)}
    assert numbers == {c.n for c in checked.citations}
    for c in checked.citations:
        text = index.texts[c.doc_id]
        assert text[c.start : c.end] == c.quote
        assert text[c.passage_start : c.passage_end] == c.passage
        assert c.highlights and all(c.start <= s < e <= c.end for s, e in c.highlights)


# markers ---------------------------------------------------------------------------------


def test_markers_attach_to_the_sentence_before_them():
    claims = parse("甲乙丙丁。[1]戊己庚[2]。辛壬癸。")
    assert [(c.text, c.numbers) for c in claims] == [
        ("甲乙丙丁。", (1,)),
        ("戊己庚", (2,)),
        ("。", ()),
        ("辛壬癸。", ()),
    ]


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("It says X [1]. And Y [2][3].", "It says X[1]. And Y[2][3]."),
        ("X [1, 3].", "X[1][3]."),
        ("X [1-3].", "X[1][2][3]."),
        ("甲乙［1］丙丁【2】。", "甲乙[1]丙丁[2]。"),
        ("甲。\n[1]乙", "甲。[1]\n乙"),
        ("In 2021 [no marker] it was 3.5 [1].", "In 2021 [no marker] it was 3.5[1]."),
    ],
)
def test_marker_spellings_are_normalised(text, normalised):
    assert render(parse(text)) == normalised
    assert strip_markers(normalised).count("[") == normalised.count("[no")


@pytest.mark.parametrize(
    ("text", "stable"),
    [
        ("甲。[1]", 0),  # a marker group may still grow
        ("甲。[1]乙", 5),
        ("甲。[1", 0),  # a half-written marker
        ("A. B", 3),
        ("A.", 0),
        ("甲。\n\n[1]乙", 7),
    ],
)
def test_stable_end_waits_for_the_next_sentence(text, stable):
    assert stable_end(text) == stable


# support ---------------------------------------------------------------------------------


def test_chinese_numerals_are_read_for_the_number_check():
    assert 14 in _chinese_values("十四")
    assert 2024 in _chinese_values("二〇二四")
    assert 1200 in _chinese_values("一千二百")
    assert 20000 in _chinese_values("两万")


def test_latin_names_match_the_passage_pinyin(index, embedder, dictionary):
    scorer = SupportScorer(index, embedder, dictionary)
    village = next(c for c in index.chunks.values() if "郝家桥" in c.text)
    profile = scorer.profile("Haojiaqiao Haojiaqiao Haojiaqiao")
    assert lexical_overlap(profile, village.text) == 1.0
    assert lexical_overlap(profile, "兰州市委的决定") == 0.0


def test_english_claims_are_measured_through_the_dictionary(index, verifier):
    citations = cite(index, COMMUNITY, PLENARY)
    text = "The plenary session of the Lanzhou municipal committee adopted a decision [1]."
    checked = check(verifier, citations, text, language="en")
    assert checked.text.endswith("decision[2].")
    assert checked.verification.corrected == 1


# corrections and flags -------------------------------------------------------------------


def test_wrong_numbers_are_corrected_and_unsupported_sentences_flagged(index, verifier):
    citations = cite(index, PLENARY, PROJECTS)
    checked = check(verifier, citations, f"{S_PROJECTS}[1]{S_PLENARY}[2]{FAKE}[1]")
    assert checked.text == f"{S_PROJECTS}[2]{S_PLENARY}[1]{FAKE}"
    v = checked.verification
    assert (v.checked, v.corrected, v.removed) == (3, 2, 1)
    [flag] = v.unsupported
    assert flag.reason == "unsupported" and flag.text == FAKE
    assert checked.text[flag.start : flag.end] == FAKE
    assert_citations_honest(index, checked)


def test_a_number_that_names_no_passage_is_replaced_or_removed(index, verifier):
    citations = cite(index, PLENARY)
    checked = check(verifier, citations, f"{S_PLENARY}[9]{FAKE}[7]")
    assert checked.text == f"{S_PLENARY}[1]{FAKE}"
    v = checked.verification
    assert (v.checked, v.corrected, v.removed, len(v.unsupported)) == (2, 1, 1, 1)


def test_only_the_supporting_one_of_several_numbers_stays(index, verifier):
    checked = check(verifier, cite(index, PLENARY, PROJECTS), f"{S_PLENARY}[1][2]")
    assert checked.text == f"{S_PLENARY}[1]"
    assert (checked.verification.removed, checked.verification.corrected) == (1, 0)


def test_a_number_missing_from_the_passage_makes_a_claim_unsupported(index, verifier):
    claim = "兰州市第十四届委员会第八次全体会议于2030年审议通过了关于推进基层党组织全面进步的决定。"
    checked = check(verifier, cite(index, PLENARY), f"{claim}[1]")
    assert checked.text == claim and checked.verification.unsupported


def test_uncited_sentences_are_flagged_unless_exempt(index, verifier):
    text = f"根据文章：\n{S_PLENARY}[1]\n兰州将建设十座机场。\n这些文章中没有这个问题的答案。"
    checked = check(verifier, cite(index, PLENARY), text)
    [flag] = checked.verification.unsupported
    assert flag.reason == "uncited" and flag.text == "兰州将建设十座机场。"
    assert checked.text[flag.start : flag.end] == flag.text


def test_claims_too_short_to_measure_keep_valid_numbers(index, verifier):
    checked = check(verifier, cite(index, PLENARY), "是的[1][4]。")
    assert checked.text == "是的[1]。"
    assert (checked.verification.removed, checked.verification.unsupported) == (1, ())


def test_general_knowledge_after_the_heading_is_not_flagged(index, verifier):
    text = f"{S_PLENARY}[1]\n一般知识（并非出自文章）：\n兰州是甘肃省的省会，位于黄河上游。"
    checked = check(verifier, cite(index, PLENARY), text, general=True)
    assert checked.general_knowledge and checked.verification.unsupported == ()
    strict = check(verifier, cite(index, PLENARY), text)  # the heading means nothing here
    assert not strict.general_knowledge
    assert [f.text for f in strict.verification.unsupported] == [
        "兰州是甘肃省的省会，位于黄河上游。"
    ]


def test_simplified_output_to_a_traditional_question_is_converted(index, verifier):
    checked = check(verifier, cite(index, PLENARY), f"{S_PLENARY}[1]", language="zh-Hant")
    assert detect(checked.text) == "zh-Hant"
    assert "會議審議通過" in checked.text and checked.text.endswith("[1]")
    assert checked.verification.removed == 0


def test_citations_are_narrowed_to_the_sentences_their_claims_rest_on(index, verifier):
    checked = check(verifier, cite(index, PROJECTS), f"{S_PROJECTS}[1]")
    [citation] = checked.citations
    assert "细胞工程" in citation.quote and len(citation.highlights) == 1
    assert_citations_honest(index, checked)


def test_streamed_checking_matches_checking_at_once(index, embedder, dictionary):
    text = f"{S_PROJECTS}[1]{S_PLENARY}[2]\n{FAKE}[1] 兰州将建设十座机场。[2]"
    citations = cite(index, PLENARY, PROJECTS)
    whole = check(Verifier(SupportScorer(index, embedder, dictionary), index), citations, text)
    for size in (1, 3, 17):
        verifier = Verifier(SupportScorer(index, embedder, dictionary), index)
        assert check(verifier, citations, text, pieces=size) == whole


def test_an_answer_is_embedded_in_one_batch(index, dictionary):
    embedder = FakeEmbedder()
    verifier = Verifier(SupportScorer(index, embedder, dictionary), index)
    text = "The session adopted a decision [1]. It requires four projects [2]. Also airports [1]."
    check(verifier, cite(index, PLENARY, PROJECTS), text, language="en")
    assert embedder.calls <= 1


def test_extractive_drafts_pass_through_unchecked(index, verifier):
    citations = cite(index, PLENARY)
    session = verifier.session(citations, "zh-Hans", check=False)
    assert session.feed(f"{FAKE}[1]") == f"{FAKE}[1]"
    result = session.result()
    assert result.text == f"{FAKE}[1]" and result.verification is None
    assert result.citations == citations
