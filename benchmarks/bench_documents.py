"""Benchmark: how well PDF, Word and scanned documents are read, against the libraries' own text.

Run with ``python benchmarks/bench_documents.py`` (``make bench`` runs it too).  The documents
are generated from known paragraphs (tests/docgen.py: the CJK font `make test` installs):

- ``policy``: a three-page government decision: issuer banner, two-line title, numbered
  articles, a running header and ``- N -`` page numbers, a ruled table, a two-column page;
- ``flowing``: paragraphs over pages, one broken by a page break;
- ``english``: a hyphenated English line break and full-width digits;
- ``scanned``: the decision's first page as an image (OCR), plus a blank page;
- ``unruled``: a key/value table without ruling lines, then a sentence;
- ``attachments``: three pages each opening with its own ``附件N`` heading in the top margin;
- ``word``: the decision as .docx (headings, a table, a numbered list, page breaks).

For each, and for the raw text of pdfplumber, pypdfium2 and pypdf on the same PDF:

- body kept: characters of the known body found in order (longest common subsequence, spaces
  ignored) over the body's characters;
- boilerplate removed: running-header, footer and page-number lines of which no copy is left;
- paragraphs exact: body paragraphs found verbatim (order, line joining, no stray spaces);
- seconds to read.
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.docs.docx import read_docx  # noqa: E402
from index.docs.ocr import Ocr  # noqa: E402
from index.docs.pdf import read_pdf  # noqa: E402
from tests import docgen  # noqa: E402

OUT = ROOT / "var" / "bench" / "documents.json"


def _pdfplumber(data: bytes) -> str:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def _pypdfium2(data: bytes) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def _pypdf(data: bytes) -> str:
    import pypdf

    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def measure(name: str, read: Callable[[], str], doc: docgen.GeneratedPdf) -> dict[str, object]:
    started = time.perf_counter()
    text = read()
    seconds = time.perf_counter() - started
    kept, removed = docgen.quality(text, doc)
    exact = sum(1 for p in doc.body if p in text) / max(1, len(doc.body))
    return {
        "reader": name,
        "body_kept": round(kept, 4),
        "boilerplate_removed": round(removed, 4) if doc.boilerplate else None,
        "paragraphs_exact": round(exact, 4),
        "seconds": round(seconds, 3),
    }


def documents() -> dict[str, docgen.GeneratedPdf]:
    scan_body = [a.replace(" ", "") for a in docgen.ARTICLES[:3]]  # the scan's text has no space
    return {
        "policy": docgen.policy_pdf(),
        "flowing": docgen.flowing_pdf(),
        "english": docgen.hyphenated_pdf(),
        "scanned": docgen.GeneratedPdf(docgen.scanned_pdf(blank_page=True), scan_body, [], 2),
        "unruled": docgen.unruled_table_pdf(),
        "attachments": docgen.attachments_pdf(),
        "word": docgen.policy_docx(),
    }


def main() -> None:
    ocr = Ocr()
    rows = []
    for name, doc in documents().items():
        if name == "word":
            rows.append(
                {"document": name}
                | measure("article-qa", lambda d=doc: read_docx(d.data, "x.docx").text, doc)
            )
            continue
        ours = measure("article-qa", lambda d=doc: read_pdf(d.data, "x.pdf", ocr).text, doc)
        rows.append({"document": name} | ours)
        for reader, fn in (
            ("pdfplumber", _pdfplumber),
            ("pypdfium2", _pypdfium2),
            ("pypdf", _pypdf),
        ):
            rows.append({"document": name} | measure(reader, lambda d=doc, f=fn: f(d.data), doc))
    head = f"{'document':12} {'reader':11} {'body kept':>9} {'boilerplate':>11}"
    print(f"{head} {'exact ¶':>8} {'s':>6}")
    for r in rows:
        removed = "-" if r["boilerplate_removed"] is None else f"{r['boilerplate_removed']:.3f}"
        print(
            f"{r['document']:12} {r['reader']:11} {r['body_kept']:9.4f} {removed:>11} "
            f"{r['paragraphs_exact']:8.3f} {r['seconds']:6.2f}"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
