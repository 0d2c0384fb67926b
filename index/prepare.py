"""One document made ready to index: read, cleaned (or extracted), chunked.

`prepare` turns a `Source` into its `DocumentInfo` row, its text and its chunks with their
keyword terms, and the texts to embed (the title leads each chunk's).  A scraped article is
cleaned (``index.text.clean``); a PDF, Word or image file arrives extracted (``index.docs``)
with its pages.

Leaves out: deciding whether to ingest it (``index.build``) and embedding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from index.embed.embedder import Embedder
from index.errors import IngestError
from index.store.chunks import ChunkRecord, DocumentInfo
from index.store.manifest import ChunkParams
from index.text.chunk import chunk_text
from index.text.clean import clean_document
from index.text.sources import Source, display
from index.text.textnorm import keyword_terms


@dataclass
class Pending:
    doc: DocumentInfo
    text: str
    chunks: list[ChunkRecord]
    embed_texts: list[str]


def prepare(source: Source, params: ChunkParams, embedder: Embedder, first_id: int) -> Pending:
    doc, text = _document(source)
    title = doc.title

    def fits(text: str) -> bool:
        return embedder.count_tokens(f"{title}\n{text}") <= embedder.max_tokens

    pieces = chunk_text(text, params.max_tokens, params.overlap_tokens, fits)
    chunks = [
        ChunkRecord(
            first_id + i,
            doc.doc_id,
            c.number,
            c.start,
            c.end,
            c.text,
            tuple(keyword_terms(f"{title}\n{c.text}")),
        )
        for i, c in enumerate(pieces)
    ]
    return Pending(doc, text, chunks, [f"{title}\n{c.text}" for c in chunks])


def _document(source: Source) -> tuple[DocumentInfo, str]:
    """The document's row and its text: a scraped article cleaned, a document as extracted."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    name = display(source.path.name)
    ex = source.extracted
    if ex is not None:  # PDF, Word, image: extraction already removed what is not text
        title = source.title or ex.title or source.doc_id
        info = (title, ex.date, ex.issuer, None, ex.author, name, source.content_hash, now)
        doc = DocumentInfo(source.doc_id, *info, ex.fmt, ex.pages, ex.page_starts, ex.warnings)
        return doc, ex.text
    cleaned = clean_document(source.text, fmt=source.fmt, source_name=source.path.name)
    if not cleaned.text.strip():
        raise IngestError(f"{source.path}: no article text left after cleaning")
    title = source.title or cleaned.title or source.doc_id
    meta = (cleaned.date, cleaned.outlet, cleaned.origin, cleaned.author)
    doc = DocumentInfo(source.doc_id, title, *meta, name, source.content_hash, now, source.fmt)
    return doc, cleaned.text
