"""The admin knowledge-base page in real headless Chromium, against a live server.

The server ingests with the fake embedder over a private copy of the fake sample index
(uploads, re-ingests and deletes change it), so no model is loaded.  Screenshots go to
``test-artifacts/kb/``.  Without /usr/bin/chromium these tests are skipped, except in CI
(``CI=true``), where they fail.  States the fake index cannot produce (page starts) are
served by Playwright's request interception.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import docgen
from tests.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer, require_chromium
from tests.conftest import ROOT
from tests.fakes import FakeEmbedder

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # reported (skip or fail) by the `browser` fixture
    sync_playwright = None

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "kb"
ADMIN = "admin-secret-for-the-kb-page"
BAIYIN_MD = """# 白银市新建三处黄河湿地公园

白银日报 2024-03-02

白银市决定在黄河沿岸新建三处湿地公园，并对沿岸排污口进行全面排查。\
市生态环境局表示，湿地保护行动将持续三年，总投资约五亿元。\
湿地公园建成后将向市民免费开放，并设立候鸟观测站。
"""
DUNHUANG_TXT = """敦煌市图书馆推出夜间开放服务

2024-04-08 09:30:00 酒泉日报

敦煌市图书馆从四月起推出夜间开放服务，每周五和周六开放到晚上十点。\
馆长表示，夜间开放服务的目标是方便上班族借书和阅读，\
图书馆还将增设自助借还机和少儿阅览区。
"""
# The files the upload test sends, by name; each must come back "added" and be listed.
# One line per file: the PDF and DOCX made by tests/docgen.py go here too.
UPLOADS: dict[str, bytes] = {
    "baiyin_wetland.md": BAIYIN_MD.encode("utf-8"),
    "dunhuang_library.txt": DUNHUANG_TXT.encode("utf-8"),
    "lanzhou_decision.pdf": docgen.policy_pdf().data,
    "lanzhou_word.docx": docgen.policy_docx().data,
}
CSP_PROBE = """window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"""


# ---- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    assert sync_playwright is not None
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def live(fake_index_dir, dictionary, tmp_path_factory) -> Iterator[LiveServer]:
    """The app as served (models given: the fake embedder) over a fresh copy of the index
    for each test: tests upload and delete."""
    from api.app import create_app
    from qa.runtime import Models
    from qa.settings import Settings

    index_dir = shutil.copytree(fake_index_dir, tmp_path_factory.mktemp("kb") / "index")
    settings = Settings(
        index_dir=index_dir,
        admin_keys=f"root:{ADMIN}",
        api_keys="portal:reader-secret-0123456789",  # the page is public even so
        rate_limit=0,
        reload_interval=0,
        crosslingual_encoder="none",
        min_dense_score=0.6,
        max_chunks_per_doc=5,
    )
    app = create_app(settings, models=Models(FakeEmbedder(), dictionary))
    server = LiveServer(app).start()
    yield server
    server.stop()


def _page(browser: Browser, width: int, height: int) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.add_init_script(CSP_PROBE)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    violations = page.evaluate("window.__violations || []")
    context.close()
    assert not errors, f"script errors on the page: {errors}"
    assert not violations, f"CSP violations: {violations}"


@pytest.fixture
def page(browser) -> Iterator[Page]:
    """A fresh desktop-sized page; a script error or a CSP violation fails the test."""
    yield from _page(browser, 1280, 900)


@pytest.fixture
def phone(browser) -> Iterator[Page]:
    yield from _page(browser, 360, 740)


# ---- driving the page --------------------------------------------------------------------


def shot(page: Page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, server: LiveServer, key: str = ADMIN) -> None:
    page.goto(f"{server.url}/admin")
    page.get_by_label("Admin key", exact=True).fill(key)
    page.get_by_role("button", name="Use key").click()


def row(page: Page, doc_id: str):
    return page.locator(f"#docs-body tr[data-doc-id='{doc_id}']")


def write_uploads(folder: Path) -> list[Path]:
    paths = []
    for name, content in UPLOADS.items():
        (folder / name).write_bytes(content)
        paths.append(folder / name)
    return paths


# ---- the tests -----------------------------------------------------------------------------


def test_upload_list_read_search_and_delete(page, live, tmp_path):
    sign_in(page, live)
    expect(page.locator("#docs-body tr")).to_have_count(5)
    expect(page.locator("#key-status")).to_contain_text("A key is set for this tab")
    assert page.evaluate("sessionStorage.getItem('article-qa-admin-key')") == ADMIN

    files = write_uploads(tmp_path)
    page.locator("#files").set_input_files(files)
    for path in files:
        upload = page.locator(f"#uploads li[data-file='{path.name}']")
        expect(upload).to_have_attribute("data-state", "added", timeout=60_000)
        expect(upload.locator(".detail")).to_contain_text(re.compile(r"\d+ chunks? embedded"))
    expect(page.locator("#upload-summary")).to_have_text(f"{len(files)} of {len(files)} files done")
    expect(page.locator("#docs-body tr")).to_have_count(5 + len(files))
    for path in files:
        expect(row(page, path.stem).locator("td.chunks")).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(page.locator("#docs thead")).to_contain_text("Outlet / issuer")
    expect(row(page, "baiyin_wetland")).to_contain_text("白银日报")
    expect(row(page, "dunhuang_library")).to_contain_text("酒泉日报")
    expect(row(page, "dunhuang_library")).to_contain_text("dunhuang_library.txt")
    shot(page, "01-uploaded-and-listed")

    title = "白银市新建三处黄河湿地公园"
    row(page, "baiyin_wetland").get_by_role("button", name=title, exact=True).click()
    panel = page.locator("#doc")
    expect(panel).to_be_visible()
    expect(page.locator("#doc-title")).to_have_text("白银市新建三处黄河湿地公园")
    expect(page.locator("#doc-text")).to_contain_text("总投资约五亿元")
    expect(page.locator("#doc-meta")).to_contain_text("baiyin_wetland.md")
    shot(page, "02-document-text")

    page.get_by_label("Question", exact=True).fill("敦煌市图书馆夜间开放到几点？")
    page.get_by_label("Passages", exact=True).fill("3")
    page.get_by_role("button", name="Search").click()
    hits = page.locator("#hits li")
    expect(hits.first).to_be_visible()
    assert hits.count() <= 3
    expect(hits.first).to_have_attribute("data-doc-id", "dunhuang_library")
    expect(hits.first.locator(".scores")).to_contain_text("score ")
    expect(hits.first.locator(".scores")).to_contain_text("cosine ")
    expect(page.locator("#search-status")).to_contain_text("the service would answer")
    shot(page, "03-try-a-question")

    # the PDF and the Word file are answered with the pages they cite
    expect(row(page, "lanzhou_decision")).to_contain_text("兰州市人民政府")
    expect(row(page, "lanzhou_decision").locator("td.pages")).to_have_text("3")
    page.get_by_label("Question", exact=True).fill("附件二 污水处理厂提标改造")
    page.get_by_role("button", name="Search").click()
    expect(hits.first).to_have_attribute("data-doc-id", "lanzhou_decision")
    expect(hits.first.locator(".scores")).to_contain_text(re.compile(r"pp?\. (2–)?3"))
    cited = page.locator("#answer-citations li[data-doc-id='lanzhou_decision']")
    expect(cited.first).to_have_attribute("data-page", "3")
    expect(cited.first).to_contain_text("p. 3")
    page.get_by_label("Question", exact=True).fill("保障措施 黄河生态保护专项资金 审计监督")
    page.get_by_role("button", name="Search").click()
    word = page.locator("#answer-citations li[data-doc-id='lanzhou_word']")
    expect(word.first).to_have_attribute("data-page", "2")
    shot(page, "03b-pdf-and-word-answered-with-pages")

    dialogs: list[str] = []

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    row(page, "baiyin_wetland").get_by_role("button", name="Delete").click()
    expect(row(page, "baiyin_wetland")).to_have_count(0)
    expect(panel).to_be_hidden()  # it showed the deleted document
    assert dialogs and "baiyin_wetland" in dialogs[0]
    expect(page.locator("#docs-body tr")).to_have_count(4 + len(files))
    expect(page.locator("#docs-status")).to_contain_text("Deleted baiyin_wetland.")
    page.once("dialog", accept)
    row(page, "lanzhou_word").get_by_role("button", name="Delete").click()
    expect(row(page, "lanzhou_word")).to_have_count(0)
    expect(page.locator("#docs-body tr")).to_have_count(3 + len(files))
    shot(page, "04-deleted")


def test_a_dismissed_delete_keeps_the_document_and_reingest_shows_its_outcome(page, live, tmp_path):
    sign_in(page, live)
    first = page.locator("#docs-body tr").first
    doc_id = first.get_attribute("data-doc-id")
    page.once("dialog", lambda dialog: dialog.dismiss())
    first.get_by_role("button", name="Delete").click()
    expect(row(page, doc_id)).to_have_count(1)

    row(page, doc_id).get_by_role("button", name="Re-ingest").click()  # indexed without one
    outcome = row(page, doc_id).locator(".outcome")
    expect(outcome).to_contain_text("is not kept", timeout=30_000)
    expect(outcome).to_contain_text("(HTTP 404, not_found)")

    (tmp_path / "dunhuang_library.txt").write_text(DUNHUANG_TXT, encoding="utf-8")
    page.locator("#files").set_input_files(tmp_path / "dunhuang_library.txt")
    upload = page.locator("#uploads li[data-file='dunhuang_library.txt']")
    expect(upload).to_have_attribute("data-state", "added", timeout=60_000)
    row(page, "dunhuang_library").get_by_role("button", name="Re-ingest").click()
    outcome = row(page, "dunhuang_library").locator(".outcome")
    expect(outcome).to_have_text(re.compile(r"^replaced · \d+ chunks? embedded$"), timeout=60_000)
    shot(page, "05-reingest-outcome")


def test_page_markers_show_where_pages_start(page, live):
    text = "第一页的内容。\n第二页的内容。\n第三页的内容。"
    doc = {
        "id": "paged",
        "title": "分页的文件",
        "date": "2024-05-01",
        "outlet": "甘肃省人民政府办公厅",
        "origin": None,
        "author": None,
        "source": "paged.pdf",
        "format": "pdf",
        "pages": 3,
        "chunks": 1,
        "ingested_at": "2024-05-01T08:00:00+00:00",
        "warnings": ["page 3: scanned, read by OCR"],
    }
    listing = {"documents": [doc], "version": "v1", "max_upload_bytes": 1 << 20}
    detail = {**doc, "page_starts": [0, 8, 16], "text": text}
    page.route("**/v1/admin/documents", lambda route: route.fulfill(json=listing))
    page.route("**/v1/admin/documents/paged", lambda route: route.fulfill(json=detail))
    sign_in(page, live)
    expect(row(page, "paged")).to_contain_text("page 3: scanned, read by OCR")
    row(page, "paged").get_by_role("button", name="分页的文件", exact=True).click()
    markers = page.locator("#doc-text .page-marker")
    expect(markers).to_have_text(["p. 1", "p. 2", "p. 3"])
    shown = page.locator("#doc-text").inner_text()
    assert shown.index("第一页") < shown.index("p. 2") < shown.index("第二页") < shown.index("p. 3")
    expect(page.locator("#doc-meta")).to_contain_text("甘肃省人民政府办公厅")
    shot(page, "06-page-markers")


def test_errors_are_shown_readably(page, live, tmp_path):
    sign_in(page, live, key="not-the-admin-key-0123")
    expect(page.locator("#key-error")).to_contain_text("The API key is not valid.")
    expect(page.locator("#docs-error")).to_contain_text("(HTTP 401, unauthorized)")

    sign_in(page, live)
    expect(page.locator("#docs-error")).to_be_empty()
    expect(page.locator("#key-error")).to_be_empty()
    page.get_by_label("Question", exact=True).fill("   ")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#search-error")).to_have_text(
        "The question is empty. (HTTP 400, invalid_input)"
    )

    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "slides.pptx").write_bytes(b"PK\x03\x04 not really slides")
    page.locator("#files").set_input_files([tmp_path / "empty.txt", tmp_path / "slides.pptx"])
    for name in ("empty.txt", "slides.pptx"):
        failed = page.locator(f"#uploads li[data-file='{name}']")
        expect(failed).to_have_attribute("data-state", "failed", timeout=30_000)
        expect(failed.locator(".detail")).to_contain_text(name)
    expect(page.locator("#upload-summary")).to_have_text("2 of 2 files done, 2 failed")

    def busy(route) -> None:  # uploads only; the list still loads
        if route.request.method != "POST":
            route.continue_()
            return
        error = {"code": "index_busy", "message": "Another process is writing the index."}
        route.fulfill(status=409, json={"error": {**error, "detail": None}})

    page.route("**/v1/admin/documents", busy)
    (tmp_path / "later.txt").write_text(DUNHUANG_TXT, encoding="utf-8")
    page.locator("#files").set_input_files(tmp_path / "later.txt")
    later = page.locator("#uploads li[data-file='later.txt']")
    expect(later).to_have_attribute("data-state", "failed")
    expect(later.locator(".detail")).to_have_text(
        "Another process is writing the index. (HTTP 409, index_busy)"
    )
    expect(page.locator("#docs-body tr")).to_have_count(5)
    shot(page, "07-errors")


def test_keyboard_and_phone_width(phone, live):
    page = phone
    page.goto(f"{live.url}/admin")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "key"
    page.keyboard.type(ADMIN)
    page.keyboard.press("Enter")
    expect(page.locator("#docs-body tr")).to_have_count(5, timeout=10_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    focused = []
    for _ in range(8):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("(e => e.id || e.className)(document.activeElement)"))
    assert focused[:6] == ["use-key", "forget", "files", "refresh", "link", "link"], focused
    expect(page.get_by_role("button", name="Title")).to_be_visible()  # sorting, as a bar
    first_title = page.locator("#docs-body tr .open").first
    first_title.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#doc")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "doc"
    page.keyboard.press("Escape")
    expect(page.locator("#doc")).to_be_hidden()
    assert page.evaluate("document.activeElement.classList.contains('open')")
    for label in ("Admin key", "Question", "Passages"):
        expect(page.get_by_label(label, exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "08-phone-width")
