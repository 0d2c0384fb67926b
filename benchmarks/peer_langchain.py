"""Peer A: the naive LangChain RAG retriever a user would write, on the same model folder.

``RecursiveCharacterTextSplitter()`` with its defaults (4000 characters, 200 overlap),
``langchain_community.embeddings.HuggingFaceEmbeddings(model_name=FOLDER)`` with no
model or encode arguments (so no ``query: ``/``passage: `` prompts: sentence-transformers
applies a prompt only when asked, and the folder sets no default one) and
``langchain_community.vectorstores.FAISS.from_documents`` (exact L2 search; the model's
Normalize module makes that the cosine order).  ``similarity_search(question, k=10)``
is the query, timed whole.  langchain-community's embeddings class is used rather than
``langchain_huggingface``'s because the latter pins ``huggingface-hub<2`` (and, with its
``full`` extra, ``sentence-transformers<6``) and would downgrade this project's venv;
both call ``SentenceTransformer.encode`` the same way (newlines become spaces).

The store is saved under ``CACHE/langchain-KEY``, KEY hashing the corpus, the model
checksum, the splitter settings and langchain-community's version.

Leaves out: any generation step (retrieval is what is compared) and tuning of any kind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import warnings
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

DEPTH = 10


def _silence() -> None:
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="langchain_community")
    try:
        from langchain_core._api import LangChainDeprecationWarning
    except ImportError:  # pragma: no cover - older langchain-core
        return
    warnings.filterwarnings("ignore", category=LangChainDeprecationWarning)


def describe(model: Path, splitter: Any) -> dict[str, Any]:
    packages = ("langchain-community", "langchain-core", "langchain-text-splitters")
    return {
        "embeddings": "langchain_community.embeddings.HuggingFaceEmbeddings",
        "embeddings_kwargs": {"model_name": str(model)},
        "prompts": None,
        "splitter": "RecursiveCharacterTextSplitter()",
        "chunk_size": splitter._chunk_size,
        "chunk_overlap": splitter._chunk_overlap,
        "vectorstore": "langchain_community.vectorstores.FAISS.from_documents",
        "search": f"similarity_search(question, k={DEPTH})",
        "versions": {p: version(p) for p in (*packages, "sentence-transformers", "faiss-cpu")},
    }


class LangChainPeer:
    """FAISS vector store over default-split passages, queried with ``similarity_search``."""

    name = "langchain"

    def __init__(
        self,
        model: Path,
        cache: Path,
        corpus: Sequence[tuple[str, str]],
        corpus_hash: str,
        model_checksum: str | None,
    ) -> None:
        _silence()
        from langchain_community.embeddings import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        started = time.perf_counter()
        self.embeddings = HuggingFaceEmbeddings(model_name=str(model))
        splitter = RecursiveCharacterTextSplitter()
        self.config = describe(model, splitter)
        key = hashlib.sha256(
            f"{corpus_hash}|{model_checksum}|{splitter._chunk_size}|{splitter._chunk_overlap}|"
            f"{self.config['versions']['langchain-community']}".encode()
        ).hexdigest()[:16]
        self.store, cached = self._open(cache / f"langchain-{key}", splitter, corpus)
        self.index = {
            "cached": cached,
            "seconds": time.perf_counter() - started,
            "count": self.store.index.ntotal,
        }

    def _open(
        self, target: Path, splitter: Any, corpus: Sequence[tuple[str, str]]
    ) -> tuple[Any, bool]:
        from langchain_community.vectorstores import FAISS
        from langchain_core.documents import Document

        if target.is_dir():
            store = FAISS.load_local(
                str(target), self.embeddings, allow_dangerous_deserialization=True
            )
            return store, True
        documents = [Document(page_content=text, metadata={"doc_id": i}) for i, text in corpus]
        chunks = splitter.split_documents(documents)
        print(f"langchain: embedding {len(chunks)} chunks of {len(documents)} passages")
        store = FAISS.from_documents(chunks, self.embeddings)
        tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        store.save_local(str(tmp))
        os.replace(tmp, target)
        return store, False

    def query(self, question: str) -> tuple[list[str], float]:
        started = time.perf_counter()
        docs = self.store.similarity_search(question, k=DEPTH)
        ms = (time.perf_counter() - started) * 1000
        return [d.metadata["doc_id"] for d in docs], ms

    def close(self) -> None:
        pass
