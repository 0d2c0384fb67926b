"""OCR with the models inside the rapidocr wheel: scanned PDF pages and image files, Chinese
and English, and pages it cannot read reported (never silently dropped)."""

from __future__ import annotations

import pytest
from PIL import Image

from index.build import ingest
from index.docs.model import page_at
from index.docs.ocr import Ocr, read_image_file
from index.docs.pdf import read_pdf
from index.errors import IngestError
from index.store.loader import open_index
from index.store.manifest import ChunkParams
from tests import docgen
from tests.fakes import FakeEmbedder

pytestmark = pytest.mark.ocr


@pytest.fixture(scope="module")
def ocr():
    return Ocr()


def test_the_models_ship_inside_the_wheel():
    from importlib import resources

    from index.docs.ocr import MODELS

    folder = resources.files("rapidocr") / "models"
    assert all((folder / name).is_file() for name in MODELS)


def test_a_scanned_pdf_is_read_and_its_blank_page_reported(ocr):
    got = read_pdf(docgen.scanned_pdf(blank_page=True), "scan.pdf", ocr)
    assert got.ocr_pages == (1, 2) and got.pages == 2
    for article in docgen.ARTICLES[:3]:  # OCR drops the space after 第一条
        body = article.replace(" ", "")
        matched = docgen.quality(got.text, docgen.GeneratedPdf(b"", [body]))[0]
        assert matched >= 0.97, (matched, got.text)
    assert got.text.split("\n\n")[0].startswith("第一条为深入贯彻")
    [warning] = got.warnings
    assert warning.startswith("scan.pdf: page 2: no text could be read")
    assert page_at(got.page_starts, got.text.index("第三条")) == 1


def test_an_image_file_in_chinese_and_english(ocr):
    lines = ["兰州市人民政府关于黄河流域的决定", "The Lanzhou decision on the Yellow River."]
    image = docgen.render_page(lines)
    got = read_image_file(docgen.image_bytes(image, "PNG"), "scan.png", ocr)
    assert got.fmt == "image" and got.pages == 1 and not got.warnings
    assert "兰州市人民政府关于黄河流域的决定" in got.text
    assert "Lanzhou decision on the Yellow River" in got.text


def test_an_unreadable_image_fails_with_its_reason(tmp_path):
    blank = tmp_path / "blank.jpg"
    blank.write_bytes(docgen.image_bytes(Image.new("RGB", (800, 600), "white"), "JPEG"))
    report = ingest(tmp_path / "idx", [blank], FakeEmbedder(), ChunkParams(256, 32))
    [(_, reason)] = report.failed
    assert "no text in this document" in reason and "page 1: no text could be read" in reason


def test_a_scan_ingests_with_its_warning_and_pages(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(docgen.scanned_pdf(blank_page=True))
    report = ingest(tmp_path / "idx", [path], FakeEmbedder(), ChunkParams(256, 32))
    assert report.added == ["scan"] and len(report.warnings) == 1
    doc = open_index(tmp_path / "idx").documents["scan"]
    assert doc.fmt == "pdf" and doc.pages == 2 and "page 2" in doc.warnings[0]


def test_broken_images_are_refused(ocr):
    with pytest.raises(IngestError, match="not a readable image"):
        read_image_file(b"\x89PNG\r\n\x1a\n" + bytes(40), "bad.png", ocr)


def test_a_scan_with_a_line_of_real_text_on_it_is_still_read_by_ocr(ocr):
    stamp = "内部资料 仅供参考 请勿外传 扫描件"
    got = read_pdf(docgen.scanned_pdf(stamp=stamp), "stamped.pdf", ocr)
    assert got.ocr_pages == (1,) and "第二条" in got.text and "黄河干流" in got.text


def test_a_rotated_page_is_read_upright_by_ocr(ocr):
    import io

    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(docgen.flowing_pdf(paragraphs=3).data))
    writer = pypdf.PdfWriter()
    writer.add_page(reader.pages[0])
    writer.pages[0].rotate(90)  # a landscape scan of a portrait page, say
    buffer = io.BytesIO()
    writer.write(buffer)
    got = read_pdf(buffer.getvalue(), "rotated.pdf", ocr)
    assert got.ocr_pages == (1,)
    assert "黄河流域生态保护" in got.text and "（二）" in got.text


def test_every_frame_of_a_tiff_is_a_page_and_an_oversized_frame_is_refused(ocr):
    import io

    small = docgen.render_page(["兰州市第一页的文字内容"])
    frames = [small, docgen.render_page(["第二页写着黄河生态保护"])]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    got = read_image_file(buffer.getvalue(), "two.tif", ocr)
    assert got.pages == 2 and got.page_starts[1] == got.text.index("第二页")
    big = io.BytesIO()
    tiny = Image.new("L", (10, 10), 255)
    tiny.save(big, format="TIFF", save_all=True, append_images=[Image.new("1", (9000, 9000))])
    with pytest.raises(IngestError, match=r"page 2 is over 60 megapixels"):
        read_image_file(big.getvalue(), "bomb.tif", ocr)


def test_a_page_scanned_upside_down_is_read_in_order(ocr):
    lines = [line for p in docgen.ARTICLES[:2] for line in docgen.wrap(p)]
    image = docgen.render_page(lines, height=1754).rotate(180)
    got = read_image_file(docgen.image_bytes(image), "upside.png", ocr)
    body = [a.replace(" ", "") for a in docgen.ARTICLES[:2]]
    assert got.text.split("\n\n") == body, got.text
