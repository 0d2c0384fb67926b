"""PDF reading (index.docs.pdf, layout): reading order, running lines, tables, metadata, pages,
and every bad file refused with a per-file message; then PDFs through the ingest to citations.

The documents are generated (tests/docgen.py) from known paragraphs, so what was kept and what
was removed is measured, not eyeballed. OCR runs in tests/test_ocr.py.
"""

from __future__ import annotations

import re

import pytest

from index.build import ingest
from index.docs import pdf as pdf_mod
from index.docs.model import page_at
from index.docs.ocr import Ocr
from index.docs.pdf import read_pdf
from index.errors import IngestError
from index.store.chunks import ChunkStore
from index.store.loader import open_index
from index.store.manifest import ChunkParams
from index.store.originals import Originals
from index.text import sources
from tests import docgen
from tests.fakes import FakeEmbedder

PARAMS = ChunkParams(256, 32)


@pytest.fixture(scope="module")
def policy():
    doc = docgen.policy_pdf()
    return doc, read_pdf(doc.data, "policy.pdf", Ocr())


def test_body_is_kept_in_reading_order_and_boilerplate_removed(policy):
    doc, got = policy
    kept, removed = docgen.quality(got.text, doc)
    assert kept >= 0.995 and removed == 1.0, (kept, removed)
    cursor = 0
    for paragraph in doc.body:  # in order: the left column is read before the right one
        found = got.text.find(paragraph, cursor)
        assert found >= 0, (paragraph, got.text[cursor : cursor + 80])
        cursor = found + len(paragraph)
    assert got.text.split("\n\n") == doc.body  # one paragraph each, none split or merged
    header, numbers = len(docgen.RUNNING_HEADER) * 3, len("- 1 -") * 3
    assert got.boilerplate_chars == header + numbers


def test_lines_are_joined_without_spaces_inside_chinese(policy):
    _, got = policy
    assert "全面绿色转型" in got.text and "认建认养" in got.text  # words broken by line ends
    assert "第一条 为深入贯彻" in got.text  # a real space stays


def test_a_ruled_table_becomes_readable_rows(policy):
    _, got = policy
    rows = "\n".join(" | ".join(row) for row in docgen.TABLE)
    assert rows in got.text.split("\n\n")


def test_metadata_from_the_file_and_the_first_page(policy):
    _, got = policy
    assert got.title == "".join(docgen.TITLE)
    assert (got.date, got.issuer, got.pages) == ("2023-05-06", docgen.ISSUER, 3)


def test_title_from_the_largest_lines_when_the_file_has_none():
    doc = docgen.policy_pdf(metadata=False)
    got = read_pdf(doc.data, "x.pdf", Ocr())
    assert got.title == "".join(docgen.TITLE) and got.issuer == docgen.ISSUER


def test_pages_map_every_span_to_its_page(policy):
    _, got = policy
    assert page_at(got.page_starts, got.text.index("第五条")) == 1
    assert page_at(got.page_starts, got.text.index("第六条")) == 2
    assert page_at(got.page_starts, got.text.index("森林覆盖率 |")) == 2
    assert page_at(got.page_starts, got.text.index("附件二")) == 3


def test_a_paragraph_broken_by_a_page_break_is_one_paragraph_with_exact_pages():
    doc = docgen.flowing_pdf()
    got = read_pdf(doc.data, "flow.pdf", Ocr())
    assert doc.pages >= 2 and got.text.split("\n\n") == doc.body
    start = got.page_starts[1]
    paragraph_start = got.text.rfind("\n\n", 0, start) + 2
    assert paragraph_start < start < got.text.find("\n\n", start)  # the break is mid-paragraph
    assert page_at(got.page_starts, paragraph_start) == 1
    assert page_at(got.page_starts, start) == 2
    assert docgen.quality(got.text, doc)[1] == 1.0


def test_hyphenation_and_full_width_digits():
    doc = docgen.hyphenated_pdf()
    assert read_pdf(doc.data, "en.pdf", Ocr()).text == doc.body[0]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (docgen.encrypted_pdf(), "password-protected; remove the password"),
        (docgen.policy_pdf().data[:20_000], "damaged or truncated PDF"),
        (b"<!DOCTYPE html><html><body>Login</body></html>", "not a PDF but a web page (HTML)"),
        (b"just some bytes", "not a PDF file"),
        (b"%PDF-1.7\n" + bytes(range(256)) * 4, "damaged or truncated PDF"),
    ],
)
def test_bad_pdfs_are_refused_with_a_reason(data, reason):
    with pytest.raises(IngestError, match=re.escape(reason)) as caught:
        read_pdf(data, "bad.pdf", Ocr())
    assert caught.value.message.startswith("bad.pdf: ")


def test_page_limits(monkeypatch):
    monkeypatch.setattr(pdf_mod, "MAX_PAGES", 5)
    with pytest.raises(IngestError, match=r"6 pages, over the 5-page limit; split the file"):
        read_pdf(docgen.many_pages_pdf(6), "long.pdf", Ocr())
    monkeypatch.setattr(pdf_mod, "MAX_OCR_PAGES", 0)
    with pytest.raises(IngestError, match=r"1 pages need OCR \(scanned.*at most 0 per file"):
        read_pdf(docgen.scanned_pdf(), "scan.pdf", Ocr())


