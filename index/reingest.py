"""Re-ingesting a document from the original file kept when it was ingested.

`reingest` looks the document up in the current version (without the writer's lock), copies
its kept original (``index.store.originals``) under its source name into a temporary folder and
ingests it with ``force``: extracted, cleaned, chunked and embedded again even though the file
is unchanged.  The ingest checks, holding the lock, that the document still has the content
hash the look-up saw, so a document removed or replaced in between is reported failed and never
brought back.

Leaves out: the ingest itself (``index.build``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from index.build import Destination, Report, existing, ingest
from index.embed.embedder import Embedder
from index.errors import NotFound
from index.store import versions
from index.store.chunks import ChunkStore, DocumentInfo
from index.store.manifest import ChunkParams
from index.store.milvus.client import MilvusConfig
from index.store.originals import Originals


def reingest(
    index_dir: Destination,
    doc_id: str,
    embedder: Embedder,
    params: ChunkParams,
    *,
    originals: Path,
    **options: Any,
) -> Report:
    """Ingest one document again from its kept original (after extraction changed, say).

    A document removed or replaced between the look-up and the ingest is reported failed,
    never brought back."""
    found = _lookup(index_dir, doc_id)
    if found is None:
        raise NotFound(f"No document with id {doc_id!r} in the index.")
    kept = Originals(originals).get(found.content_hash)
    missing = NotFound(
        f"The original file of {doc_id!r} ({found.source}) is not kept (it was ingested "
        "before originals were kept, or from data); ingest the file again instead."
    )
    if kept is None:
        raise missing
    with tempfile.TemporaryDirectory(prefix="qa-reingest-") as folder:
        path = Path(folder) / Path(found.source).name
        try:
            shutil.copyfile(kept, path)
        except FileNotFoundError:  # pruned meanwhile
            raise missing from None
        force = {doc_id: found.content_hash}
        return ingest(index_dir, [path], embedder, params, originals=originals, force=force,
                      **options)  # fmt: skip


def _lookup(destination: Destination, doc_id: str) -> DocumentInfo | None:
    """A document's row in the current version, read without taking the writer's lock."""
    if isinstance(destination, MilvusConfig):
        with existing(destination) as work:
            return work.document(doc_id)
    current = versions.pointed(destination)
    if current is None:
        raise NotFound(f"There is no index at {destination}.")
    store = ChunkStore(current / ChunkStore.FILENAME, readonly=True)
    try:
        found = store.document(doc_id)
    finally:
        store.close()
    return found[0] if found else None
