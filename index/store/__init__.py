"""Storage: dense vectors (FAISS), BM25, the SQLite chunk store, the manifest that describes an
index, atomic versions and ``CURRENT``, and the loader that checks and opens a version.

The place for further vector backends. Must not import ``index.embed`` or ``index.build``.
"""
