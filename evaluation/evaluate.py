"""``qa eval``: index a pooled public corpus and run every question through the real path.

The corpus goes through the project's own ingest (clean, chunk, embed, index)
into a cache directory keyed by the corpus and every setting that shapes the
index, so a second run starts at once.  Each question is answered by
`QAService.ask` (answer metrics, per-stage latency) and, with the same
question vector, retrieved at depth 10 under each ablation (hybrid, dense
only, keyword only, hybrid without script folding, hybrid with rank fusion
instead of score fusion) for hit@k and MRR.  For a seeded sample, the gold
passages are removed from the pool (excluded from retrieval) to measure how
often the service declines what it cannot answer.

``chunk_tokens`` adds a chunk-size ablation: the pool is indexed again at each
size (each cached under its own key, like the main index) and every question
is retrieved there with the same vectors and the default (hybrid) settings.

Leaves out: turning results into tables and plots (``evaluation.report``).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from evaluation.data import SEED, EvalData, EvalQuestion
from evaluation.metrics import answer_body, answer_match, char_f1, gold_rank, short_answer
from index.build import ingest_records, seed_cache
from index.embed.embedder import Embedder
from index.store import versions
from index.store.bm25 import BM25Index
from index.store.loader import LoadedIndex, open_index
from index.store.milvus.client import Milvus
from index.store.milvus.reader import open_milvus, read_head
from index.store.view import IndexView
from index.text.textnorm import keyword_terms
from prompts import message
from qa.answer import Answer
from qa.retrieval.crosslingual import Dictionary
from qa.retrieval.query import Query, analyse
from qa.retrieval.retrieve import Hit, RetrievalConfig, is_relevant, retrieve
from qa.runtime import build_service, load_aux_embedder
from qa.service import QAService
from qa.settings import Settings

DEPTH = 10
MODES = ("hybrid", "dense", "keyword", "hybrid-nofold", "hybrid-rrf")


@dataclass
class QuestionResult:
    qid: str
    set_name: str
    lang: str
    ranks: dict[str, int | None]
    declined: bool
    match: bool
    f1: float
    citation_precision: float | None
    timings_ms: dict[str, float]
    evidence: tuple[float, float] = (0.0, 0.0)  # best cosine and keyword coverage in top_k
    short_f1: float = 0.0  # char F1 of the direct answer (the answer body when there is none)
    match_undeclined: bool = False  # the match had the answer not been declined
    chunk_ranks: dict[int, int | None] = field(default_factory=dict)  # hybrid, per chunk size


@dataclass(frozen=True)
class Unanswerable:
    set_name: str
    lang: str
    declined: bool
    evidence: tuple[float, float]


@dataclass
class EvalRun:
    settings: dict[str, object]
    corpus_passages: int
    chunks: int
    index_seconds: float
    results: list[QuestionResult] = field(default_factory=list)
    unanswerable: list[Unanswerable] = field(default_factory=list)
    chunk_counts: dict[int, int] = field(
        default_factory=dict
    )  # chunk-size ablation: size -> chunks


def eval_index(
    settings: Settings,
    data: EvalData,
    embedder: Embedder,
    cache_dir: Path,
    aux: Embedder | None = None,
) -> Path:
    """The cached index of ``data``'s corpus for these settings, built when missing."""
    key = hashlib.sha256(
        f"{data.corpus_hash}|{embedder.model_id}|{embedder.checksum}|{embedder.runtime}|"
        f"{settings.chunk_tokens}|{settings.chunk_overlap}|{aux.model_id if aux else ''}".encode()
    ).hexdigest()[:16]
    index_dir = cache_dir / f"eval-{key}"
    if versions.current(index_dir) is None:
        with tqdm(total=0, unit="chunk", desc=f"indexing {len(data.records)} passages") as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            report = ingest_records(
                index_dir,
                data.records,
                embedder,
                settings.chunk_params,
                rebuild=False,  # a run that built it meanwhile leaves nothing to do
                progress=progress,
                ann=settings.ann_params,
                aux=aux,
                workers=settings.ingest_workers(),
            )
        if report.failed:
            print(f"warning: {len(report.failed)} passages failed to ingest: {report.failed[:3]}")
    return index_dir


