import time

import numpy as np

from index.store.bm25 import BM25Index


def _rank_bm25_reference(docs, query, k1=1.2, b=0.75):
    n = len(docs)
    avg = sum(len(d) for d in docs) / n
    scores = []
    for d in docs:
        s = 0.0
        for t in query:
            df = sum(1 for x in docs if t in x)
            idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
            tf = d.count(t)
            s += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avg))
        scores.append(s)
    return np.array(scores)


def test_scores_match_textbook_bm25(tmp_path):
    docs = [
        ["兰州", "决定", "要求"],
        ["基层", "党组织", "基层"],
        ["兰州", "兰州", "发展", "基层"],
        [],
    ]
    index = BM25Index.build([10, 11, 12, 13], docs)
    got = index.scores({"兰州": 1.0, "基层": 1.0})
    np.testing.assert_allclose(got, _rank_bm25_reference(docs, ["兰州", "基层"]), rtol=1e-5)
    assert [i for i, _ in index.search({"兰州": 1.0}, 5)] == [12, 10]
    assert index.search({"不存在": 1.0}, 5) == []
    index.save(tmp_path)
    again = BM25Index.load(tmp_path)
    np.testing.assert_allclose(again.scores({"兰州": 1.0}), index.scores({"兰州": 1.0}))
    assert list(again.ids) == [10, 11, 12, 13]


def test_weights_scale_scores():
    index = BM25Index.build([0, 1], [["a", "b"], ["b", "c"]])
    assert index.scores({"a": 2.0})[0] == 2 * index.scores({"a": 1.0})[0]


def test_scoring_is_fast_on_ten_thousand_chunks():
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(5000)]
    docs = [list(rng.choice(vocab, 60)) for _ in range(10_000)]
    index = BM25Index.build(range(10_000), docs)
    query = {w: 1.0 for w in vocab[:8]}
    started = time.perf_counter()
    for _ in range(20):
        index.search(query, 50)
    per_query = (time.perf_counter() - started) / 20
    print(f"BM25 search over 10k chunks: {per_query * 1000:.2f} ms")
    assert per_query < 0.05  # generous: measured well under a millisecond
