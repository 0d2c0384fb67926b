"""The Milvus backend: the index as three Milvus collections, shared by every API process.

``client`` connects (Milvus Lite for a ``.db`` path, Milvus standalone or a cluster for an
``http://`` URI) and turns Milvus failures into ``IndexUnavailable``; ``schema`` defines the
collections; ``reader`` serves a published generation behind the same ``IndexView`` as the
local files; ``writer`` is the ingest target that publishes a new generation atomically.
Must not import ``index.embed`` or ``index.build`` (it is storage, like ``index.store``).
"""
