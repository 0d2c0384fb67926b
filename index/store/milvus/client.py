"""A Milvus connection whose every call is bounded in time and fails as ``IndexUnavailable``.

`MilvusConfig` names the server (``uri``: a ``.db`` path runs Milvus Lite inside this
process; ``http://host:19530`` reaches Milvus standalone, a cluster, or ``milvus-lite
server``), the collections' common prefix and the dense index type.  `Milvus` connects
lazily, passes ``timeout`` to every call (pymilvus otherwise retries for minutes), and maps
every Milvus or gRPC failure to ``IndexUnavailable`` with the URI in the message; the next
call reconnects, so serving recovers by itself when Milvus is back.  Blobs (the moment
matrices) are stored as base64 parts of at most 60,000 characters in the meta collection.

Leaves out: the collections' fields (``schema``) and what is stored in them.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from index.errors import ArticleQAError, IndexCorrupt, IndexUnavailable

RECONNECT_PAUSE = 2.0  # seconds between connection attempts while Milvus is down
PART = 60_000  # characters of base64 per meta row (VARCHAR holds 65,535 bytes)
LITE_HINT = (
    "Milvus Lite opens a .db in one process only: to share it, run `milvus-lite server "
    "--data-dir {uri} --port 19530` and set QA_MILVUS_URI=http://127.0.0.1:19530"
)


class _NoMvccWarning(logging.Filter):
    """Milvus Lite has no MVCC timestamps; pymilvus warns of it on every query iterator."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return "failed to get mvccTs" not in text and "Method not implemented" not in text


# pymilvus warns, and Milvus Lite's in-process server logs the unimplemented AllocTimestamp.
for _name in ("pymilvus.client.iterator.query_iterator", "grpc._server"):
    logging.getLogger(_name).addFilter(_NoMvccWarning())


@dataclass(frozen=True)
class MilvusConfig:
    uri: str
    token: str | None = None
    collection: str = "article_qa"
    timeout: float = 10.0
    dense_index: str = "HNSW"  # FLAT, HNSW or IVF_FLAT
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    stats_limit: int = 2_048  # BM25 hits read per query for the score statistics

    @property
    def chunks(self) -> str:
        return f"{self.collection}_chunks"

    @property
    def docs(self) -> str:
        return f"{self.collection}_docs"

    @property
    def meta(self) -> str:
        return f"{self.collection}_meta"

    @property
    def is_lite(self) -> bool:
        return "://" not in self.uri

    def describe(self) -> str:
        return f"Milvus at {self.uri} (collections {self.collection}_*)"


class Milvus:
    """A lazily connected, thread-safe client; `call` runs one bounded request."""

    def __init__(self, config: MilvusConfig) -> None:
        self.config = config
        self._client: Any = None
        self._lock = threading.Lock()
        self._retry_at = 0.0  # after a failed connect, calls fail at once until then
        self._last: IndexUnavailable | None = None

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                if self._last is not None and time.monotonic() < self._retry_at:
                    raise self._last
                with self.translated("connect"):
                    from pymilvus import MilvusClient

                    client = MilvusClient(
                        uri=self.config.uri,
                        token=self.config.token or "",
                        timeout=self.config.timeout,
                    )
                    _load(client, self.config)
                    self._client = client
            return self._client

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        client = self.client()
        with self.translated(method):
            try:
                return getattr(client, method)(*args, timeout=self.config.timeout, **kwargs)
            except Exception as exc:
                # A restarted Milvus (Lite always, standalone when told to) has its
                # collections released: load the collection and ask once more.
                if not (args and isinstance(args[0], str) and _released(exc)):
                    raise
                client.load_collection(args[0], timeout=self.config.timeout)
                return getattr(client, method)(*args, timeout=self.config.timeout, **kwargs)

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    @contextlib.contextmanager
    def translated(self, what: str) -> Iterator[None]:
        """Any failure of Milvus (not of ours) as ``IndexUnavailable``; drop the connection."""
        try:
            yield
        except ArticleQAError:
            raise
        except Exception as exc:
            if not _is_milvus_failure(exc):
                raise
            if what != "connect" and not _is_outage(exc):
                raise rejected(self.config, what, exc) from exc
            error = unavailable(self.config, what, exc)
            if what == "connect":
                self._last, self._retry_at = error, time.monotonic() + RECONNECT_PAUSE
            else:  # reconnect on the next call
                stale, self._client = self._client, None
                if stale is not None and not self.config.is_lite:
                    with contextlib.suppress(Exception):
                        stale.close()
            raise error from exc

    # blobs: a value too long for one VARCHAR, as numbered parts
    def put_blob(self, key: str, data: bytes) -> None:
        text = base64.b64encode(data).decode("ascii")
        parts = [text[i : i + PART] for i in range(0, len(text), PART)] or [""]
        rows = [_meta_row(f"{key}/{i}", part) for i, part in enumerate(parts)]
        rows.append(_meta_row(key, json.dumps({"parts": len(parts)})))
        for i in range(0, len(rows), 16):
            self.call("upsert", self.config.meta, rows[i : i + 16])

    def get_blob(self, key: str) -> bytes | None:
        head = self.get_meta(key)
        if head is None:
            return None
        keys = [f"{key}/{i}" for i in range(int(json.loads(head)["parts"]))]
        rows = self.call("get", self.config.meta, ids=keys, output_fields=["value"])
        values = {r["key"]: r["value"] for r in rows}
        if len(values) != len(keys):
            return None
        return base64.b64decode("".join(values[k] for k in keys))

    def delete_blob(self, key: str) -> None:
        self.call("delete", self.config.meta, filter=f'key like "{key}/%" or key == "{key}"')

    def get_meta(self, key: str) -> str | None:
        rows = self.call("get", self.config.meta, ids=[key], output_fields=["value"])
        return str(rows[0]["value"]) if rows else None

    def put_meta(self, key: str, value: str) -> None:
        self.call("upsert", self.config.meta, [_meta_row(key, value)])


