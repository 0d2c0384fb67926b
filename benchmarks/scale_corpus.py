"""Synthetic large indexes for benchmarks/scale.py, grown from the real evaluation index.

A version of N chunks holds every real chunk of the evaluation index (the
pooled dev passages, embedded by e5 and the cross-lingual encoder) plus
filler up to N.  How a filler chunk is made, exactly:

* Text: whole sentences of three real chunks (drawn uniformly from the chunks
  of passages no sampled question is about): from each, consecutive sentences
  from a random one on (wrapping around), about a third of the first chunk's
  length; its keyword terms are those sentences' terms (``keyword_terms`` of
  each sentence, computed once).  So term frequencies, document frequencies
  and lengths stay those of real Chinese text, no filler copies a whole real
  chunk, and none contains a gold passage's sentence.
* Vectors (e5 and cross-lingual alike): ``normalise(Σ s_i·v_i + 0.3·g/√d)``
  with ``v_i`` the sources' real vectors, ``s_i`` the share of the filler's
  characters taken from each and ``g`` a standard normal vector: between its
  sources, as a chunk mixing their topics would be, never a duplicate.  (Embedding 1M
  chunks on two cores would take about a day.)
* Five filler chunks make one filler document (ids ``fill:…``), about an
  article's length.

The version is written with the project's own store classes (chunk store,
flat vectors with moments, BM25, HNSW graphs from ``AnnParams``) and
published with ``index.store.versions``, so ``open_index`` serves it as any
other.  Leaves out: measuring (benchmarks/scale.py).
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.store import manifest, versions
from index.store.ann import write_graphs
from index.store.bm25 import BM25Index
from index.store.chunks import ChunkRecord, ChunkStore, DocumentInfo
from index.store.loader import LoadedIndex
from index.store.manifest import AnnParams
from index.store.vectors import FaissIndex
from index.text.textnorm import keyword_terms

_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?\n]*")
PER_DOC = 5
SOURCES = 3
NOISE = 0.3


@dataclass
class Seed:
    """The real chunks filler is made from: sentences, their terms, source vectors."""

    index: LoadedIndex
    ids: np.ndarray  # real chunk ids, ascending
    e5: np.ndarray
    aux: np.ndarray | None
    sources: np.ndarray  # positions (into ids) of chunks filler may draw on
    sentences: list[list[tuple[str, tuple[str, ...]]]]  # per real chunk


def load_seed(index: LoadedIndex, gold_docs: set[str]) -> Seed:
    ids = index.doc_map.ids
    e5 = index.dense.vectors_of(ids)
    aux = index.aux.vectors_of(ids) if index.aux is not None else None
    chunks = [index.chunks[int(i)] for i in ids]
    cache: dict[str, tuple[str, ...]] = {}
    sentences = []
    for chunk in chunks:
        parts = [s for s in _SENTENCE.findall(chunk.text) if s.strip()]
        sentences.append([(s, cache.setdefault(s, tuple(keyword_terms(s)))) for s in parts])
    sources = np.array(
        [i for i, c in enumerate(chunks) if c.doc_id not in gold_docs and sentences[i]], np.int64
    )
    return Seed(index, ids, e5, aux, sources, sentences)


def _filler_text(
    seed: Seed, picks: np.ndarray, starts: np.ndarray
) -> tuple[str, tuple[str, ...], np.ndarray]:
    """A third of the first source's length from each source, from a random sentence on."""
    third = max(sum(len(s) for s, _ in seed.sentences[picks[0]]) // len(picks), 1)
    text, terms, shares = "", [], np.zeros(len(picks), dtype=np.float32)
    for k, (source, start) in enumerate(zip(picks, starts, strict=True)):
        sentences = seed.sentences[source]
        taken = 0
        for j in range(len(sentences)):
            sentence, sentence_terms = sentences[(int(start) + j) % len(sentences)]
            if taken >= third:
                break
            text += sentence
            terms.extend(sentence_terms)
            taken += len(sentence)
        shares[k] = taken
    return text, tuple(terms), shares / max(float(shares.sum()), 1.0)


def _filler_vectors(
    base: np.ndarray, picks: np.ndarray, shares: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    d = base.shape[1]
    v = np.einsum("nk,nkd->nd", shares, base[picks])
    v += NOISE * rng.standard_normal(v.shape).astype(np.float32) / np.sqrt(d)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _write_filler(seed: Seed, store: ChunkStore, flats: list[FaissIndex], n: int) -> None:
    rng = np.random.default_rng(n)
    next_id = int(seed.ids.max()) + 1
    now = datetime.now(UTC).isoformat(timespec="seconds")
    bases = [seed.e5] + ([seed.aux] if seed.aux is not None else [])
    for lo in range(0, n, 50_000):
        count = min(50_000, n - lo)
        picks = seed.sources[rng.integers(0, len(seed.sources), (count, SOURCES))]
        starts = rng.integers(0, 1 << 30, (count, SOURCES))
        made = [_filler_text(seed, p, s) for p, s in zip(picks, starts, strict=True)]
        ids = np.arange(next_id + lo, next_id + lo + count, dtype=np.int64)
        shares = np.vstack([m[2] for m in made])
        for flat, base in zip(flats, bases, strict=True):
            flat.add(ids, _filler_vectors(base, picks, shares, rng))
        for start in range(0, count, PER_DOC):
            _put_document(
                store,
                f"fill:{(lo + start) // PER_DOC:07d}",
                made[start : start + PER_DOC],
                ids[start : start + PER_DOC],
                now,
            )


def _put_document(store: ChunkStore, doc_id: str, parts: list, ids: np.ndarray, now: str) -> None:  # type: ignore[type-arg]
    text, chunks = "", []
    for k, (piece, terms, _) in enumerate(parts):
        chunks.append(
            ChunkRecord(int(ids[k]), doc_id, k, len(text), len(text) + len(piece), piece, terms)
        )
        text += piece
    info = DocumentInfo(
        doc_id, f"填充{doc_id[5:]}", None, None, None, None, f"{doc_id}.txt", doc_id, now
    )
    store.put(info, text, chunks)


def build(seed: Seed, index_dir: Path, n_total: int, ann: AnnParams) -> dict[str, float]:
    """Publish a version of ``n_total`` chunks (at least the seed's) at ``index_dir``; timings."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    directory = versions.staging(index_dir)
    shutil.copyfile(seed.index.directory / ChunkStore.FILENAME, directory / ChunkStore.FILENAME)
    store = ChunkStore(directory / ChunkStore.FILENAME)
    flats = [FaissIndex.load(seed.index.directory, mmap=False)]
    if seed.aux is not None:
        flats.append(FaissIndex.load(seed.index.directory, FaissIndex.AUX_FILENAME, mmap=False))
    _write_filler(seed, store, flats, max(n_total - len(seed.ids), 0))
    store.commit()
    timings["filler_s"] = time.perf_counter() - started
    t = time.perf_counter()
    records = list(store.chunks())
    bm25 = BM25Index.build([c.id for c in records], [c.terms for c in records])
    del records
    files = [directory / ChunkStore.FILENAME, *bm25.save(directory)]
    timings["bm25_s"] = time.perf_counter() - t
    t = time.perf_counter()
    names = [FaissIndex.FILENAME, FaissIndex.AUX_FILENAME][: len(flats)]
    for name, flat in zip(names, flats, strict=True):
        files += flat.save(directory, name)
    timings["vectors_s"] = time.perf_counter() - t
    t = time.perf_counter()
    graphs = write_graphs(directory, list(zip(names, flats, strict=True)), ann, None, None)
    timings["graphs_s"] = time.perf_counter() - t
    meta = seed.index.manifest
    meta.ann, meta.ann_built = ann, bool(graphs)
    meta.chunks, meta.documents = len(flats[0]), len(store.documents())
    store.close()
    manifest.write(directory, meta, files + graphs)
    versions.publish(index_dir, directory)
    timings["build_s"] = time.perf_counter() - started - timings["filler_s"]
    return timings
