"""The edges: the HTTP API (FastAPI) and the ``qa`` command line."""
