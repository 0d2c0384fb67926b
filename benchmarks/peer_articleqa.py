"""article-qa's side of the peer benchmark: its real retrieval path with default `Settings()`.

The pooled corpus goes through ``evaluation.evaluate.eval_index`` (the project's own ingest, with
the cross-lingual encoder's vectors when the settings enable it, cached under the same key
``qa eval`` uses), then each question is timed end to end as ``QAService.search`` runs
it: ``qa.retrieval.query.analyse`` (language, keywords, English dictionary translation) +
``embedder.embed_query`` (e5 with its ``query: `` prompt) + for English questions the
cross-lingual encoder's ``embed_query`` + ``qa.retrieval.retrieve.retrieve`` at depth 10, so
MRR@10 can be read; the service retrieves ``top_k`` (5) hits, and five more cost next to
nothing.

Leaves out: answering (extraction, citations, declining), which the peers do not do.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from evaluation.data import EvalData
from evaluation.evaluate import eval_index
from index.embed.e5_model import model_checksum, resolve_model_path
from index.store import versions
from index.store.loader import open_index
from index.text.textnorm import warm_up
from qa.retrieval.crosslingual import Dictionary
from qa.retrieval.query import analyse
from qa.retrieval.retrieve import retrieve
from qa.runtime import load_aux_embedder, load_embedder, retrieval_config
from qa.settings import Settings

DEPTH = 10


def model_folder(settings: Settings) -> tuple[Path, str | None]:
    """The sentence-transformers folder article-qa loads, and its checksum."""
    path = resolve_model_path(settings.embedding_model, settings.model_cache_dir)
    return Path(path).resolve(), model_checksum(path)


class ArticleQA:
    """The project's hybrid retrieval over its own index of the pooled corpus."""

    name = "article-qa"

    def __init__(self, data: EvalData, cache: Path) -> None:
        started = time.perf_counter()
        self.settings = Settings()
        self.embedder = load_embedder(self.settings)
        self.aux = load_aux_embedder(self.settings)
        ready = {p for p in cache.glob("eval-*") if versions.current(p) is not None}
        built = eval_index(self.settings, data, self.embedder, cache, aux=self.aux)
        self.loaded = open_index(
            built, model_id=self.embedder.model_id, model_checksum=self.embedder.checksum
        )
        self.dictionary = Dictionary.load()
        self.retrieval = retrieval_config(self.settings)
        warm_up()
        missing = sorted({r.doc_id for r in data.records} - set(self.loaded.documents))
        self.index: dict[str, Any] = {
            "cached": built in ready,
            "seconds": time.perf_counter() - started,
            "count": len(self.loaded.chunks),
            "path": str(built),
            "passages_not_indexed": missing,
        }
        self.config: dict[str, Any] = {
            "path": "qa.retrieval.query.analyse + embedder.embed_query"
            " (+ aux.embed_query for English)"
            " + qa.retrieval.retrieve.retrieve",
            "aux_encoder": self.aux.model_id if self.aux else None,
            "settings": self.settings.model_dump(mode="json"),
            "depth": DEPTH,
        }

    def query(self, question: str) -> tuple[list[str], float]:
        started = time.perf_counter()
        query = analyse(question, self.dictionary)
        vector = self.embedder.embed_query(question)
        aux = self.aux.embed_query(question) if self.aux and query.language == "en" else None
        hits = retrieve(self.loaded, vector, query, self.retrieval, DEPTH, aux_vector=aux)
        ms = (time.perf_counter() - started) * 1000
        return [h.chunk.doc_id for h in hits], ms

    def close(self) -> None:
        pass
