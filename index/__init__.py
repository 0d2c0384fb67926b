"""Build time: articles in, a versioned, self-describing index out.

``text/`` reads and cleans articles and cuts them into chunks, ``embed/`` turns chunks into
vectors, ``store/`` writes and loads the index (vectors, BM25, chunk store, manifest, versions);
``build`` is the ingest pipeline that runs them in that order and ``errors`` the error hierarchy
they share.  Must not import ``qa``, ``api``, ``evaluation`` or ``benchmarks`` (scripts/layers.py).
"""
