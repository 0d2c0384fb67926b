"""The chat widget in real headless Chromium, against real servers on localhost.

The sample index is built with the real embedding model (as in ``test_e2e``) and
served by uvicorn; pages are the service's demo page at ``/`` and test pages on
another origin.  Screenshots go to ``test-artifacts/widget/``.  Without
/usr/bin/chromium these tests are skipped, except in CI (``CI=true``), where they
fail.  Stopping generation uses a slow fake LLM; HTTP states the server does not
produce yet (429) are served by Playwright's request interception.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    StaticSite,
    free_port,
    require_chromium,
)
from tests.conftest import SAMPLE

try:
    from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
except ImportError:  # reported (skip or fail) by the `browser` fixture
    sync_playwright = None

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

LANZHOU_ZH = "兰州市委的决定要求什么？"
LANZHOU_EN = "What does the Lanzhou decision require?"
LANZHOU_TITLE = "推进基层党组织全面进步全面过硬"
FOUR_PROJECTS = ("细胞工程", "头雁工程", "先锋工程", "强基工程")
XSS_ARTICLE = """白银市图书馆推出夜间开放服务

2024-03-02 10:00:00 来自:白银日报

白银市图书馆从三月起推出夜间开放服务，每周五和周六开放到晚上十点。\
图书馆在网页上发布的示例代码 <img src=x onerror="window.__xss=1"> 和 \
<script>window.__xss=2</script> 以及 <img src=y onerror=window.__xss=3> 被读者当作笑话转发。\
馆长表示，夜间开放服务的目标是方便上班族借书和阅读。
"""
XSS_QUESTION = "白银市图书馆夜间开放到几点？"


# ---- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    require_chromium()
    assert sync_playwright is not None
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator[Page]:
    """A fresh desktop-sized page; any uncaught script error fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"script errors on the page: {errors}"


@pytest.fixture(scope="session")
def embedders(tmp_path_factory):
    from qa.runtime import load_aux_embedder, load_embedder
    from qa.settings import Settings

    settings = Settings(index_dir=tmp_path_factory.mktemp("unused"))
    return load_embedder(settings), load_aux_embedder(settings)


def _real_service(index_dir: Path, sources: Path, embedders, dictionary):
    from index.build import ingest
    from qa.runtime import build_service
    from qa.settings import Settings

    embedder, aux = embedders
    settings = Settings(index_dir=index_dir)
    report = ingest(index_dir, [sources], embedder, settings.chunk_params, aux=aux)
    assert report.added and not report.failed, report.failed
    return build_service(settings, embedder=embedder, dictionary=dictionary, aux_embedder=aux)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Iterator[StaticSite]:
    """Another origin, for intranet pages that embed the widget from the service."""
    served = StaticSite(tmp_path_factory.mktemp("intranet")).start()
    yield served
    served.stop()


