"""Retrieval: question analysis (language, terms, translation to Chinese keywords), dense and
BM25 search over a loaded index, and score fusion.

Must not import ``qa.answering`` or ``qa.citations``.
"""
