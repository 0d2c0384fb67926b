"""PDF -> `Extracted`: text layer in reading order, tables as rows, scans through OCR.

pdfplumber (pdfminer.six) gives each character with its box and font size; words are grouped
into line segments (`_segments`), ruled tables found by pdfplumber are taken out of the running
text and written as rows (``cell | cell``, one row per line) where they stand, and
`index.docs.layout` does columns, paragraphs and running headers/footers.  A paragraph that
runs over a page break is joined back together (`Page.continued`), the page boundary staying
exact.  A page with (almost) no text layer is rendered with pypdfium2 and read by OCR
(`index.docs.ocr`); a page OCR cannot read is reported in the warnings.

Refused, each with a per-file message: a file that is not a PDF (an HTML page saved as
``.pdf``), a password-protected one, a damaged one, more than `MAX_PAGES` pages, or more than
`MAX_OCR_PAGES` pages that need OCR.  pdfplumber was measured against pypdf and pypdfium2's
own text on Chinese PDFs (docs/documents.md): only it gives font sizes and ruled tables, which
titles, paragraphs and tables need.

Leaves out: metadata rules (``index.docs.docmeta``), DOCX and image files.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfplumber.utils.exceptions import PdfminerException

from index.docs import docmeta, layout
from index.docs.model import Extracted, Line, Page
from index.docs.ocr import Ocr, OcrPage, page_paragraphs, unreadable
from index.docs.text import is_wide
from index.errors import IngestError

MAX_PAGES = 2000
MAX_OCR_PAGES = 100
MIN_TEXT_CHARS = 8  # a page with fewer characters in its text layer is treated as a scan
SCAN_IMAGE_SHARE = 0.25  # ... and so is one a quarter covered by images, with little text
SCAN_MAX_CHARS = 200
MAX_CID_SHARE = 0.1  # more glyphs than this that map to no character: the text layer is unusable
MAX_TABLE_EDGES = 1500  # a page drawn with more ruling lines (a map, a chart) is not a table
MAX_RENDER_PIXELS = 12_000_000  # a huge page is rendered for OCR at a lower scale
_CID = re.compile(r"\(cid:\d+\)")  # a glyph the font does not map to any character
OCR_SCALE = 2.0  # render scanned pages at 144 dpi


@dataclass
class _Layer:
    """One page of the text layer: its segments (tables taken out) and its tables."""

    lines: list[Line]
    tables: list[tuple[float, str]]  # (top, rows)
    height: float
    chars: int  # readable characters in the text layer
    image_share: float  # share of the page covered by images
    cid_share: float = 0.0  # share of glyphs that map to no character
    rotated: bool = False  # /Rotate: the text layer's coordinates are not the page's

    @property
    def usable(self) -> bool:
        """The text layer can be read as it is (OCR may still find more on the page)."""
        return self.chars >= MIN_TEXT_CHARS and self.cid_share <= MAX_CID_SHARE and not self.rotated

    @property
    def scanned(self) -> bool:
        """No usable text layer: OCR reads the page (a scan with a stamp or page number on it,
        a font whose glyphs map to no characters, a rotated page count as one)."""
        return not self.usable or (
            self.image_share >= SCAN_IMAGE_SHARE and self.chars < SCAN_MAX_CHARS
        )


def read_pdf(data: bytes, name: str, ocr: Ocr) -> Extracted:
    _check_signature(data, name)
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            count = len(pdf.pages)
            if count > MAX_PAGES:
                raise IngestError(
                    f"{name}: {count} pages, over the {MAX_PAGES}-page limit; split the file"
                )
            layers = []
            for page in pdf.pages:
                layers.append(_layer(page))
                page.close()  # pdfplumber keeps every page's objects otherwise
            info = dict(pdf.metadata or {})
    except PdfminerException as exc:
        raise _damaged(name, exc) from None
    except IngestError:
        raise
    except Exception as exc:  # pdfminer raises many kinds on damaged files
        raise IngestError(f"{name}: a damaged PDF ({type(exc).__name__}: {exc})"[:300]) from None
    pages, warnings, first = _pages(layers, data, name, ocr)
    extracted = Extracted.of_pages("pdf", pages, warnings=tuple(warnings))
    return docmeta.with_metadata(extracted, first, info)


def _check_signature(data: bytes, name: str) -> None:
    if b"%PDF-" in data[:1024]:
        return
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        raise IngestError(
            f"{name}: not a PDF but a web page (HTML) with a .pdf name; a download that returned "
            "a web page? Download the PDF again, or save the page as .html"
        )
    raise IngestError(f"{name}: not a PDF file (no %PDF- signature at its start)")


def _damaged(name: str, exc: PdfminerException) -> IngestError:
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, PDFPasswordIncorrect):
        return IngestError(
            f"{name}: the PDF is password-protected; remove the password and upload it again"
        )
    return IngestError(f"{name}: a damaged or truncated PDF ({cause or exc}); export it again")


def _layer(page: Any) -> _Layer:
    ruled = len(page.lines) + len(page.rects) <= MAX_TABLE_EDGES
    tables = page.find_tables() if ruled else []
    boxes = [t.bbox for t in tables]
    words = page.extract_words(x_tolerance=1.5, y_tolerance=2, extra_attrs=["size"])
    words = [w for w in words if not any(_inside(w, box) for box in boxes)]
    glyphs = sum(len(w["text"]) for w in words) or 1
    unmapped = 0
    for word in words:
        word["text"], n = _CID.subn("", word["text"])
        unmapped += n * 8  # a (cid:123) stands for one glyph; weigh it like its eight characters
    words = [w for w in words if w["text"].strip()]
    rows = [(t.bbox[1], _table_text(t.extract())) for t in tables]
    readable = sum(len(w["text"]) for w in words) + sum(len(r[1]) for r in rows)
    return _Layer(
        _segments(words),
        [r for r in rows if r[1]],
        float(page.height),
        readable,
        _images(page),
        unmapped / glyphs,
        bool((page.rotation or 0) % 360),
    )


def _images(page: Any) -> float:
    """The share of the page's area its images cover (overlaps counted once per image)."""
    area = float(page.width * page.height) or 1.0
    covered = 0.0
    for image in page.images:
        width = min(image["x1"], page.width) - max(image["x0"], 0)
        height = min(image["bottom"], page.height) - max(image["top"], 0)
        covered += max(0.0, width) * max(0.0, height)
    return min(1.0, covered / area)


