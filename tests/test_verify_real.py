"""Citation support with the real embedding model, on hand-labelled claims.

``tests/data/support_claims.json`` holds claims about passages of the sample
articles — verbatim, paraphrased, traditional-script and English ones that the
passage supports, and fabricated ones it does not — split into the set the
weights and thresholds of ``qa.citations.support`` were calibrated on and a held-out set
written afterwards.  Also measures what checking costs per answer.
"""

from __future__ import annotations

import json
import time

import pytest

from qa.answering.prompting import passage_citation
from qa.citations.support import SupportScorer
from qa.retrieval.retrieve import Hit
from tests.conftest import ROOT, SAMPLE

pytestmark = pytest.mark.e2e
CLAIMS = json.loads((ROOT / "tests" / "data" / "support_claims.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def real(tmp_path_factory, dictionary):
    from index.build import ingest
    from qa.runtime import build_service, load_embedder
    from qa.settings import Settings

    # Several chunks per article: the answers below cite three passages of the Lanzhou article.
    settings = Settings(index_dir=tmp_path_factory.mktemp("support-index"), max_chunks_per_doc=5)
    embedder = load_embedder(settings)
    ingest(settings.index_dir, [SAMPLE], embedder, settings.chunk_params)
    return build_service(settings, embedder=embedder, dictionary=dictionary)


def verdicts(service, claims):
    scorer: SupportScorer = service.verifier.scorer
    by_id = {c.chunk_id: c for c in service.index.chunks.values()}
    out = []
    for chunk_id, claim, supported in claims:
        chunk = by_id[chunk_id]
        citation = passage_citation(1, Hit(chunk, service.index.documents[chunk.doc_id], 0, 0, 0))
        profile = scorer.profile(claim)
        score = float(scorer.scores([profile], [scorer.evidence(citation)])[0, 0])
        out.append((claim, supported, score >= scorer.threshold(profile), score))
    return out


@pytest.mark.parametrize(("name", "floor"), [("calibration", 0.95), ("held_out", 0.8)])
def test_support_verdicts_agree_with_the_labels(real, name, floor):
    results = verdicts(real, CLAIMS[name])
    wrong = [(c, s, round(x, 3)) for c, s, v, x in results if s != v]
    accuracy = 1 - len(wrong) / len(results)
    print(f"\n{name}: {accuracy:.2%} of {len(results)} agree; disagreements: {wrong}")
    assert accuracy >= floor


def test_checking_an_answer_costs_one_embedding_batch_per_release(real, monkeypatch):
    """Wall-clock figures are printed, not asserted: this machine may be shared."""
    question = real.understand("兰州市委的决定要求什么?", [])
    citations = [passage_citation(n, h) for n, h in enumerate(real.search(question, None)[1], 1)]
    answers = {
        "zh-Hans": "兰州要抓实抓好细胞工程、头雁工程、先锋工程和强基工程[2]。"
        "该决定由兰州市第十四届委员会第八次全体会议审议通过[3]。"
        "加强基层党组织建设是落实市委“1139”工作部署的迫切需要[1]。"
        "兰州将在2030年前建成十座机场[1]。",
        "en": "The city must carry out the cell, lead goose, vanguard and foundation projects [1]. "
        "The session adopted the decision [2].",
    }
    batches = []
    embed = real.embedder.embed_documents
    monkeypatch.setattr(
        real.embedder, "embed_documents", lambda texts: batches.append(len(texts)) or embed(texts)
    )
    for language, answer in answers.items():
        timings = []
        for _ in range(5):
            batches.clear()
            started = time.perf_counter()
            session = real.verifier.session(citations, language, check=True)
            releases: list[str] = []  # feed() releases the finished claims, result() the rest

            def counted(text, release=session._release, releases=releases):
                releases.append(text)
                return release(text)

            monkeypatch.setattr(session, "_release", counted)
            session.feed(answer)
            session.result()
            timings.append((time.perf_counter() - started) * 1000)
            # one batch per release at most, never one per claim
            assert len(batches) <= len([r for r in releases if r.strip()]) <= 2, batches
        print(f"\nchecking the {language} answer: median {sorted(timings)[2]:.1f} ms, {batches}")