@pytest.fixture(scope="session")
def live(tmp_path_factory, embedders, dictionary, site) -> Iterator[LiveServer]:
    """The sample index, the real model, CORS open to the test site's 127.0.0.1 origin."""
    from api.app import create_app
    from qa.settings import Settings

    index_dir = tmp_path_factory.mktemp("index")
    service = _real_service(index_dir, SAMPLE, embedders, dictionary)
    settings = Settings(index_dir=index_dir, allowed_origins=[site.origin])
    server = LiveServer(create_app(settings, service=service)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def xss_live(tmp_path_factory, embedders, dictionary) -> Iterator[LiveServer]:
    """An index of one article whose text contains HTML and script tags."""
    from api.app import create_app
    from qa.settings import Settings

    folder = tmp_path_factory.mktemp("xss-articles")
    (folder / "xss_article.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("xss-index")
    service = _real_service(index_dir, folder, embedders, dictionary)
    server = LiveServer(create_app(Settings(index_dir=index_dir), service=service)).start()
    yield server
    server.stop()


# ---- driving the widget --------------------------------------------------------------------


class Chat:
    """The widget on a page, used as a person would (Playwright's CSS pierces shadow DOM)."""

    def __init__(self, page: Page, host: str = "article-qa-chat") -> None:
        self.page, self.host = page, host

    def find(self, css: str) -> Locator:
        return self.page.locator(f"{self.host} {css}")

    def open(self) -> None:
        self.find(".launcher").click()
        expect(self.find(".panel")).to_be_visible()

    def ask(self, question: str) -> Locator:
        count = self.find(".bot").count()
        self.find("textarea").fill(question)
        self.find("textarea").press("Enter")
        answer = self.find(".bot").nth(count)
        expect(answer).to_be_attached()
        return answer

    def finished(self, answer: Locator, state: str = "done", timeout: float = 60_000) -> Locator:
        expect(answer).to_have_attribute("data-state", state, timeout=timeout)
        return answer

    def evaluate(self, script: str, arg: Any = None) -> Any:
        """Runs ``script`` (a function of the shadow root and ``arg``) in the page."""
        return self.page.evaluate(
            f"([host, arg]) => ({script})(document.querySelector(host).shadowRoot, arg)",
            [self.host, arg],
        )

    def focused(self) -> str:
        """The focused element inside the widget: its id, else its class."""
        return self.evaluate(
            "root => root.activeElement ? (root.activeElement.id || "
            "root.activeElement.className.baseVal || root.activeElement.className) : ''"
        )


def shot(page: Page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def marked_text(locator: Locator) -> str:
    return "".join(locator.locator("mark").all_inner_texts())


def record_states(chat: Chat) -> None:
    """Keeps every data-state an answer leaves in window.__states (however fast it changes)."""
    chat.evaluate(
        """root => {
        window.__states = [];
        new MutationObserver(records => {
          for (const r of records) if (r.oldValue) window.__states.push(r.oldValue);
        }).observe(root, {subtree: true, attributeOldValue: true, attributeFilter: ["data-state"]});
        }"""
    )


def ask_api(server: LiveServer, question: str) -> dict:
    response = httpx.post(f"{server.url}/v1/ask", json={"question": question}, timeout=60)
    response.raise_for_status()
    return response.json()


def expected_marks(text: str, base: int, citation: dict) -> str:
    spans = citation["highlights"] or [[citation["start"], citation["end"]]]
    outer = [  # an answer phrase inside its sentence is marked within the sentence's mark
        (s, e) for s, e in spans if not any(s >= S and e <= E and e - s < E - S for S, E in spans)
    ]
    return "".join(text[max(s - base, 0) : max(e - base, 0)] for s, e in outer)


# ---- the tests -----------------------------------------------------------------------------


def test_lanzhou_answer_streams_and_its_citation_shows_the_highlighted_passage(page, live):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live.url}/")
    chat = Chat(page)
    chat.open()
    assert chat.focused() == "input"
    record_states(chat)

    with page.expect_response("**/v1/ask/stream") as streamed:
        answer = chat.ask(LANZHOU_ZH)
    assert streamed.value.headers["content-type"].startswith("text/event-stream")
    chat.finished(answer)
    states = [*page.evaluate("window.__states"), "done"]
    assert [s for s in ("thinking", "writing", "streaming", "done") if s in states] == [
        "thinking",
        "writing",
        "streaming",
        "done",
    ], states
    text = answer.locator(".answer").inner_text()
    for project in FOUR_PROJECTS:
        assert project in text
    assert answer.get_attribute("aria-busy") == "false"
    shot(page, "01-lanzhou-answer")

    body = ask_api(live, LANZHOU_ZH)
    first = body["citations"][0]
    cite = answer.locator(f".cite[data-n='{first['n']}']").first
    expect(cite).to_have_attribute("aria-label", re.compile(f"来源 {first['n']}：{LANZHOU_TITLE}"))
    cite.click()
    card = chat.find(".sheet")
    expect(card).to_be_visible()
    expect(card.locator(".doc-title")).to_have_text(first["title"])
    expect(card.locator(".meta")).to_have_text("2024-01-08 · 热点新闻网")
    passage = card.locator(".passage")
    expect(passage).to_have_text(first["passage"])
    assert marked_text(passage) == expected_marks(first["passage"], first["passage_start"], first)
    assert chat.focused() == "icon back"
    shot(page, "02-lanzhou-source-card")

    card.locator(".open-article").click()
    article = card.locator(".article")
    expect(article.locator("mark").first).to_be_visible()
    document = httpx.get(f"{live.url}/v1/documents/{first['doc_id']}").json()
    expect(article).to_have_text(document["text"])
    assert marked_text(article) == expected_marks(document["text"], 0, first)
    box, mark = (
        chat.find(".sheet-body").bounding_box(),
        article.locator("mark").first.bounding_box(),
    )
    assert box and mark and box["y"] <= mark["y"] < box["y"] + box["height"], (box, mark)
    shot(page, "03-lanzhou-whole-article")

    page.keyboard.press("Escape")
    expect(card).to_be_hidden()
    assert chat.focused() == "cite"
    page.keyboard.press("Escape")
    expect(chat.find(".panel")).to_be_hidden()
    assert chat.focused() == "launcher"
    assert requests and all(url.startswith(live.url) for url in requests), requests


def test_a_follow_up_sends_the_conversation_and_is_understood(page, live):
    page.goto(f"{live.url}/")
    chat = Chat(page)
    chat.open()
    first_question = "兰州市是怎样加强基层党组织建设的？"
    first = chat.finished(chat.ask(first_question))
    assert "兰州" in first.locator(".answer").inner_text()

    with page.expect_request("**/v1/ask/stream") as sent:
        follow_up = chat.ask("那朝阳区呢？")
    history = json.loads(sent.value.post_data or "{}")["history"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == first_question
    assert "[1]" in history[1]["content"] and "兰州" in history[1]["content"]
    chat.finished(follow_up)
    expect(follow_up.locator(".rewritten")).to_have_text(
        "检索内容：朝阳区是怎样加强基层党组织建设的？"
    )
    assert "朝陽區" in follow_up.locator(".answer").inner_text()
    expect(follow_up.locator(".source").first).to_contain_text("著力提升基層黨組織組織力")
    # only the last answer can be asked again
    expect(first.locator(".retry")).to_be_hidden()
    expect(follow_up.locator(".retry")).to_be_visible()
    shot(page, "04-follow-up")


def test_a_declined_question_and_a_rejected_one_read_clearly(page, live):
    page.goto(f"{live.url}/")
    chat = Chat(page)
    chat.open()
    declined = chat.finished(chat.ask("如何做红烧肉？"), "declined")
    expect(declined.locator(".state")).to_have_text("这些文章没有回答这个问题。")
    expect(declined.locator(".cite")).to_have_count(0)
    rejected = chat.finished(chat.ask("兰州" * 1100), "error")
    expect(rejected).to_have_attribute("data-error", "rejected")
    alert = rejected.get_by_role("alert")
    expect(alert).to_contain_text("无法按原样回答这个问题")
    expect(rejected.locator(".retry")).to_be_visible()
    shot(page, "05-declined-and-rejected")


def test_article_text_with_html_and_scripts_is_shown_literally_and_never_runs(
    page, browser, xss_live
):
    page.goto(f"{xss_live.url}/")
    chat = Chat(page)
    chat.open()
    answer = chat.finished(chat.ask(XSS_QUESTION))
    text = answer.locator(".answer").inner_text()
    assert "<script>window.__xss=2</script>" in text
    assert "<img src=y onerror=window.__xss=3>" in text
    answer.locator(".cite").first.click()
    passage = chat.find(".passage")
    expect(passage).to_contain_text("<img src=y onerror=window.__xss=3>")
    expect(passage).to_contain_text("<script>window.__xss=2</script>")
    chat.find(".open-article").click()
    expect(chat.find(".article")).to_contain_text("<script>window.__xss=2</script>")
    page.wait_for_timeout(500)  # time for an image error handler to have fired
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert chat.evaluate("root => root.querySelectorAll('img, script').length") == 0
    shot(page, "06-xss-shown-as-text")

    # the control: the same passage parsed as HTML does run its handler
    passage_text = ask_api(xss_live, XSS_QUESTION)["citations"][0]["passage"]
    control = browser.new_page()
    try:
        control.set_content("<div id=d></div>")
        control.evaluate("t => { document.getElementById('d').innerHTML = t; }", passage_text)
        control.wait_for_function("window.__xss === 3", timeout=5000)
    finally:
        control.close()


def test_stop_ends_generation_and_retry_asks_again(page, fake_index_dir, dictionary):
    from api.app import create_app
    from qa.settings import Settings
    from tests.llm_fakes import Slow, llm_service

    model = Slow(responses=["unused"], tokens=300, delay=0.03)
    service = llm_service(fake_index_dir, dictionary, model)
    server = LiveServer(create_app(Settings(), service=service)).start()
    try:
        page.goto(f"{server.url}/")
        chat = Chat(page)
        chat.open()
        answer = chat.finished(chat.ask(LANZHOU_ZH), "streaming", timeout=20_000)
        expect(chat.find(".stop")).to_be_visible()
        expect(chat.find(".send")).to_be_hidden()
        length = len(answer.locator(".answer").inner_text())
        page.wait_for_timeout(400)
        assert len(answer.locator(".answer").inner_text()) > length  # it grows as it streams
        shot(page, "07-streaming")

        chat.find(".stop").click()
        chat.finished(answer, "stopped")
        expect(answer.locator(".state")).to_have_text("已停止，回答不完整。")
        assert chat.focused() == "input"
        expect(chat.find(".send")).to_be_visible()
        stopped_at = answer.locator(".answer").inner_text()
        deadline = time.monotonic() + 5
        while not model.closed and time.monotonic() < deadline:
            time.sleep(0.05)
        assert model.closed and model.produced < 300  # the server stopped the LLM too
        page.wait_for_timeout(300)
        assert answer.locator(".answer").inner_text() == stopped_at
        shot(page, "08-stopped")

        with page.expect_request("**/v1/ask/stream") as again:
            answer.locator(".retry").click()
        assert json.loads(again.value.post_data or "{}")["question"] == LANZHOU_ZH
        chat.finished(answer, "streaming", timeout=20_000)
        assert chat.find(".bot").count() == 1  # the same answer, asked again
        chat.find(".stop").click()
        chat.finished(answer, "stopped")
    finally:
        server.stop()


def test_a_server_that_went_down_is_reported_in_the_ui_language(page, fake_service):
    from api.app import create_app
    from qa.settings import Settings

    server = LiveServer(create_app(Settings(), service=fake_service)).start()
    page.goto(f"{server.url}/")
    chat = Chat(page)
    chat.open()
    server.stop()
    failed = chat.finished(chat.ask(LANZHOU_ZH), "error")
    expect(failed).to_have_attribute("data-error", "unreachable")
    expect(failed.get_by_role("alert")).to_have_text("无法连接文章问答服务。请检查网络后重试。")
    expect(failed.locator(".retry")).to_be_visible()
    expect(chat.find(".send")).to_be_visible()
    shot(page, "09-server-down")


def test_one_script_tag_configures_the_launcher_and_a_second_copy_changes_nothing(page, live, site):
    dead = f"http://127.0.0.1:{free_port()}"
    tag = (
        f'<script src="{live.url}/widget.js" data-endpoint="{dead}" data-title="政策助手" '
        'data-placeholder="請輸入問題" data-position="bottom-left" defer></script>'
    )
    url = site.write(
        "traditional.html",
        f'<!doctype html><html lang="zh-Hant-TW"><meta charset="utf-8"><body><p>內網</p>'
        f"{tag}{tag}</body></html>",
    )
    page.goto(url)
    expect(page.locator("article-qa-chat")).to_have_count(1)
    chat = Chat(page)
    launcher = chat.find(".launcher")
    expect(launcher).to_have_attribute("aria-label", "開啟文章問答")
    box = launcher.bounding_box()
    assert box and box["x"] < 100  # bottom-left
    chat.open()
    expect(chat.find(".title")).to_have_text("政策助手")
    expect(chat.find("textarea")).to_have_attribute("placeholder", "請輸入問題")
    failed = chat.finished(chat.ask("蘭州市委的決定要求什麼？"), "error")
    expect(failed.get_by_role("alert")).to_have_text("無法連線到文章問答服務。請檢查網路後重試。")
    shot(page, "10-traditional-unreachable")


@pytest.mark.parametrize(
    ("status", "headers", "error", "kind", "message"),
    [
        (
            429,
            {"Retry-After": "30"},
            "rate_limited",
            "rateLimited",
            "提问过于频繁，请 30 秒后再试。",
        ),
        (503, {}, "not_ready", "notReady", "文章问答服务尚未就绪，请稍后再试。"),
        (422, {}, "invalid_request", "rejected", "无法按原样回答这个问题"),
    ],
)
def test_refusals_from_the_server_read_clearly(page, live, status, headers, error, kind, message):
    body = {"error": {"code": error, "message": f"{error} (from the server)", "detail": None}}

    def refuse(route):
        route.fulfill(
            status=status,
            headers={**headers, "Content-Type": "application/json"},
            body=json.dumps(body),
        )

    page.route("**/v1/ask/stream", refuse)
    page.goto(f"{live.url}/")
    chat = Chat(page)
    chat.open()
    failed = chat.finished(chat.ask(LANZHOU_ZH), "error")
    expect(failed).to_have_attribute("data-error", kind)
    alert = failed.get_by_role("alert")
    expect(alert).to_contain_text(message)
    expect(alert.locator(".detail")).to_have_text(f"{error} (from the server)")
    retry = failed.locator(".retry")
    if status == 429:
        expect(retry).to_be_disabled()  # until Retry-After has passed
        shot(page, "11-rate-limited")
    else:
        expect(retry).to_be_enabled()


def _sse(*events: tuple[str, dict]) -> str:
    return "".join(
        f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n" for name, data in events
    )


def _citation(n: int, passage: str, passage_start: int, start: int, end: int) -> dict:
    return {
        "n": n,
        "doc_id": f"doc{n}",
        "chunk_id": f"doc{n}#0",
        "title": f"标题{n}",
        "date": "2024-01-0" + str(n),
        "outlet": "测试报",
        "passage": passage,
        "passage_start": passage_start,
        "passage_end": passage_start + len(passage),
        "start": start,
        "end": end,
        "quote": "引文" + str(n),
        "highlights": [],
        "score": 0.5,
    }


def test_a_restarted_stream_flags_markers_and_clamped_highlights_render_exactly(
    page, live, browser
):
    # [1] quotes beyond both ends of its passage, [2] beyond its end; [9] names no citation
    citations = [
        _citation(1, "甲乙丙丁戊己庚辛", 100, 95, 120),
        _citation(2, "子丑寅卯辰巳午未", 200, 204, 230),
    ]
    answer = "甲乙丙丁[1]子丑寅卯[2]未知[9]。"
    notice = {"code": "llm_unavailable", "message": "大模型暂时不可用，以下摘录文章原文。"}
    done = {
        "answer": answer,
        "citations": citations,
        "language": "zh-Hans",
        "declined": False,
        "mode": "extractive",
        "verification": {
            "checked": 3,
            "corrected": 0,
            "removed": 1,
            "unsupported": [{"text": "未知", "start": 14, "end": 16, "reason": "uncited"}],
        },
        "notices": [notice],
        "timings_ms": {"retrieve": 1.0, "answer": 1.0, "total": 2.0},
    }
    head = {"citations": citations, "rewritten_query": None, "language": "zh-Hans", "mode": "llm"}
    stream = _sse(
        ("citations", head),
        ("token", {"text": "先写的<b>半句</b>[1]"}),
        ("notice", notice),
        ("citations", {**head, "mode": "extractive"}),
        ("token", {"text": "甲乙丙丁[1]"}),
        ("token", {"text": "子丑寅卯[2]未知[9]。"}),
        ("done", done),
    )
    page.route(
        "**/v1/ask/stream",
        lambda route: route.fulfill(
            status=200, headers={"Content-Type": "text/event-stream"}, body=stream
        ),
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page.goto(f"{live.url}/")
    chat = Chat(page)
    chat.open()
    bot = chat.finished(chat.ask("测试"))
    shown = bot.locator(".answer")
    expect(shown).to_have_text("甲乙丙丁1子丑寅卯2未知 (文章不支持这句话)[9]。")
    expect(shown.locator(".cite")).to_have_count(2)
    expect(shown.locator(".flag")).to_have_attribute("title", "文章不支持这句话")
    expect(bot.locator(".notices")).to_have_text(notice["message"])
    expect(bot.locator(".source")).to_have_count(2)

    shown.locator(".cite[data-n='1']").click()
    assert marked_text(chat.find(".passage")) == "甲乙丙丁戊己庚辛"  # clamped at both ends
    page.keyboard.press("Escape")
    shown.locator(".cite[data-n='2']").click()
    assert marked_text(chat.find(".passage")) == "辰巳午未"  # from 204 - 200, clamped
    page.keyboard.press("Escape")

    bot.locator(".copy").click()
    expect(bot.locator(".copy")).to_have_text("已复制")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == (
        f"{answer}\n({notice['message']})\n\n来源：\n"
        "[1] 标题1 · 2024-01-01 · 测试报\n    “引文1”\n"
        "[2] 标题2 · 2024-01-02 · 测试报\n    “引文2”"
    )
    shot(page, "12-flags-notices-copy")


def test_an_error_event_mid_stream_keeps_what_was_written(page, live):
    head = {"citations": [], "rewritten_query": None, "language": "zh-Hans", "mode": "llm"}
    error = {"error": {"code": "internal_error", "message": "An unexpected error occurred."}}
    stream = _sse(("citations", head), ("token", {"text": "写到一半"}), ("error", error))
    page.route(
        "**/v1/ask/stream",
        lambda route: route.fulfill(
            status=200, headers={"Content-Type": "text/event-stream"}, body=stream
        ),
    )
    page.goto(f"{live.url}/")
    chat = Chat(page)
    chat.open()
    failed = chat.finished(chat.ask(LANZHOU_ZH), "error")
    expect(failed).to_have_attribute("data-error", "failed")
    expect(failed.locator(".answer")).to_have_text("写到一半")
    expect(failed.get_by_role("alert")).to_contain_text("回答时出错，请重试。")


def test_keyboard_screen_reader_and_phone_width(browser, live):
    context = browser.new_context(viewport={"width": 375, "height": 720}, has_touch=True)
    page = context.new_page()
    try:
        page.goto(f"{live.url}/")
        chat = Chat(page)
        for _ in range(12):  # the page's own links come first, then the launcher
            page.keyboard.press("Tab")
            if chat.focused() == "launcher":
                break
        assert chat.focused() == "launcher"
        launcher = chat.find(".launcher")
        expect(launcher).to_have_attribute("aria-expanded", "false")
        page.keyboard.press("Enter")
        panel = chat.find(".panel")
        expect(panel).to_be_visible()
        expect(launcher).to_have_attribute("aria-expanded", "true")
        expect(panel).to_have_attribute("role", "dialog")
        expect(panel).to_have_accessible_name("文章问答")
        expect(chat.find(".log")).to_have_attribute("role", "log")
        expect(chat.find(".log")).to_have_attribute("aria-live", "polite")
        expect(chat.find("[role=status]")).to_be_attached()
        expect(chat.find("textarea")).to_have_accessible_name("你的问题")
        assert chat.focused() == "input"

        page.keyboard.type("兰州市委的决定要求什么")
        page.keyboard.press("Shift+Enter")  # a new line, not a question
        expect(chat.find(".bot")).to_have_count(0)
        page.keyboard.press("Enter")
        answer = chat.finished(chat.find(".bot").first)
        expect(answer).to_have_attribute("aria-busy", "false")
        expect(chat.find("[role=status]")).to_have_text("回答完毕。")

        size = panel.bounding_box()
        assert size == {"x": 0, "y": 0, "width": 375, "height": 720}, size
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        shot(page, "13-phone-width")

        launcher.focus()
        order = []
        for _ in range(40):
            page.keyboard.press("Tab")
            order.append(chat.focused())
            if order[-1] in ("send", ""):
                break
        cites = answer.locator(".cite").count()
        sources = answer.locator(".source").count()
        assert order == (
            ["icon new", "icon close"]
            + ["cite"] * cites
            + ["source"] * sources
            + ["action copy", "action retry", "input", "send"]
        ), order
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        assert chat.focused() == "launcher"
    finally:
        context.close()


HOSTILE_CSS = """
* { font-size: 40px !important; color: red !important; line-height: 3 !important;
    letter-spacing: 4px !important; box-sizing: content-box !important; }
button { display: none !important; }
p, div, section { margin: 50px !important; padding: 30px !important; }
mark { background: black !important; }
article-qa-chat { --aqa-accent: rgb(0, 128, 96); display: block; max-width: 560px; }
"""


def _hostile_page(site: StaticSite, live: LiveServer) -> str:
    """An English intranet page with a strict CSP and CSS that would wreck any widget."""
    (site.folder / "hostile.css").write_text(HOSTILE_CSS, encoding="utf-8")
    csp = (
        f"default-src 'none'; script-src {live.url}; connect-src {live.url}; "
        "style-src 'self'; img-src 'none'"
    )
    return site.write(
        "hostile.html",
        f"""<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<link rel="stylesheet" href="hostile.css"></head><body>
<p id="own">The page's own text.</p>
<article-qa-chat lang="en" heading="Policy desk"
  placeholder="Ask the policy desk"></article-qa-chat>
<script src="{live.url}/widget.js" data-launcher="false" defer></script>
</body></html>""",
    )


def test_inline_on_a_hostile_page_of_an_allowed_origin(page, live, site):
    url = _hostile_page(site, live)
    page.add_init_script(
        """window.__before = Object.getOwnPropertyNames(window);
        window.__violations = [];
        document.addEventListener('securitypolicyviolation',
          e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"""
    )
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    chat = Chat(page)
    expect(chat.find(".panel")).to_be_visible()
    expect(chat.find(".launcher")).to_be_hidden()
    expect(chat.find(".title")).to_have_text("Policy desk")
    expect(chat.find("textarea")).to_have_attribute("placeholder", "Ask the policy desk")
    expect(chat.find(".intro")).to_contain_text("Ask in English or Chinese")

    answer = chat.finished(chat.ask(LANZHOU_EN))
    text = answer.locator(".answer").inner_text()
    assert all(project in text for project in FOUR_PROJECTS)
    expect(answer.locator(".copy")).to_have_text("Copy answer")
    style = chat.evaluate(
        """root => {
        const css = (sel, prop) => getComputedStyle(root.querySelector(sel))[prop];
        return {font: css('.answer', 'fontSize'), color: css('.answer', 'color'),
                send: css('.send', 'display'), accent: css('.send', 'backgroundColor'),
                spacing: css('.answer', 'letterSpacing')};
        }"""
    )
    assert style == {
        "font": "14px",
        "color": "rgb(28, 33, 40)",
        "send": "flex",  # blockified inside the flex composer
        "accent": "rgb(0, 128, 96)",
        "spacing": "normal",
    }, style
    own = page.evaluate("getComputedStyle(document.getElementById('own')).fontSize")
    assert own == "40px"  # and the widget left the page's styles alone
    assert page.evaluate("document.adoptedStyleSheets.length") == 0
    assert page.evaluate("document.styleSheets.length") == 1
    leaked = page.evaluate(
        "Object.getOwnPropertyNames(window).filter(n => !window.__before.includes(n))"
    )
    assert set(leaked) <= {"__before", "__violations"}, leaked
    assert page.evaluate("window.__violations") == []
    assert all(u.startswith((site.origin, live.url)) for u in requests), requests
    shot(page, "14-hostile-page-allowed-origin")


def test_a_page_on_an_origin_not_allowed_is_refused(page, live, site):
    url = _hostile_page(site, live).replace(site.origin, site.other_origin)
    failures: list[str] = []
    page.on("requestfailed", lambda request: failures.append(request.url))
    page.goto(url)
    chat = Chat(page)
    failed = chat.finished(chat.ask(LANZHOU_EN), "error")
    expect(failed).to_have_attribute("data-error", "unreachable")
    expect(failed.get_by_role("alert")).to_have_text(
        "Cannot reach the article service. Check the connection and try again."
    )
    assert f"{live.url}/v1/ask/stream" in failures
    shot(page, "15-origin-not-allowed")


WIDGET_KEY = "widget-key-for-the-intranet-page"


def _keyed_page(site: StaticSite, server: LiveServer, name: str, key: str | None) -> str:
    attribute = f' api-key="{key}"' if key else ""
    return site.write(
        name,
        f"""<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8"></head><body>
<article-qa-chat endpoint="{server.url}"{attribute}></article-qa-chat>
<script src="{server.url}/widget.js" data-launcher="false" defer></script>
</body></html>""",
    )


def test_a_widget_key_works_only_on_the_page_it_is_bound_to(page, fake_service, site):
    from api.app import create_app
    from qa.settings import Settings

    settings = Settings(
        api_keys="backend:backend-secret-0123456789",
        widget_keys=f"intranet:{WIDGET_KEY}@{site.origin}",
    )
    server = LiveServer(create_app(settings, service=fake_service)).start()
    try:
        page.goto(_keyed_page(site, server, "keyed.html", WIDGET_KEY))
        chat = Chat(page)
        answer = chat.finished(chat.ask(LANZHOU_ZH))
        expect(answer.locator(".answer")).to_contain_text("兰州")
        answer.locator(".cite").first.click()  # the document request carries the key too
        expect(chat.find(".sheet mark").first).to_be_visible()

        for name, key in (("keyless.html", None), ("wrong-key.html", "not-the-key-0123456789")):
            page.goto(_keyed_page(site, server, name, key))
            chat = Chat(page)
            failed = chat.finished(chat.ask(LANZHOU_ZH), "error")
            expect(failed).to_have_attribute("data-error", "denied")
            expect(failed.get_by_role("alert")).to_contain_text("此页面无权使用文章问答服务")
        shot(page, "16-widget-key-refused")

        elsewhere = _keyed_page(site, server, "copied.html", WIDGET_KEY)
        page.goto(elsewhere.replace(site.origin, site.other_origin))  # the key copied to a page
        chat = Chat(page)
        failed = chat.finished(chat.ask(LANZHOU_ZH), "error")
        expect(failed).to_have_attribute("data-error", "unreachable")  # CORS refuses it
    finally:
        server.stop()


@pytest.fixture(scope="module")
def pdf_live(tmp_path_factory, embedders, dictionary) -> Iterator[LiveServer]:
    """An index of one PDF: the generated Lanzhou decision (tests/docgen.py), three pages."""
    from api.app import create_app
    from qa.settings import Settings
    from tests import docgen

    folder = tmp_path_factory.mktemp("pdf-documents")
    (folder / "lanzhou_decision.pdf").write_bytes(docgen.policy_pdf().data)
    index_dir = tmp_path_factory.mktemp("pdf-index")
    service = _real_service(index_dir, folder, embedders, dictionary)
    server = LiveServer(create_app(Settings(index_dir=index_dir), service=service)).start()
    yield server
    server.stop()


def test_a_pdf_citation_shows_its_page_on_the_source_card(page, pdf_live):
    question = "中心城区污水处理厂什么时候完成提标改造？"
    page.goto(f"{pdf_live.url}/")
    chat = Chat(page)
    chat.open()
    answer = chat.finished(chat.ask(question))
    cited = ask_api(pdf_live, question)["citations"]
    assert cited and all(c["page"] for c in cited), cited
    first = cited[0]
    assert first["page"] == 3, first  # 附件二 is on the third page
    answer.locator(f".cite[data-n='{first['n']}']").first.click()
    meta = chat.find(".sheet .meta")
    expect(meta).to_have_text(f"2023-05-06 · 兰州市人民政府 · 第{first['page']}页")
    expect(chat.find(".sources")).to_contain_text(f"第{first['page']}页")
    shot(page, "14-pdf-source-card-with-page")
