import pytest

from index.text.textnorm import fold, keyword_terms
from qa.language import detect


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What does the Lanzhou decision require?", "en"),
        ("兰州市委的决定要求什么?", "zh-Hans"),
        ("蘭州市委的決定要求什麼?", "zh-Hant"),
        ("著力提升基層黨組織組織力", "zh-Hant"),
        ("那朝阳区呢？", "zh-Hans"),
        ("1234", "en"),
    ],
)
def test_detect(text, expected):
    assert detect(text) == expected


def test_fold_is_script_and_width_insensitive():
    assert fold("蘭州ＡＢＣ１２３") == fold("兰州abc123") == "兰州abc123"


def test_keyword_terms_drop_stopwords_and_punctuation():
    terms = keyword_terms("蘭州市委的決定要求什麼？")
    assert "兰州" in terms and "决定" in terms and "要求" in terms
    assert "什么" not in terms and "的" not in terms and "？" not in terms
