"""Memory-mapped vector indexes: the same answers as in-memory ones, file-backed, safe to modify."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.store.loader import open_index
from index.store.vectors import MMAP_FLAG, FaissIndex

pytestmark = pytest.mark.skipif(MMAP_FLAG is None, reason="faiss < 1.11 cannot map flat indexes")

DIM = 48


def _vectors(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """An index whose ids are neither dense nor in storage order (as after replacements)."""
    index = FaissIndex.create(DIM)
    ids = np.random.default_rng(1).permutation(np.arange(300, dtype=np.int64) * 7 + 3)
    index.add(ids, _vectors(300, 0))
    index.remove(ids[:20])
    index.add(np.array([5000, 5001], dtype=np.int64), _vectors(2, 2))
    index.save(tmp_path)
    return tmp_path


def _mapped_paths() -> list[str]:
    return [line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines()]


def test_mapped_and_in_memory_indexes_answer_identically(saved):
    mapped = FaissIndex.load(saved)
    memory = FaissIndex.load(saved, mmap=False)
    assert mapped.mapped and not memory.mapped
    assert len(mapped) == len(memory) == 282 and mapped.dimension == DIM
    ids, _ = memory.all_scores(_vectors(1, 3)[0])
    for query in _vectors(25, 4):
        assert mapped.search(query, 10) == memory.search(query, 10)
        assert mapped.search(query, 1000) == memory.search(query, 1000)
        mapped_ids, mapped_scores = mapped.all_scores(query)
        memory_ids, memory_scores = memory.all_scores(query)
        assert np.array_equal(mapped_ids, memory_ids) and np.array_equal(
            mapped_scores, memory_scores
        )
        some = [int(i) for i in ids[::17]]
        assert mapped.cosines(query, some) == memory.cosines(query, some)


def test_all_scores_are_the_exact_cosines_in_id_order(saved):
    index = FaissIndex.load(saved)
    query = _vectors(1, 5)[0]
    ids, scores = index.all_scores(query)
    assert np.all(np.diff(ids) > 0) and len(ids) == len(index)
    stored = np.vstack([index._index.reconstruct(int(i)) for i in ids])
    np.testing.assert_allclose(scores, stored @ query, atol=1e-5)
    best = index.search(query, 1)[0]
    assert int(ids[np.argmax(scores)]) == best[0]


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
def test_loaded_vectors_are_a_mapping_of_the_file(saved):
    path = str((saved / FaissIndex.FILENAME).resolve())
    assert path not in _mapped_paths()
    index = FaissIndex.load(saved)
    assert path in _mapped_paths()
    smaps = Path("/proc/self/smaps").read_text()
    header = next(line for line in smaps.splitlines() if line.endswith(path))
    assert header.split()[1].startswith("r") and header.split()[1].endswith("s")  # r--s
    del index


def test_a_mapped_index_keeps_working_after_its_file_is_deleted(saved):
    """Old versions are pruned while a server may still have them mapped."""
    index = FaissIndex.load(saved)
    query = _vectors(1, 6)[0]
    before = index.search(query, 5)
    (saved / FaissIndex.FILENAME).unlink()
    assert index.search(query, 5) == before
    assert np.array_equal(index.all_scores(query)[1], index.all_scores(query)[1])


def test_modifying_a_mapped_index_works_on_a_copy_and_leaves_the_file_alone(saved):
    original = (saved / FaissIndex.FILENAME).read_bytes()
    mapped, memory = FaissIndex.load(saved), FaissIndex.load(saved, mmap=False)
    for index in (mapped, memory):
        index.remove(np.array([10, 17, 5000], dtype=np.int64))
        index.add(np.array([9000, 9001], dtype=np.int64), _vectors(2, 7))
    assert not mapped.mapped and len(mapped) == len(memory)
    query = _vectors(1, 8)[0]
    assert mapped.search(query, 20) == memory.search(query, 20)
    assert np.array_equal(mapped.all_scores(query)[1], memory.all_scores(query)[1])
    assert (saved / FaissIndex.FILENAME).read_bytes() == original


def test_served_indexes_are_mapped(fake_index_dir):
    index = open_index(fake_index_dir)
    assert index.dense.mapped
    assert index.aux is None or index.aux.mapped