def test_a_500_page_pdf_is_read_with_every_page():
    got = read_pdf(docgen.many_pages_pdf(500), "long.pdf", Ocr())
    assert got.pages == 500 and len(got.page_starts) == 500
    assert page_at(got.page_starts, got.text.index("第500页")) == 500


def _write(folder, name, data):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


def test_a_folder_ingest_lands_the_good_files_and_reports_each_bad_one(tmp_path, monkeypatch):
    src = tmp_path / "src"
    policy = docgen.policy_pdf().data
    _write(src, "policy.pdf", policy)
    _write(src, "locked.pdf", docgen.encrypted_pdf())
    _write(src, "page.pdf", b"<html><body>404</body></html>")
    _write(src, "cut.pdf", docgen.policy_pdf().data[:9000])
    _write(src, "huge.pdf", policy + b"%" * 5000)  # the same PDF, over the limit
    monkeypatch.setattr(sources, "MAX_DOCUMENT_BYTES", len(policy) + 1000)
    index = tmp_path / "idx"
    first = ingest(index, [_write(tmp_path / "old", "old.pdf", docgen.many_pages_pdf(2))],
                   FakeEmbedder(), PARAMS)  # fmt: skip
    assert first.added == ["old"]
    report = ingest(index, [src], FakeEmbedder(), PARAMS)
    assert report.added == ["policy"]
    failed = {name.rsplit("/", 1)[-1]: why for name, why in report.failed}
    assert set(failed) == {"locked.pdf", "page.pdf", "cut.pdf", "huge.pdf"}, failed
    assert "password-protected" in failed["locked.pdf"] and "web page" in failed["page.pdf"]
    assert "MB limit for one article; split it" in failed["huge.pdf"]
    assert {d.doc_id for d in open_index(index).documents.values()} == {"old", "policy"}


def test_ingested_pdf_keeps_format_pages_and_metadata(tmp_path):
    path = _write(tmp_path / "src", "lanzhou.pdf", docgen.policy_pdf().data)
    ingest(tmp_path / "idx", [path], FakeEmbedder(), PARAMS)
    index = open_index(tmp_path / "idx")
    doc = index.documents["lanzhou"]
    assert (doc.fmt, doc.pages, doc.date, doc.outlet) == ("pdf", 3, "2023-05-06", docgen.ISSUER)
    _, text = index.document_text("lanzhou")
    assert page_at(doc.page_starts, text.index("附件二")) == 3


def test_originals_are_kept_reingested_and_pruned(tmp_path):
    from index.build import remove
    from index.reingest import reingest

    originals = tmp_path / "originals"
    path = _write(tmp_path / "src", "lanzhou.pdf", docgen.policy_pdf().data)
    ingest(tmp_path / "idx", [path], FakeEmbedder(), PARAMS, originals=originals)
    digest = open_index(tmp_path / "idx").documents["lanzhou"].content_hash
    assert Originals(originals).get(digest).read_bytes() == path.read_bytes()
    path.unlink()  # the file is gone: the kept copy is what re-ingests
    again = reingest(tmp_path / "idx", "lanzhou", FakeEmbedder(), PARAMS, originals=originals)
    assert again.replaced == ["lanzhou"] and again.version == "v000002"
    remove(tmp_path / "idx", ["lanzhou"], originals)
    assert Originals(originals).get(digest) is not None  # kept versions still refer to it
    for n in range(3):  # until no kept version does
        other = _write(tmp_path / "src", f"other{n}.pdf", docgen.many_pages_pdf(n + 1))
        ingest(tmp_path / "idx", [other], FakeEmbedder(), PARAMS, originals=originals)
    assert Originals(originals).get(digest) is None
    assert len(list(originals.iterdir())) == 3


def test_reingest_without_a_kept_original_says_so(tmp_path):
    from index.errors import NotFound
    from index.reingest import reingest

    path = _write(tmp_path / "src", "a.pdf", docgen.many_pages_pdf(1))
    ingest(tmp_path / "idx", [path], FakeEmbedder(), PARAMS)
    with pytest.raises(NotFound, match="not kept"):
        reingest(tmp_path / "idx", "a", FakeEmbedder(), PARAMS, originals=tmp_path / "o")
    with pytest.raises(NotFound, match="No document"):
        reingest(tmp_path / "idx", "zz", FakeEmbedder(), PARAMS, originals=tmp_path / "o")


def test_a_store_from_before_the_page_columns_still_reads(tmp_path):
    text = "兰州市委的决定。\n\n" + "要求抓实抓好细胞工程。" * 20
    path = _write(tmp_path / "src", "a.txt", text.encode())
    ingest(tmp_path / "idx", [path], FakeEmbedder(), PARAMS)
    store = next((tmp_path / "idx" / "versions").iterdir()) / ChunkStore.FILENAME
    import sqlite3

    db = sqlite3.connect(store)
    for column in ("format", "pages", "page_starts", "warnings"):
        db.execute(f"ALTER TABLE documents DROP COLUMN {column}")
    db.commit()
    db.close()
    [doc] = ChunkStore(store, readonly=True).documents()
    assert (doc.fmt, doc.pages, doc.page_starts) == ("txt", None, ())


