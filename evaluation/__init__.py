"""The evaluation harness (``qa eval``): public dev sets, metrics, runs and reports.

May import anything. No runtime package (api, qa, index, prompts) imports it, except ``api.cli``,
which adds ``qa eval`` from ``cli``; benchmarks and tests use it freely.
"""