def _inside(word: dict[str, Any], box: tuple[float, float, float, float]) -> bool:
    cx, cy = (word["x0"] + word["x1"]) / 2, (word["top"] + word["bottom"]) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def _table_text(rows: list[list[str | None]]) -> str:
    lines = []
    for row in rows:
        cells = [_CID.sub("", re.sub(r"\s*\n\s*", "", cell or "")).strip() for cell in row]
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def _segments(words: list[dict[str, Any]]) -> list[Line]:
    """Words on one baseline, split where the gap is wider than a character."""
    segments: list[Line] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        size = float(word.get("size") or word["bottom"] - word["top"])
        last = segments[-1] if segments else None
        if (
            last is not None
            and abs(word["top"] - last.top) <= 0.3 * size
            and 0 <= word["x0"] - last.x1 <= 0.9 * size
        ):
            wide = is_wide(last.text[-1]) and is_wide(word["text"][0])
            gap = "" if wide and word["x0"] - last.x1 < 0.2 * size else " "
            segments[-1] = Line(
                last.text + gap + word["text"],
                last.x0,
                word["x1"],
                last.top,
                max(last.bottom, word["bottom"]),
                last.size,
            )
        else:
            segments.append(
                Line(word["text"], word["x0"], word["x1"], word["top"], word["bottom"], size)
            )
    return segments


