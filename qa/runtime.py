"""Assembling a ready `QAService` from settings: model, index, dictionary, generator.

This is where the heavy objects are created, once, by whoever owns the
process (the FastAPI lifespan or a CLI command).  Anything passed in is used
as is, which is how tests inject fakes.

Leaves out: the answer path itself (``qa.service``).
"""

from __future__ import annotations

from index.e5_model import DEFAULT_MODEL_NAME, model_checksum, resolve_model_path
from index.embed import Embedder, SentenceTransformerEmbedder
from index.loader import LoadedIndex, open_index
from index.textnorm import warm_up
from qa.answer import Generator
from qa.crosslingual import Dictionary
from qa.extractive import ExtractiveGenerator
from qa.retrieve import RetrievalConfig
from qa.service import QAService
from qa.settings import Settings

MODEL_ALIASES = {"intfloat/multilingual-e5-small": DEFAULT_MODEL_NAME}


def load_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    name = MODEL_ALIASES.get(settings.embedding_model, settings.embedding_model)
    path = resolve_model_path(name, settings.model_cache_dir)
    return SentenceTransformerEmbedder(
        path, model_id=name, checksum=model_checksum(path), threads=settings.threads
    )


def retrieval_config(settings: Settings) -> RetrievalConfig:
    return RetrievalConfig(
        top_k=settings.top_k,
        candidates=settings.candidates,
        rrf_k=settings.rrf_k,
        translated_keyword_weight=settings.translated_keyword_weight,
        min_dense_score=settings.min_dense_score,
        min_dense_score_crosslingual=settings.min_dense_score_crosslingual,
        min_keyword_coverage=settings.min_keyword_coverage,
    )


def load_index(settings: Settings, embedder: Embedder) -> LoadedIndex:
    return open_index(
        settings.index_dir, model_id=embedder.model_id, model_checksum=embedder.checksum
    )


def build_service(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    index: LoadedIndex | None = None,
    dictionary: Dictionary | None = None,
    generator: Generator | None = None,
) -> QAService:
    warm_up()
    embedder = embedder or load_embedder(settings)
    index = index or load_index(settings, embedder)
    return QAService(
        index=index,
        embedder=embedder,
        generator=generator or ExtractiveGenerator(index),
        config=retrieval_config(settings),
        dictionary=dictionary or Dictionary.load(),
        max_question_chars=settings.max_question_chars,
    )