def _load(client: Any, config: MilvusConfig) -> None:
    """Load the index's collections (a restarted Milvus has them released)."""
    existing = set(client.list_collections(timeout=config.timeout))
    for name in (config.chunks, config.docs, config.meta):
        if name in existing:
            client.load_collection(name, timeout=config.timeout)


def _meta_row(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": value, "v": [0.0, 0.0]}


def _is_milvus_failure(exc: Exception) -> bool:
    module = type(exc).__module__
    return (
        module.startswith(("pymilvus", "grpc", "milvus_lite"))
        or isinstance(exc, ConnectionError | TimeoutError)
        or type(exc).__name__ in ("RpcError", "DataDirLockedError")
    )


_OUTAGE_WORDS = (
    "unavailable",
    "connect",
    "retry timeout",
    "deadline",
    "lock",
    "closed",
    "timed out",
)


def _released(exc: Exception) -> bool:
    text = str(getattr(exc, "message", None) or exc).lower()
    return "released" in text or "not loaded" in text or "call load()" in text


def _is_outage(exc: Exception) -> bool:
    """A failure to reach Milvus (it may come back), not a request Milvus refused."""
    if isinstance(exc, ConnectionError | TimeoutError) or type(exc).__name__ in (
        "RpcError",
        "DataDirLockedError",
        "MilvusUnavailableException",
        "ConnectionNotExistException",
        "ConnectError",
    ):
        return True
    text = str(getattr(exc, "message", None) or exc).lower()
    return any(word in text for word in _OUTAGE_WORDS)


def _reason(exc: Exception) -> str:
    reason = str(getattr(exc, "message", None) or exc).strip().splitlines()
    return (reason[0] if reason else type(exc).__name__)[:300]


def rejected(config: MilvusConfig, what: str, exc: Exception) -> IndexCorrupt:
    return IndexCorrupt(
        f"{config.describe()} rejected {what}: {_reason(exc)}. The collections may have been "
        "made by another version of article-qa; rebuild with `qa ingest --rebuild PATH`.",
        detail={"backend": "milvus", "uri": config.uri, "operation": what},
    )


def unavailable(config: MilvusConfig, what: str, exc: Exception) -> IndexUnavailable:
    text = _reason(exc)
    held = config.is_lite and ("lock" in text.lower() or "open local milvus" in text.lower())
    hint = f" {LITE_HINT.format(uri=config.uri)}." if held else ""
    return IndexUnavailable(
        f"{config.describe()} is unavailable ({what}: {text}).{hint} Requests are answered "
        "again as soon as it is back.",
        detail={"backend": "milvus", "uri": config.uri, "operation": what},
    )
