"""The three collections of a Milvus index, and which of their rows a generation sees.

``{name}_chunks``: one row per chunk — int64 id, doc_id, number, start/end (the span in the
cleaned text), the chunk text, its keyword terms, ``bm25_text`` (the project's folded,
segmented terms, analysed again by Milvus's jieba analyzer, with a BM25 function into the
sparse ``bm25`` field), the e5 vector and (when built) the cross-lingual ``use`` vector.
``{name}_docs``: a document's metadata (JSON) and its cleaned text in parts of at most
60,000 bytes.  ``{name}_meta``: the ``head`` row (published generation, next chunk id, the
manifest) and blobs.  Milvus wants a vector field in every collection, so docs and meta
carry a 2-d placeholder.

Generations.  Every chunk and document row has ``born`` (the generation that wrote it) and
``dead`` (the one that retired it, 0 while live); generation ``g`` sees
``born <= g and (dead == 0 or dead > g)`` (`visible`).  A writer inserts rows as
``born = g + 1``, marks replaced rows ``dead = g + 1``, and publishes by rewriting the one
``head`` row: readers switch from all old rows to all new ones at once.

Leaves out: connecting (``client``), reading (``reader``) and writing (``writer``).
"""

from __future__ import annotations

from typing import Any

from index.store.milvus.client import Milvus

TEXT_BYTES = 65_535
PLACEHOLDER = "v"


def visible(generation: int) -> str:
    return f"born <= {generation} and (dead == 0 or dead > {generation})"


def ensure(db: Milvus, dimension: int, aux_dimension: int) -> None:
    """Create the collections that do not exist yet."""
    config = db.config
    existing = set(db.call("list_collections"))
    if config.chunks not in existing:
        _create_chunks(db, dimension, aux_dimension)
    for name in (config.docs, config.meta):
        if name not in existing:
            _create_plain(db, name, docs=name == config.docs)


def drop(db: Milvus) -> None:
    existing = set(db.call("list_collections"))
    for name in (db.config.chunks, db.config.docs, db.config.meta):
        if name in existing:
            db.call("drop_collection", name)


def _create_chunks(db: Milvus, dimension: int, aux_dimension: int) -> None:
    from pymilvus import DataType, Function, FunctionType

    client = db.client()
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
    for name in ("number", "start", "end", "born", "dead"):
        schema.add_field(name, DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=TEXT_BYTES)
    schema.add_field("terms", DataType.VARCHAR, max_length=TEXT_BYTES)
    schema.add_field(
        "bm25_text",
        DataType.VARCHAR,
        max_length=TEXT_BYTES,
        enable_analyzer=True,
        analyzer_params={"tokenizer": "jieba"},
    )
    schema.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("e5", DataType.FLOAT_VECTOR, dim=dimension)
    if aux_dimension:
        schema.add_field("use", DataType.FLOAT_VECTOR, dim=aux_dimension)
    schema.add_function(
        Function(
            name="bm25_fn",
            function_type=FunctionType.BM25,
            input_field_names=["bm25_text"],
            output_field_names=["bm25"],
        )
    )
    index = client.prepare_index_params()
    for field in ["e5"] + (["use"] if aux_dimension else []):
        index.add_index(field, **_dense_index(db))
    index.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    for scalar in ("doc_id", "born", "dead"):
        index.add_index(scalar, index_type="INVERTED")
    db.call(
        "create_collection",
        db.config.chunks,
        schema=schema,
        index_params=index,
        consistency_level="Strong",
    )


def _dense_index(db: Milvus) -> dict[str, Any]:
    kind = db.config.dense_index.upper()
    params: dict[str, Any] = {}
    if kind == "HNSW":
        params = {"M": db.config.hnsw_m, "efConstruction": db.config.hnsw_ef_construction}
    elif kind == "IVF_FLAT":
        params = {"nlist": 1024}
    return {"index_type": kind, "metric_type": "IP", "params": params}


def _create_plain(db: Milvus, name: str, *, docs: bool) -> None:
    from pymilvus import DataType

    client = db.client()
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, max_length=1024, is_primary=True)
    if docs:
        schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
        for field in ("born", "dead", "part"):
            schema.add_field(field, DataType.INT64)
        schema.add_field("info", DataType.VARCHAR, max_length=TEXT_BYTES)
        schema.add_field("text", DataType.VARCHAR, max_length=TEXT_BYTES)
    else:
        schema.add_field("value", DataType.VARCHAR, max_length=TEXT_BYTES)
    schema.add_field(PLACEHOLDER, DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index(PLACEHOLDER, index_type="FLAT", metric_type="L2")
    db.call(
        "create_collection", name, schema=schema, index_params=index, consistency_level="Strong"
    )


def text_parts(text: str, limit: int = 60_000) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` UTF-8 bytes, at character boundaries."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for ch in text:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            parts.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += n
    parts.append("".join(current))
    return parts


def cut_bytes(text: str, limit: int = TEXT_BYTES) -> str:
    """``text`` shortened to at most ``limit`` UTF-8 bytes."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")