def run(
    settings: Settings,
    data: EvalData,
    embedder: Embedder,
    dictionary: Dictionary,
    *,
    cache_dir: Path,
    unanswerable: int = 200,
    chunk_tokens: Sequence[int] = (),
) -> EvalRun:
    """Evaluate ``data``; ``chunk_tokens`` also measures hybrid retrieval at those chunk sizes."""
    for size in chunk_tokens:  # fail now, not after the main run: QA_CHUNK_* bounds
        settings.model_validate(settings.model_dump() | {"chunk_tokens": size})
    started = time.perf_counter()
    aux = load_aux_embedder(settings)
    local = eval_index(settings, data, embedder, cache_dir, aux)
    index: IndexView = open_index(local)
    if settings.index_backend == "milvus":
        index = _milvus_eval_index(settings, data, (embedder, aux), local)
    service = build_service(
        settings, embedder=embedder, index=index, dictionary=dictionary, aux_embedder=aux
    )
    outcome = EvalRun(
        settings=settings.model_dump(mode="json"),
        corpus_passages=len(data.records),
        chunks=len(index.chunks),
        index_seconds=time.perf_counter() - started,
    )
    unfolded = _unfolded_keywords(index) if isinstance(index, LoadedIndex) else index
    all_vectors = []
    for question in tqdm(data.questions, unit="question", desc="evaluating"):
        answer = service.ask(question.question)
        vectors = _vectors(service, question.question)
        all_vectors.append(vectors)
        ranks, evidence = _ranks(index, unfolded, service.config, vectors, question, dictionary)
        result = _score(question, answer, ranks, evidence)
        result.match_undeclined = result.match or (
            answer.declined and _undeclined_match(service, question, vectors)
        )
        outcome.results.append(result)
    outcome.unanswerable = _unanswerable(service, data.questions, unanswerable)
    for size in chunk_tokens:
        if size == settings.chunk_tokens:
            outcome.chunk_counts[size] = len(index.chunks)
            for result in outcome.results:
                result.chunk_ranks[size] = result.ranks["hybrid"]
            continue
        sized = settings.model_validate(settings.model_dump() | {"chunk_tokens": size})
        other = open_index(eval_index(sized, data, embedder, cache_dir, aux))
        outcome.chunk_counts[size] = len(other.chunks)
        for question, vectors, result in zip(
            data.questions, all_vectors, outcome.results, strict=True
        ):
            query = analyse(question.question, dictionary)
            hits = retrieve(other, vectors[0], query, service.config, DEPTH, aux_vector=vectors[1])
            result.chunk_ranks[size] = gold_rank(
                [h.chunk.doc_id for h in hits], question.gold_doc_ids
            )
    return outcome


def _milvus_eval_index(
    settings: Settings, data: EvalData, embedders: tuple[Embedder, Embedder | None], local: Path
) -> IndexView:
    """The eval corpus in a Milvus Lite file beside the local eval index, with its vectors."""
    embedder, aux = embedders
    config = replace(settings.milvus, uri=str(local.with_suffix(".milvus.db")), collection="eval")
    db = Milvus(config)
    if read_head(db) is None:
        seeds = local.with_suffix(".seed")
        seed_cache(local, seeds, embedder, aux)
        ingest_records(
            config, data.records, embedder, settings.chunk_params, aux=aux, cache_dir=seeds
        )
    return open_milvus(db, model_id=embedder.model_id, model_checksum=embedder.checksum)


