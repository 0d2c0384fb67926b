"""``qa eval --llm URL``: generated answers from a real LLM, measured on a sample per set.

Each sampled question (a seeded sample of ``per_set`` questions per set) goes through
`QAService.stream` with the LLM generator built from the settings (``qa.runtime``), against
the same cached eval index as ``qa eval``.  Per question it records: whether the LLM was
asked (strict grounding declines unretrievable questions without it), declined, fell back
to extractive (an LLM error), answer match (``evaluation.metrics``, markers removed),
citation precision after verification (share of the answer's citations that are gold),
what the verifier did (markers checked, corrected, removed; unsupported/uncited flags), the
citation marker formats in the raw reply, answers with no marker, language drift (raw reply
and final answer), latency, time to the first streamed token (from the question, and from
the prompt being sent) and the prompt's size in tiktoken cl100k tokens (as
``qa.answering.prompting`` counts).  The extractive answer to the same question is scored
too, as a baseline.  Results are appended to ``llm-questions.jsonl`` as they come, and
``report.md`` / ``report.json`` are rewritten every few questions, so an unfinished run
still has a report.

Leaves out: retrieval ablations and the unanswerable variant (``evaluation.evaluate``), and
rendering (``evaluation.llm_report``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from evaluation.data import EvalData, EvalQuestion
from evaluation.evaluate import eval_index
from evaluation.metrics import answer_body, answer_match
from index.embed.embedder import Embedder
from index.store.loader import open_index
from index.text.chunk import count_tokens
from prompts import message
from qa.answer import Answer, Draft, Sources
from qa.answering.streaming import Finished, Passages, Token
from qa.citations.markers import parse
from qa.retrieval.crosslingual import Dictionary
from qa.retrieval.query import Query
from qa.retrieval.retrieve import Hit
from qa.runtime import build_service, load_aux_embedder
from qa.service import QAService
from qa.settings import Settings

REPORT_EVERY = 5
# Ways a model may write a citation, counted in its raw reply (before normalising).
MARKER_FORMATS = {
    "[n]": re.compile(r"(?<![\[\d])\[\d{1,3}\](?!\d)"),
    "[n,m]/[n-m]": re.compile(r"\[\d{1,3}(?:\s*[,，、;；\-–]\s*\d{1,3})+\]"),
    "【n】/［n］": re.compile(r"[【［]\s*\d{1,3}(?:\s*[,，、\-–]\s*\d{1,3})*\s*[】］]"),
    "(n)/（n）": re.compile(r"[(（]\s*\d{1,2}\s*[)）]"),
    "[Passage n]": re.compile(r"[\[【(（]\s*(?:passage|source|段落|段|文段|资料)\s*\d", re.I),
    "^n": re.compile(r"\^\s*\[?\d"),
    "passage n (words)": re.compile(r"(?:passage|段落|文章)\s*\d|第\s*\d+\s*段", re.I),
}


@dataclass
class LLMResult:
    qid: str
    set_name: str
    lang: str
    question: str
    asked: bool  # the LLM was asked (not declined by retrieval)
    declined: bool
    fallback: bool  # the LLM failed and the extractive answer was given
    match: bool
    baseline_match: bool  # the extractive answer to the same question
    citations: int
    gold_citations: int
    checked: int
    corrected: int
    removed: int
    unsupported: int
    raw_markers: int  # markers the verifier's parser reads in the raw reply
    formats: dict[str, int]
    raw_drift: bool  # the raw reply is not in the question's language family
    drift: bool  # the final answer is not
    latency_ms: float
    ttft_ms: float | None  # question -> first streamed token
    model_ttft_ms: float | None  # prompt sent -> first streamed token
    prompt_tokens: int | None
    passages: int
    raw: str = ""
    answer: str = ""
    notices: list[str] = field(default_factory=list)


class RecordingGenerator:
    """Wraps the LLM generator: records the prompt's size and the raw reply, and when sent."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.reset()

    def reset(self) -> None:
        self.prompt_tokens: int | None = None
        self.passages = 0
        self.sent: float | None = None
        self.raw = ""

    def generate(self, query: Query, hits: list[Hit]) -> Draft:
        self._measure(query, hits)
        draft: Draft = self.inner.generate(query, hits)  # type: ignore[attr-defined]
        self.raw = draft.text
        return draft

    def stream(self, query: Query, hits: list[Hit]) -> Iterator[Sources | str | Draft]:
        self._measure(query, hits)
        for piece in self.inner.stream(query, hits):  # type: ignore[attr-defined]
            if isinstance(piece, str):
                self.raw += piece
            yield piece

    def _measure(self, query: Query, hits: list[Hit]) -> None:
        messages, sources = self.inner.prompt.build(query, hits)  # type: ignore[attr-defined]
        self.passages = len(sources)
        self.prompt_tokens = sum(count_tokens(str(m.content)) for m in messages)
        self.sent = time.perf_counter()


