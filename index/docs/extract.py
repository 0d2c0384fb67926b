"""The one entry point for document files: bytes -> `Extracted`, or a per-file `IngestError`.

`document_format` decides how a document file (one of `EXTENSIONS`) is read: by its signature
when it has a known one (a PNG named ``.pdf`` is an image, a PDF named ``.docx`` a PDF), else by
its extension.  Text files (``.txt``, ``.md``, ``.html``) are never read as documents: a PDF
named ``.txt`` is refused by ``index.text.sources`` with a hint to rename it.  Whatever the
format, a document is refused when it has more than ``index.docs.pdf.MAX_PAGES`` pages or gives
more than `MAX_TEXT_CHARS` characters of text (a small file can unpack to a huge text).
`extract_document` reads it (``index.docs.pdf``, ``.docx``, ``.ocr``) and refuses a document
with no text at all, naming the pages OCR could not read.  Limits: `MAX_DOCUMENT_BYTES` per file
(scans are large), and the page limits of ``index.docs.pdf``.

Leaves out: text articles (``index.text.sources`` reads them) and cleaning scraped pages.
"""

from __future__ import annotations

from index.docs.model import Extracted
from index.docs.ocr import Ocr, read_image_file
from index.docs.pdf import MAX_PAGES, read_pdf
from index.errors import IngestError

MAX_DOCUMENT_BYTES = 100_000_000
MAX_TEXT_CHARS = 3_500_000  # what a 10 MB text file holds: hours of embedding on 2 cores
EXTENSIONS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
    ".bmp": "image",
    ".webp": "image",
}
_SIGNATURES = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"II*\x00", "image"),
    (b"MM\x00*", "image"),
    (b"BM", "image"),
)


def document_format(data: bytes, suffix: str) -> str:
    """``pdf``, ``docx`` or ``image``: how a file named ``*{suffix}`` (in `EXTENSIONS`) is read."""
    for signature, fmt in _SIGNATURES:
        if data.startswith(signature) and (signature != b"BM" or suffix == ".bmp"):
            return fmt
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image"
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    return EXTENSIONS[suffix]


def extract_document(data: bytes, name: str, fmt: str, ocr: Ocr) -> Extracted:
    if fmt == "pdf":
        extracted = read_pdf(data, name, ocr)
    elif fmt == "docx":
        from index.docs.docx import read_docx

        extracted = read_docx(data, name)
    else:
        extracted = read_image_file(data, name, ocr)
    if (extracted.pages or 0) > MAX_PAGES:
        raise IngestError(
            f"{name}: {extracted.pages} pages, over the {MAX_PAGES}-page limit; split the file"
        )
    if len(extracted.text) > MAX_TEXT_CHARS:
        raise IngestError(
            f"{name}: {len(extracted.text):,} characters of text, over the limit of "
            f"{MAX_TEXT_CHARS:,} for one document; split the file"
        )
    if not extracted.text.strip():
        unread = f" ({'; '.join(w.removeprefix(name + ': ') for w in extracted.warnings)})"
        raise IngestError(
            f"{name}: no text in this document{unread if extracted.warnings else ''}; "
            "nothing was indexed"
        )
    return extracted