def test_answers_cite_the_page_of_a_pdf(tmp_path, dictionary):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from qa.answering.extractive import ExtractiveGenerator
    from qa.retrieval.retrieve import RetrievalConfig
    from qa.service import QAService
    from qa.settings import Settings

    path = _write(tmp_path / "src", "lanzhou.pdf", docgen.policy_pdf().data)
    ingest(tmp_path / "idx", [path], FakeEmbedder(), PARAMS)
    index = open_index(tmp_path / "idx")
    config = RetrievalConfig(min_dense_score=0.6, min_keyword_coverage=0.5, max_per_doc=5)
    service = QAService(index, FakeEmbedder(), ExtractiveGenerator(index), config, dictionary)
    with TestClient(create_app(Settings(), service=service)) as client:
        body = client.post("/v1/ask", json={"question": "附件二 污水处理厂提标改造"}).json()
        doc = client.get("/v1/documents/lanzhou").json()
    assert body["citations"], body
    for c in body["citations"]:
        assert c["page"] == page_at(doc["page_starts"], c["start"]) and c["page"] >= 1
        assert c["page_end"] == page_at(doc["page_starts"], c["end"] - 1) >= c["page"]
    assert any(c["page"] == 3 and "附件二" in c["quote"] for c in body["citations"]), body
    assert doc["format"] == "pdf" and doc["pages"] == 3 and len(doc["page_starts"]) == 3


def test_the_same_file_under_another_name_is_not_indexed_twice(tmp_path):
    data = docgen.policy_pdf().data
    first = _write(tmp_path / "a", "lanzhou.pdf", data)
    ingest(tmp_path / "idx", [first], FakeEmbedder(), PARAMS)
    report = ingest(tmp_path / "idx", [_write(tmp_path / "b", "copy.pdf", data)],
                    FakeEmbedder(), PARAMS)  # fmt: skip
    [(_, reason)] = report.failed
    assert "the same file is already indexed as 'lanzhou'; not indexed twice" in reason
    assert set(open_index(tmp_path / "idx").documents) == {"lanzhou"}


def test_an_unchanged_document_is_not_extracted_again(tmp_path, monkeypatch):
    path = _write(tmp_path / "src", "lanzhou.pdf", docgen.policy_pdf().data)
    ingest(tmp_path / "idx", [path], FakeEmbedder(), PARAMS)
    calls = []
    monkeypatch.setattr(sources, "extract_document", lambda *a: calls.append(a))
    report = ingest(tmp_path / "idx", [path], FakeEmbedder(), PARAMS)
    assert report.unchanged == ["lanzhou"] and not calls and report.version is None


def test_a_reingest_of_a_document_replaced_meanwhile_changes_nothing(tmp_path):
    path = _write(tmp_path / "src", "lanzhou.pdf", docgen.policy_pdf().data)
    ingest(tmp_path / "idx", [path], FakeEmbedder(), PARAMS)
    stale = {"lanzhou": "0" * 64}  # what the look-up saw, before someone replaced the file
    report = ingest(tmp_path / "idx", [path], FakeEmbedder(), PARAMS, force=stale)
    [(_, reason)] = report.failed
    assert "was removed or replaced meanwhile" in reason and report.version is None


def test_a_document_with_too_much_text_is_refused(monkeypatch):
    from index.docs import extract

    monkeypatch.setattr(extract, "MAX_TEXT_CHARS", 500)
    with pytest.raises(IngestError, match=r"characters of text, over the limit of 500"):
        extract.extract_document(docgen.policy_pdf().data, "long.pdf", "pdf", Ocr())


def test_an_unruled_key_value_table_is_read_as_rows_not_columns():
    doc = docgen.unruled_table_pdf()
    got = read_pdf(doc.data, "table.pdf", Ocr())
    assert got.text.split("\n\n") == doc.body, got.text


def test_headings_that_differ_only_in_their_number_are_not_running_headers():
    doc = docgen.attachments_pdf()
    got = read_pdf(doc.data, "attachments.pdf", Ocr())
    for n in (1, 2, 3):
        assert f"附件{n}" in got.text
    assert got.title != "附件1" and docgen.quality(got.text, doc)[0] >= 0.99


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("2023年5月6日", "2023-05-06"),
        ("二〇二三年五月六日", "2023-05-06"),
        ("二〇二三年十二月三十一日", "2023-12-31"),
        ("中華民國一百一十二年六月十五日", "2023-06-15"),
        ("中華民國113年1月2日", "2024-01-02"),
        ("March 12, 2024", "2024-03-12"),
        ("12 March 2024", "2024-03-12"),
        ("2024/3/12", "2024-03-12"),
        ("Febtember 3, 2020", None),
        ("2023年13月1日", None),
    ],
)
def test_signing_dates_in_every_common_form(text, date):
    from index.docs.docmeta import parse_date

    assert parse_date(text) == date