def llm_settings(settings: Settings, url: str, model: str, timeout: float) -> Settings:
    """``settings`` with the LLM configured (no retries: a failure is measured, not hidden)."""
    update = {"llm_base_url": url, "llm_model": model, "llm_max_retries": 0}
    return settings.model_validate(settings.model_dump() | update | {"llm_timeout": timeout})


def run(
    settings: Settings,
    data: EvalData,
    embedder: Embedder,
    dictionary: Dictionary,
    *,
    cache_dir: Path,
    out_dir: Path,
) -> list[LLMResult]:
    """Answer every question of ``data`` with the LLM (and extractively), writing as it goes."""
    from evaluation import llm_report

    aux = load_aux_embedder(settings)
    index = open_index(eval_index(settings, data, embedder, cache_dir, aux))
    parts = {"embedder": embedder, "index": index, "dictionary": dictionary, "aux_embedder": aux}
    service = build_service(settings, **parts)  # type: ignore[arg-type]
    plain = settings.model_validate(settings.model_dump() | {"llm_base_url": None})
    baseline = build_service(plain, **parts)  # type: ignore[arg-type]
    recorder = RecordingGenerator(service.generator)
    service.generator = recorder
    out_dir.mkdir(parents=True, exist_ok=True)
    log = out_dir / "llm-questions.jsonl"
    log.write_text("", encoding="utf-8")
    results: list[LLMResult] = []
    for i, question in enumerate(tqdm(data.questions, unit="question", desc="llm answers"), 1):
        result = measure(service, recorder, baseline, question)
        results.append(result)
        with log.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(result), ensure_ascii=False) + "\n")
        if i % REPORT_EVERY == 0 or i == len(data.questions):
            llm_report.write(results, out_dir, settings)
    return results


def measure(
    service: QAService, recorder: RecordingGenerator, baseline: QAService, question: EvalQuestion
) -> LLMResult:
    recorder.reset()
    started = time.perf_counter()
    first: float | None = None
    asked = False
    answer: Answer | None = None
    for event in service.stream(question.question):
        if isinstance(event, Passages) and event.mode == "llm":
            asked = True
        elif isinstance(event, Token) and first is None and event.text.strip():
            first = time.perf_counter()
        elif isinstance(event, Finished):
            answer = event.answer
    assert answer is not None
    latency = (time.perf_counter() - started) * 1000
    fallback = "llm_unavailable" in [n.code for n in answer.notices]
    streamed = asked and not fallback
    timings = {
        "latency_ms": round(latency, 1),
        "ttft_ms": _ms(first, started) if streamed else None,
        "model_ttft_ms": _ms(first, recorder.sent) if streamed else None,
    }
    extractive = baseline.ask(question.question)
    return _result(question, answer, extractive, recorder, (asked, fallback), timings)


def _result(
    question: EvalQuestion,
    answer: Answer,
    extractive: Answer,
    recorder: RecordingGenerator,
    flags: tuple[bool, bool],
    timings: dict[str, float | None],
) -> LLMResult:
    asked, fallback = flags
    gold = set(question.gold_doc_ids)
    v = answer.verification
    raw = recorder.raw if asked else ""
    return LLMResult(
        qid=question.qid,
        set_name=question.set_name,
        lang=question.lang,
        question=question.question,
        asked=asked,
        declined=answer.declined,
        fallback=fallback,
        match=_matches(answer, question),
        baseline_match=_matches(extractive, question),
        citations=len(answer.citations),
        gold_citations=sum(c.doc_id in gold for c in answer.citations),
        checked=v.checked if v else 0,
        corrected=v.corrected if v else 0,
        removed=v.removed if v else 0,
        unsupported=len(v.unsupported) if v else 0,
        raw_markers=sum(len(c.numbers) for c in parse(raw)),
        formats={k: len(p.findall(raw)) for k, p in MARKER_FORMATS.items() if p.search(raw)},
        raw_drift=bool(raw.strip()) and drifted(raw, question.question),
        drift=not answer.declined and drifted(answer.text, question.question),
        prompt_tokens=recorder.prompt_tokens if asked else None,
        passages=recorder.passages if asked else 0,
        raw=raw,
        answer=answer.text,
        notices=[n.code for n in answer.notices],
        **timings,  # type: ignore[arg-type]
    )


def _matches(answer: Answer, question: EvalQuestion) -> bool:
    if answer.declined:
        return False
    body = answer_body(answer.text, message("extractive_intro", answer.language))
    return answer_match(body, question.answers, question.answer_groups)


def drifted(text: str, question: str) -> bool:
    """Whether ``text`` is mostly in the other language than ``question`` (English words
    against Chinese ones; the script within Chinese is OpenCC's job, not drift)."""
    return (_latin_share(text) >= 0.5) != (_latin_share(question) >= 0.5)


def _latin_share(text: str) -> float:
    """English words against Chinese words (two Han characters make one, roughly)."""
    latin = len(re.findall(r"[A-Za-z]+", text))
    han = len(re.findall(r"[\u4e00-\u9fff]", text)) / 2
    return latin / max(latin + han, 1)


def _ms(end: float | None, start: float | None) -> float | None:
    return None if end is None or start is None else round((end - start) * 1000, 1)
