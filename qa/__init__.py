"""Query time: one question in, an answer with citations out.

``service`` is the answer path; ``retrieval/`` analyses the question and finds passages,
``answering/`` writes the answer (extractive or LLM, streamed, follow-ups), ``citations/``
checks that every ``[n]`` is supported; ``answer`` holds the data they pass along, ``runtime``
assembles them from ``settings``.  May import ``index`` and ``prompts``; must not import ``api``,
``evaluation`` or ``benchmarks``.
"""
