"""Finding input files and reading them as text.

``discover`` expands folders into the ``.txt``, ``.md`` and ``.html`` files
they contain (recursively, sorted); ``read_source`` decodes one file (UTF-8,
with or without BOM; otherwise GB18030 or Big5 when the bytes decode cleanly
as one of them) and gives it a document id: its file name without extension.
``record_source`` does the same for an article given as data (`Record`).

Leaves out: cleaning the text (``index.clean``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from index.errors import IngestError, InvalidInput

FORMATS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".html": "html"}
FORMATS[".htm"] = "html"
MAX_BYTES = 20 * 1024 * 1024
_DOC_ID = re.compile(r"^[\w\-.]{1,128}$")  # ids made from file names
_RECORD_ID = re.compile(r"^[^\s/\\?#%]{1,200}$")  # ids given as data: anything URL-path-safe
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Source:
    path: Path
    doc_id: str
    fmt: str
    text: str
    content_hash: str
    title: str | None = None


@dataclass(frozen=True)
class Record:
    """An article given as data rather than a file (evaluation corpora, importers)."""

    doc_id: str
    title: str
    text: str


def record_source(record: Record) -> Source:
    if not _RECORD_ID.match(record.doc_id):
        raise IngestError(
            f"invalid document id {record.doc_id!r}: 1-200 characters, no spaces or / \\ ? # %"
        )
    if not record.text.strip():
        raise IngestError(f"{record.doc_id}: empty text")
    # The title leads the text, as in a scraped page, so cleaning sees what it expects.
    text = f"{record.title}\n\n{record.text}" if record.title else record.text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Source(Path(f"{record.doc_id}.txt"), record.doc_id, "txt", text, digest, record.title)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Input files named by ``paths``: files as given, folders searched recursively."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in FORMATS))
        elif path.is_file():
            found.append(path)
        else:
            raise InvalidInput(f"No such file or folder: {path}")
    return found


def doc_id_for(path: Path) -> str:
    doc_id = path.stem.strip()
    if not _DOC_ID.match(doc_id):
        doc_id = re.sub(r"[^\w\-.]+", "_", doc_id)[:128].strip("_") or "document"
    return doc_id


def read_source(path: Path) -> Source:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise IngestError(f"{path}: unsupported file type {path.suffix!r} (use .txt, .md or .html)")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise IngestError(f"{path}: file is {size} bytes, over the {MAX_BYTES}-byte limit")
    data = path.read_bytes()
    if not data.strip():
        raise IngestError(f"{path}: file is empty")
    text = decode(data, path)
    digest = hashlib.sha256(data).hexdigest()
    return Source(path, doc_id_for(path), fmt, text, digest)


def decode(data: bytes, path: Path) -> str:
    """UTF-8 when valid; else the Chinese legacy encoding that decodes cleanly."""
    if b"\x00" in data[:8192]:
        raise IngestError(f"{path}: looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    candidates = []
    for encoding in ("gb18030", "big5"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        candidates.append((len(_CJK.findall(text)), text))
    if not candidates:
        raise IngestError(f"{path}: not valid UTF-8, GB18030 or Big5 text")
    return max(candidates, key=lambda c: c[0])[1]
