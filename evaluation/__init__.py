"""The evaluation harness (``qa eval``): public dev sets, metrics, runs and reports.

May import anything; nothing imports it except ``api.cli``, which adds ``qa eval`` from ``cli``.
"""