def _ranks(
    index: IndexView,
    unfolded: IndexView,
    config: RetrievalConfig,
    vectors: tuple[np.ndarray, np.ndarray | None],
    question: EvalQuestion,
    dictionary: Dictionary,
) -> tuple[dict[str, int | None], tuple[float, float]]:
    """Gold rank under each ablation, and the evidence the answer path judges relevance by."""
    vector, aux_vector = vectors
    query = analyse(question.question, dictionary)
    ranks: dict[str, int | None] = {}
    for mode in MODES:
        target, q, cfg = index, query, replace(config, mode=mode.split("-")[0])  # type: ignore[arg-type]
        if mode == "hybrid-nofold":
            target, q = unfolded, _unfolded_query(query)
        elif mode == "hybrid-rrf":  # English questions always fuse scores: same as hybrid
            cfg = replace(cfg, fusion="rrf")
        hits = retrieve(target, vector, q, cfg, DEPTH, aux_vector=aux_vector)
        ranks[mode] = gold_rank([h.chunk.doc_id for h in hits], question.gold_doc_ids)
        if mode == "hybrid":
            evidence = _evidence(hits[: config.top_k])
    return ranks, evidence


def _evidence(hits: list[Hit]) -> tuple[float, float]:
    return (
        round(max((h.dense for h in hits), default=0.0), 4),
        round(max((h.coverage for h in hits), default=0.0), 4),
    )


def _vectors(service: QAService, question: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The question under the main encoder, and under the cross-lingual one when it applies."""
    aux = service.aux_embedder
    english = analyse(question, None).language == "en"
    return service.embedder.embed_query(question), (
        aux.embed_query(question) if aux is not None and english else None
    )


def _unfolded_keywords(index: LoadedIndex) -> LoadedIndex:
    """The same index with BM25 over terms that keep their script (an ablation)."""
    chunks = sorted(index.chunks.values(), key=lambda c: c.id)
    docs = [
        keyword_terms(f"{index.documents[c.doc_id].title}\n{c.text}", script=False) for c in chunks
    ]
    return replace(index, bm25=BM25Index.build([c.id for c in chunks], docs))


def _unfolded_query(query: Query) -> Query:
    if query.translated:
        return query
    terms = dict.fromkeys(keyword_terms(query.text, script=False))
    return replace(query, groups=tuple({t: 1.0} for t in terms))


def _score(
    question: EvalQuestion,
    answer: Answer,
    ranks: dict[str, int | None],
    evidence: tuple[float, float],
) -> QuestionResult:
    intro = message("extractive_intro", answer.language)
    body = answer_body(answer.text, intro)
    cited = [c.doc_id in question.gold_doc_ids for c in answer.citations]
    return QuestionResult(
        qid=question.qid,
        set_name=question.set_name,
        lang=question.lang,
        ranks=ranks,
        declined=answer.declined,
        match=not answer.declined and answer_match(body, question.answers, question.answer_groups),
        f1=0.0 if answer.declined else char_f1(body, question.answers),
        citation_precision=sum(cited) / len(cited) if cited else None,
        timings_ms=answer.timings_ms,
        evidence=evidence,
        short_f1=0.0
        if answer.declined
        else char_f1(short_answer(answer.text, intro), question.answers),
    )


def _undeclined_match(
    service: QAService, question: EvalQuestion, vectors: tuple[np.ndarray, np.ndarray | None]
) -> bool:
    """Whether the answer to a declined question would have matched: what declining costs."""
    query = analyse(question.question, service.dictionary)
    k = service.config.top_k
    hits = retrieve(service.index, vectors[0], query, service.config, k, aux_vector=vectors[1])
    if not hits:
        return False
    draft = service.generator.generate(query, hits)
    body = answer_body(draft.text, message("extractive_intro", query.language))
    return answer_match(body, question.answers, question.answer_groups)


def _unanswerable(service: QAService, questions: list[EvalQuestion], n: int) -> list[Unanswerable]:
    """Whether the service declines questions whose gold passages were removed."""
    sample = random.Random(SEED).sample(questions, min(n, len(questions)))
    out = []
    for question in tqdm(sample, unit="question", desc="unanswerable"):
        query = analyse(question.question, service.dictionary)
        vector, aux_vector = _vectors(service, question.question)
        exclude = frozenset(question.gold_doc_ids)
        k = service.config.top_k
        hits = retrieve(service.index, vector, query, service.config, k, exclude, aux_vector)
        declined = not is_relevant(hits, query, service.config)
        out.append(Unanswerable(question.set_name, question.lang, declined, _evidence(hits)))
    return out