def _pages(
    layers: Sequence[_Layer], data: bytes, name: str, ocr: Ocr
) -> tuple[list[Page], list[str], list[Line]]:
    """The pages' paragraphs, the warnings, and the first text page's lines without its running
    header and footer (where a title is looked for)."""
    scanned = [i for i, layer in enumerate(layers) if layer.scanned]
    if len(scanned) > MAX_OCR_PAGES:
        raise IngestError(
            f"{name}: {len(scanned)} pages need OCR (scanned, rotated or without a usable text "
            f"layer); OCR reads at most {MAX_OCR_PAGES} per file (about 2 s a page); split the file"
        )
    running = layout.running_lines([la.lines for la in layers], [la.height for la in layers])
    read = _ocr_pages(data, scanned, ocr)
    pages: list[Page] = []
    warnings: list[str] = []
    first: list[Line] = []
    for i, layer in enumerate(layers):
        kept = [ln for j, ln in enumerate(layer.lines) if j not in running[i]]
        first = first or kept
        removed = sum(len(layer.lines[j].text) for j in running[i])
        texts = _page_text(kept, layer.tables)
        if i in read:
            ocr_texts, problem = _ocr_text(read[i], name, i + 1)
            if not layer.usable or len("".join(ocr_texts)) > len("".join(texts)):
                texts, removed = ocr_texts, 0
            if not texts and problem:
                warnings.append(problem)
        pages.append(Page(i + 1, tuple(texts), i in read, removed))
    return _continuations(pages, layers), warnings, first


def _ocr_text(read: tuple[OcrPage, float] | str, name: str, number: int) -> tuple[list[str], str]:
    """An OCR'd page's paragraphs (running lines removed), or why there are none."""
    if isinstance(read, str):
        return [], f"{name}: page {number}: could not be rendered for OCR ({read})"
    result, height = read
    if not result.readable:
        return [], unreadable(name, number, result)
    running = layout.running_lines([result.lines], [height])[0]
    kept = [ln for j, ln in enumerate(result.lines) if j not in running]
    return page_paragraphs(OcrPage(kept, result.confidence)), ""


def _page_text(lines: list[Line], tables: list[tuple[float, str]]) -> list[str]:
    """Paragraphs of the page, tables in their place: the page is cut into bands at tables."""
    if not lines:
        return [rows for _, rows in sorted(tables)]
    edges = (min(ln.x0 for ln in lines), max(ln.x1 for ln in lines))
    out: list[str] = []
    remaining = sorted(lines, key=lambda ln: ln.top)
    for top, rows in sorted(tables):
        above = [ln for ln in remaining if ln.top < top]
        remaining = [ln for ln in remaining if ln.top >= top]
        out += _band(above, edges)
        out.append(rows)
    return out + _band(remaining, edges)


def _band(lines: list[Line], edges: tuple[float, float]) -> list[str]:
    """Paragraphs of a band of the page; without columns, the page's ``edges`` are its own."""
    blocks = layout.reading_order(lines)
    own = edges if len(blocks) == 1 else None
    return [p for block in blocks for p in layout.paragraphs(block, own)]


def _ocr_pages(data: bytes, numbers: list[int], ocr: Ocr) -> dict[int, tuple[OcrPage, float] | str]:
    """Each page in ``numbers`` rendered and read: (result, image height), or why it could not
    be rendered."""
    if not numbers:
        return {}
    import pypdfium2 as pdfium  # rendering only; loaded when a scan arrives

    out: dict[int, tuple[OcrPage, float] | str] = {}
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        return dict.fromkeys(numbers, str(exc))
    try:
        for i in numbers:
            try:
                page = document[i]
                width, height = page.get_size()
                scale = min(OCR_SCALE, math.sqrt(MAX_RENDER_PIXELS / max(1.0, width * height)))
                image = page.render(scale=scale).to_pil()
            except pdfium.PdfiumError as exc:
                out[i] = str(exc)
                continue
            out[i] = (ocr.read(image), float(image.height))
    finally:
        document.close()
    return out


def _continuations(pages: list[Page], layers: Sequence[_Layer]) -> list[Page]:
    """Mark pages whose first paragraph continues the previous page's last one."""
    out: list[Page] = []
    for page in pages:
        prev = next((p for p in reversed(out) if p.paragraphs), None)
        if prev is not None and page.paragraphs and _continues(prev.paragraphs[-1], page):
            page = Page(page.number, page.paragraphs, page.ocr, page.boilerplate_chars, True)
        out.append(page)
    return out


def _continues(last: str, page: Page) -> bool:
    first = page.paragraphs[0]
    return (
        not layout.ends_sentence(last)
        and "\n" not in last
        and " | " not in first
        and not layout.ENUMERATION.match(first)
        and len(last) > 20
    )
