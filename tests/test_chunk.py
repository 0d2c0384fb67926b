import itertools

from index.text.chunk import chunk_text, count_tokens, sentence_spans

TEXT = (
    "第一句话很短。第二句话稍微长一点，说明了一些情况！第三句是问题吗？"
    "他说：“这是引用。”然后结束；\n\n新段落开始了……还有最后一句"
)


def test_sentence_spans_cover_sentences_and_keep_closing_quotes():
    spans = sentence_spans(TEXT)
    parts = [TEXT[s.start : s.end] for s in spans]
    assert parts[0] == "第一句话很短。"
    assert "他说：“这是引用。”" in parts
    assert parts[-1] == "还有最后一句"
    assert all(p == p.strip() and p for p in parts)


def test_chunks_respect_budget_and_offsets():
    text = "".join(f"这是第{i}个句子，内容用于测试分块是否按句子边界进行。" for i in range(200))
    chunks = chunk_text(text, max_tokens=64, overlap_tokens=30)
    assert len(chunks) > 10
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.tokens <= 64
        assert chunk.text.endswith("。")  # never cut mid-sentence
    # Overlap: each chunk starts before the previous one ends.
    assert all(b.start < a.end for a, b in itertools.pairwise(chunks))
    assert chunks[-1].end == len(text)


def test_single_overlong_sentence_is_split_within_budget():
    text = "很长" * 400 + "。"
    chunks = chunk_text(text, max_tokens=50, overlap_tokens=0)
    assert len(chunks) > 1
    assert all(count_tokens(c.text) <= 50 for c in chunks)
    assert "".join(c.text for c in chunks) == text


def test_model_limit_is_enforced_by_fits():
    text = "".join(f"句子{i}。" for i in range(100))
    chunks = chunk_text(text, max_tokens=400, overlap_tokens=0, fits=lambda t: len(t) <= 60)
    assert all(len(c.text) <= 60 for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_bad_parameters_are_rejected():
    import pytest

    with pytest.raises(ValueError):
        chunk_text("文本。", max_tokens=8, overlap_tokens=0)
    with pytest.raises(ValueError):
        chunk_text("文本。", max_tokens=100, overlap_tokens=60)
