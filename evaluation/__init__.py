"""The evaluation harness (``qa eval``): public dev sets, metrics, runs and reports.

May import anything; nothing imports it except the ``qa eval`` command in ``api.cli``.
"""
