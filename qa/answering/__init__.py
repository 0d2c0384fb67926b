"""Answering: the extractive answerer, the LLM answerer and its prompt, streaming, and the
rewriting of follow-up questions in a conversation.

May import ``qa.retrieval`` and ``qa.citations``.
"""
