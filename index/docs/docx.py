"""Word (.docx) -> `Extracted`: the body in document order, with lists, tables and pages.

`read_docx` is the entry point (``index.docs.extract`` calls it).  It checks the archive
before python-docx opens the package, has the body walked into pages of paragraphs
(``index.docs.docx_body``; list labels from ``index.docs.docx_numbering``, whose
`format_number` is importable from here too) and adds the metadata.  A paragraph Word broke
across pages is joined back by `Extracted.of_pages` (`Page.continued`).  Without rendered
breaks (``w:lastRenderedPageBreak``, which Word writes on save), when docProps/app.xml counts
more pages than the markers make (none at all, or a WPS file with explicit breaks only), page
positions are unknown: ``page_starts`` is empty and ``pages`` the app.xml count.

Metadata (``index.docs.docmeta``): title and author from the core properties when plausible,
else the title is the first heading, then the first short paragraph; a date line in the text
beats the created/modified dates; the issuer from the text.  Header and footer text is not
body; it is counted in ``boilerplate_chars``.  Damaged, encrypted, old binary .doc and empty
files are refused with an `IngestError` naming the file, as are other Office files, ZIPs,
PDFs and RTF named .docx, and archives that unpack to too much.

Leaves out: footnotes, endnotes, comments, field codes, images (no OCR inside a .docx), and
exact page positions where Word wrote none.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
import zlib
from dataclasses import replace
from typing import Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.parser import parse_xml
from lxml import etree

from index.docs import docmeta
from index.docs.docx_body import Body, Styles
from index.docs.docx_numbering import Element, Numbering, W, format_number
from index.docs.model import Extracted, Page
from index.docs.text import tidy
from index.errors import IngestError

__all__ = ["OLE_MAGIC", "format_number", "read_docx"]  # what other modules import

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
MAX_BODY_BYTES = 100_000_000  # word/document.xml unpacked
MAX_UNPACKED_BYTES = 500_000_000  # all parts unpacked (python-docx loads every part)
TITLE_MAX = 60
_TEMPLATE_STAMP = dt.datetime(2013, 12, 23, 23, 15, tzinfo=dt.UTC)  # python-docx's template
_DAMAGED = (
    zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, IndexError, TypeError,
    AttributeError, EOFError, OSError, RuntimeError, NotImplementedError, zlib.error,
    etree.LxmlError, PackageNotFoundError,
)  # fmt: skip
_PASSWORD = "this document is password-protected; remove the password and upload it again"


def read_docx(data: bytes, name: str) -> Extracted:
    """The text, pages and metadata of a .docx file; `IngestError` for anything unreadable."""
    archive = _archive(data, name)
    try:
        document = docx.Document(io.BytesIO(data))
        styles, numbering = _related(document, RT.STYLES), _related(document, RT.NUMBERING)
        body = Body(Styles(styles), Numbering(numbering))
        body.read(document.element.body)
        meta = _metadata(document, body)
        boilerplate = _boilerplate_chars(archive)
    except IngestError:
        raise
    except _DAMAGED as exc:
        raise _damaged(name, exc) from None
    if not any(body.pages):
        pictures = " (only pictures; export it as PDF so OCR can read them)" if body.objects else ""
        raise IngestError(f"{name}: no text in this document{pictures}")
    pages = [Page(i + 1, tuple(p), continued=c) for i, (p, c) in enumerate(body.page_list())]
    result = Extracted.of_pages("docx", pages, **meta)
    result = replace(result, boilerplate_chars=boilerplate, stats=body.stats)
    counted = _app_pages(archive)
    if counted and counted > len(pages) and not body.rendered_breaks:
        result = replace(result, page_starts=(), pages=counted)  # where pages start is unknown
    return result


def _archive(data: bytes, name: str) -> zipfile.ZipFile:
    if data.startswith(OLE_MAGIC):
        if ENCRYPTED_STREAM in data:
            raise IngestError(f"{name}: {_PASSWORD}")
        raise IngestError(
            f"{name}: an old Word 97-2003 .doc (or WPS) file, not .docx; "
            "open it in Word or WPS and save it as .docx"
        )
    if not data.startswith(b"PK"):
        kind = "it is a PDF; name it .pdf" if data.startswith(b"%PDF") else "not a ZIP archive"
        kind = "it is an RTF file" if data.startswith(b"{\\rtf") else kind
        raise IngestError(f"{name}: not a Word .docx file ({kind}); save it as .docx")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = {info.filename: info for info in archive.infolist()}
    except _DAMAGED as exc:
        raise _damaged(name, exc) from None
    if "word/document.xml" not in infos:
        raise IngestError(f"{name}: {_not_word(set(infos))}; save it as .docx and upload it again")
    if any(info.flag_bits & 1 for info in infos.values()):
        raise IngestError(f"{name}: {_PASSWORD}")
    if (
        infos["word/document.xml"].file_size > MAX_BODY_BYTES
        or sum(i.file_size for i in infos.values()) > MAX_UNPACKED_BYTES
    ):
        raise IngestError(f"{name}: unpacks to too much data for one document; split it")
    return archive


def _not_word(names: set[str]) -> str:
    for part, kind in (("xl/workbook.xml", "Excel"), ("ppt/presentation.xml", "PowerPoint")):
        if part in names:
            return f"an {kind} file, not a Word document"
    if "content.xml" in names:
        return "an OpenDocument (.odt) file, not a Word .docx"
    return "a ZIP archive but not a Word document (no word/document.xml)"


def _damaged(name: str, exc: BaseException) -> IngestError:
    if isinstance(exc, ValueError) and "content type" in str(exc):
        return IngestError(
            f"{name}: a macro-enabled document or a template, not a plain .docx; "
            "save it as Word Document (.docx)"
        )
    detail = f"{type(exc).__name__}: {exc}"[:160]
    return IngestError(
        f"{name}: a damaged or truncated .docx file ({detail}); "
        "open it in Word, save it again and upload it again"
    )


def _related(document: Any, reltype: str) -> Element | None:
    """The XML of the part the document relates by ``reltype``; None when it is missing or
    damaged (a damaged styles or numbering part costs only headings and list labels)."""
    try:
        return document.part.part_related_by(reltype).element
    except (KeyError, AttributeError):
        return None


def _metadata(document: Any, body: Body) -> dict[str, str | None]:
    title, author, created, modified = _core_properties(document)
    created, modified = (None if d == _TEMPLATE_STAMP else d for d in (created, modified))
    author = None if author == "python-docx" else author  # python-docx's template default
    title = docmeta.plausible_title(title) or _body_title(body)
    return {
        "title": title or None,
        "date": docmeta.find_date(body.lines) or _day(created) or _day(modified),
        "issuer": docmeta.find_issuer(body.lines, title),
        "author": docmeta.plausible_author(author) or None,
    }


def _core_properties(document: Any) -> tuple[Any, Any, Any, Any]:
    """Title, author, created, modified; all None without a (usable) core properties part --
    python-docx would make up a title and a date for a missing one."""
    try:
        document.part.package.part_related_by(RT.CORE_PROPERTIES)
        props = document.core_properties
        return props.title, props.author, props.created, props.modified
    except (KeyError, AttributeError, ValueError, TypeError):
        return None, None, None, None


def _body_title(body: Body) -> str | None:
    """The first heading, else the first short paragraph, that can be a title."""
    for text in [*body.headings, *(p for p in body.paragraphs if len(p) <= TITLE_MAX)]:
        if docmeta.BANNER.match(text) or docmeta.DOC_NUMBER.search(text):
            continue  # the red header naming the issuer, the document number
        if docmeta.parse_date(text) is None and docmeta.plausible_title(text):
            return text
    return None


def _day(value: object) -> str | None:
    return value.strftime("%Y-%m-%d") if isinstance(value, dt.date) else None


def _boilerplate_chars(archive: zipfile.ZipFile) -> int:
    total = 0
    for name in archive.namelist():
        if re.fullmatch(r"word/(?:header|footer)\d*\.xml", name):
            root = parse_xml(archive.read(name))
            total += sum(len(tidy(t.text or "")) for t in root.iter(W + "t"))
    return total


def _app_pages(archive: zipfile.ZipFile) -> int | None:
    """The page count Word stored in docProps/app.xml, if any."""
    try:
        match = re.search(rb"<(?:\w+:)?Pages>\s*(\d{1,6})\s*</", archive.read("docProps/app.xml"))
    except KeyError:
        return None
    return int(match[1]) if match else None
