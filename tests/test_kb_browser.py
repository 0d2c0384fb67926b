"""The admin knowledge-base page in real headless Chromium, against a live server.

The server ingests with the fake embedder over a private copy of the fake sample index
(uploads, re-ingests and deletes change it), so no model is loaded.  Screenshots go to
``test-artifacts/kb/``.  Without /usr/bin/chromium these tests are skipped, except in CI
(``CI=true``), where they fail.  States the fake index cannot produce (page starts, long
ids, a key revoked while the page is open) are served by Playwright's request
interception; the empty-index test has a server of its own.
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
READER = "reader-secret-0123456789"
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
FITS = "(box => box.scrollWidth <= box.clientWidth)(document.querySelector('.table-scroll'))"
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


def _serve(index_dir: Path, dictionary) -> LiveServer:
    from api.app import create_app
    from qa.runtime import Models
    from qa.settings import Settings

    settings = Settings(
        index_dir=index_dir,
        admin_keys=f"root:{ADMIN}",
        api_keys=f"portal:{READER}",  # the page is public even so
        rate_limit=0,
        reload_interval=0,
        crosslingual_encoder="none",
        min_dense_score=0.6,
        max_chunks_per_doc=5,
    )
    app = create_app(settings, models=Models(FakeEmbedder(), dictionary))
    return LiveServer(app).start()


@pytest.fixture
def live(fake_index_dir, dictionary, tmp_path_factory) -> Iterator[LiveServer]:
    """The app as served (models given: the fake embedder) over a fresh copy of the index
    for each test: tests upload and delete."""
    index_dir = shutil.copytree(fake_index_dir, tmp_path_factory.mktemp("kb") / "index")
    server = _serve(index_dir, dictionary)
    yield server
    server.stop()


@pytest.fixture
def empty(dictionary, tmp_path_factory) -> Iterator[LiveServer]:
    """The same app before any index exists: the first upload makes one."""
    server = _serve(tmp_path_factory.mktemp("kb-empty") / "index", dictionary)
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
    assert page.evaluate(FITS), "the table does not fit a 1280 px window"
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
    assert focused[:7] == ["use-key", "forget", "files", "refresh", "doc-filter", "link", "link"], (
        focused
    )
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


def test_a_refused_key_says_so_and_is_asked_for_again(page, live):
    sign_in(page, live, key="not-the-admin-key-0123")
    refused = page.locator("#key-error")
    expect(refused).to_have_text(
        "The service refused the key: The API key is not valid. Enter the admin key again."
    )
    expect(page.locator("#key-status")).not_to_contain_text("A key is set")
    assert page.evaluate("sessionStorage.getItem('article-qa-admin-key')") is None
    assert page.evaluate("document.activeElement.id") == "key"
    shot(page, "09-key-refused")

    page.keyboard.type(READER)  # a valid key, but not an admin's: 403
    page.keyboard.press("Enter")
    expect(refused).to_contain_text(
        "The service refused the key: This endpoint needs an admin key."
    )
    expect(page.locator("#key-status")).not_to_contain_text("A key is set")
    expect(page.locator("#docs-body tr")).to_have_count(0)

    page.keyboard.type(ADMIN)
    page.keyboard.press("Enter")
    expect(page.locator("#docs-body tr")).to_have_count(5)
    expect(refused).to_be_empty()
    expect(page.locator("#key-status")).to_have_text(
        "A key is set for this tab; it is sent with every request."
    )

    def revoked(route) -> None:  # the key stops working while the page is open
        error = {"code": "unauthorized", "message": "The API key is not valid.", "detail": None}
        route.fulfill(status=401, json={"error": error})

    page.route("**/v1/admin/documents", revoked)
    page.get_by_role("button", name="Refresh").click()
    expect(refused).to_contain_text("The service refused the key: The API key is not valid.")
    expect(page.locator("#key-status")).not_to_contain_text("A key is set")
    expect(page.locator("#docs-error")).to_contain_text("(HTTP 401, unauthorized)")
    page.get_by_label("Question", exact=True).fill("敦煌市图书馆夜间开放到几点？")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#search-error")).to_have_text("Enter the admin key first.")


def test_an_empty_index_points_to_the_upload_box_and_counts_read_well(page, empty, tmp_path):
    sign_in(page, empty)
    status = page.locator("#docs-status")
    expect(status).to_have_text(
        "The index is empty: upload documents in the box above to build it."
    )
    expect(status).not_to_contain_text("qa ingest")
    expect(page.locator("#docs-error")).to_be_empty()
    expect(page.locator("#key-error")).to_be_empty()
    expect(page.get_by_label("Filter documents")).to_be_hidden()  # nothing to filter
    page.get_by_label("Question", exact=True).fill("敦煌市图书馆夜间开放到几点？")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#search-error")).to_have_text(
        "The index is empty: upload documents in the box above, then try a question."
    )
    shot(page, "10-empty-index")

    (tmp_path / "dunhuang_library.txt").write_text(DUNHUANG_TXT, encoding="utf-8")
    page.locator("#files").set_input_files(tmp_path / "dunhuang_library.txt")
    upload = page.locator("#uploads li[data-file='dunhuang_library.txt']")
    expect(upload).to_have_attribute("data-state", "added", timeout=60_000)
    expect(page.locator("#upload-summary")).to_have_text("1 of 1 file done")
    detail = upload.locator(".detail").inner_text()
    assert re.search(r"· (1 chunk|[02-9]\d* chunks) embedded ·", detail), detail
    expect(page.locator("#docs-body tr")).to_have_count(1)
    expect(status).to_have_text(re.compile(r"^1 document · index version \S+$"))

    page.get_by_label("Passages", exact=True).fill("1")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#hits li")).to_have_count(1)
    expect(page.locator("#search-status")).to_contain_text(re.compile(r"^1 passage \("))


def test_search_summaries_count_passages_in_the_plural(page, live):
    sign_in(page, live)
    expect(page.locator("#docs-status")).to_contain_text(re.compile(r"^5 documents · "))
    page.get_by_label("Question", exact=True).fill("敦煌市图书馆夜间开放到几点？")
    for top_k, summary in (("1", "1 passage ("), ("3", "3 passages (")):
        page.get_by_label("Passages", exact=True).fill(top_k)
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#hits li")).to_have_count(int(top_k))
        expect(page.locator("#search-status")).to_contain_text(summary)


def test_the_filter_narrows_the_table_as_you_type(page, live):
    sign_in(page, live)
    rows = page.locator("#docs-body tr")
    expect(rows).to_have_count(5)
    box = page.get_by_label("Filter documents")
    counted = page.locator("#docs-count")
    expect(counted).to_be_empty()

    page.get_by_role("button", name="Refresh").focus()
    page.keyboard.press("Tab")  # the filter comes right after Refresh
    assert page.evaluate("document.activeElement.id") == "doc-filter"
    page.keyboard.type("002")  # an id
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-doc-id", "002_d76b1e4d59e734c6")
    expect(counted).to_have_text("1 of 5 documents")
    box.fill("网")  # titles and outlets: 信息快讯网, 装配图网, 热点新闻网
    expect(counted).to_have_text("3 of 5 documents")
    ids = sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.docId)"))
    assert [i[:3] for i in ids] == ["000", "003", "004"], ids
    box.fill("共產黨員網")  # an outlet
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-doc-id", "001_3080cb942626956c")
    box.fill("004_7C2C5349670B6628.TXT")  # a source file, in any case
    expect(rows).to_have_count(1)
    box.fill("txt  0")  # every word must match: a format and part of the id
    expect(counted).to_have_text("5 of 5 documents")
    box.fill("000 5a7c")
    expect(rows).to_have_count(1)
    box.fill("no such document")
    expect(rows).to_have_count(0)
    expect(counted).to_have_text("0 of 5 documents")
    shot(page, "11-filtered")

    page.get_by_role("button", name="Title").click()  # sorting keeps the filter
    expect(rows).to_have_count(0)
    box.focus()
    page.keyboard.press("Escape")  # clears a search box
    expect(box).to_have_value("")
    expect(rows).to_have_count(5)
    expect(counted).to_be_empty()


LONG_ID = "2024-03-02_gansu_provincial_peoples_government_general_office_notice"


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (1024, 768), (900, 900), (360, 740)])
def test_long_ids_wrap_between_their_parts(browser, live, width, height):
    docs = [
        {
            "id": doc_id,
            "title": "甘肃省人民政府办公厅关于印发黄河流域生态保护和高质量发展规划的通知",
            "date": "2024-03-02",
            "outlet": "甘肃省人民政府办公厅",
            "origin": None,
            "author": None,
            "source": f"{doc_id}.pdf",
            "format": "pdf",
            "pages": 12,
            "chunks": 40,
            "ingested_at": "2024-03-02T08:00:00+00:00",
            "warnings": [],
        }
        for doc_id in (LONG_ID, "000_5a7cdd35e9c45502", "x" * 80)
    ]
    listing = {"documents": docs, "version": "v1", "max_upload_bytes": 1 << 20}
    for page in _page(browser, width, height):
        page.route("**/v1/admin/documents", lambda route: route.fulfill(json=listing))
        sign_in(page, live)
        ident = row(page, LONG_ID).locator("td.id .ident")
        expect(ident).to_have_text(LONG_ID)
        assert ident.evaluate("e => getComputedStyle(e).fontFamily").find("monospace") >= 0
        # every part between separators sits on one line: no break inside a word
        split = ident.evaluate(
            """e => [...e.childNodes].filter(n => n.nodeType === Node.TEXT_NODE).map(n => {
                 const range = document.createRange();
                 range.selectNodeContents(n);
                 return [n.data, new Set([...range.getClientRects()].map(r => r.top)).size];
               }).filter(([, lines]) => lines > 1)"""
        )
        assert not split, split
        unbroken = row(page, "x" * 80).locator("td.id .ident")  # must break somewhere
        assert unbroken.evaluate("e => e.scrollWidth <= e.clientWidth")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"the page is {wide} px wide in a {width} px window"
        shot(page, f"12-long-ids-{width}")
