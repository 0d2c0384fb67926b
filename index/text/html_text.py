"""Markup to plain text lines: HTML (BeautifulSoup + lxml) and Markdown.

`html_to_text` parses the page, reads metadata hints (``og:title`` / first ``<h1>`` /
``<title>``, ``article:published_time`` / ``<time datetime>``, ``meta author``,
``og:site_name``), then drops page furniture: script/style/nav/header/footer/aside/
form/iframe/noscript elements, ARIA landmark roles for navigation, banners and
footers, hidden elements, and elements whose class or id looks like navigation,
menus, share widgets, comments, footers, related lists or ads.  Block elements
(``p``, ``div``, ``li``, headings, table rows, ``br`` ...) become line breaks; the
whitespace inside a block is collapsed as a browser would.

`markdown_to_text` removes Markdown syntax (front matter, headings markers, links,
images, emphasis, code fences, inline HTML) and joins soft-wrapped paragraph lines.
YAML-ish front matter keys (title, date, author, source, site) become hints.

Hint keys are ``title``, ``date``, ``author``, ``outlet`` and ``origin``; values are
raw strings, to be normalised by `index.text.metadata`.

Hostile markup: nothing executable reaches the text.  Script, style and template
contents are dropped (and skipped again while collecting text), attributes (event
handlers, ``javascript:`` links) are never text, hint values lose any markup, and
Markdown's inline HTML loses its ``<script>``/``<style>`` blocks with their content.
Collecting the text is one pass over the tree (no re-parenting), so a page of tens of
thousands of paragraphs costs linear time.

Leaves out: the line-level boilerplate rules and body selection (`index.text.clean`),
character repairs (`index.text.pinyin`), byte decoding, and JavaScript-rendered content.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from bs4.element import PreformattedString, Script, Stylesheet, TemplateString

DROP_TAGS = (
    "script", "style", "nav", "header", "footer", "aside", "form", "iframe",
    "noscript", "template", "svg", "button", "select", "textarea",
)  # fmt: skip
# class/id tokens containing one of these words mark furniture ...
FURNITURE_WORDS = (
    "nav", "menu", "share", "comment", "footer", "related", "breadcrumb", "sidebar",
    "toolbar", "banner", "advert", "recommend", "social", "copyright", "pagination",
)  # fmt: skip
# ... and so do these tokens when they are a whole class/id token ("ad-box", not "header").
FURNITURE_TOKENS = frozenset({"ad", "ads", "adv", "gg", "guanggao", "popup", "modal"})
FURNITURE_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search"})
BLOCK_TAGS = (
    "address", "article", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main", "ol", "p", "pre", "section",
    "table", "td", "th", "tr", "ul",
)  # fmt: skip
_TOKEN_SPLIT = re.compile(r"[\s_\-]+")
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_WS = re.compile(r"\s+")
# A source line break between two CJK characters/punctuation renders as nothing in Chinese.
_CJK_CLASS = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef“”‘’"
_CJK_BREAK = re.compile(rf"(?<=[{_CJK_CLASS},.;:!?])[ \t\r]*\n\s*(?=[{_CJK_CLASS}])")

_MD_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.S)
_MD_FRONT_KEYS = {
    "title": "title", "date": "date", "published": "date", "author": "author",
    "source": "origin", "origin": "origin", "site": "outlet", "outlet": "outlet",
}  # fmt: skip
_MD_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_BLOCK_START = re.compile(r"^\s*(#{1,6}\s|>|[-*+]\s|\d+[.)]\s|\|)")
_MD_SUBS = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),  # inline links
    (re.compile(r"\[([^\]]*)\]\[[^\]]*\]"), r"\1"),  # reference links
    (re.compile(r"^\s{0,3}(#{1,6}|>+|[-*+])\s+"), ""),  # heading, quote, bullet markers
    (re.compile(r"\s#+\s*$"), ""),  # closing heading hashes
    (re.compile(r"^\s*([-*_]\s*){3,}$"), ""),  # horizontal rules
    (re.compile(r"</?[A-Za-z][^>]*>"), ""),  # inline HTML
    (re.compile(r"(\*\*|__|`)"), ""),  # strong emphasis, code spans
)


_MARKUP = re.compile(r"<[A-Za-z/!?][^>]*>")
_RAW_BLOCK = re.compile(
    r"<(script|style|template)\b[^>]*>.*?(?:</\1\s*>|\Z)|<!--.*?(?:-->|\Z)", re.I | re.S
)
_SKIPPED_STRINGS = (PreformattedString, Script, Stylesheet, TemplateString)  # comments & co.


def _plain(value: str) -> str:
    """A hint value as plain text: markup (and script/style content) removed."""
    if "<" in value:
        value = _MARKUP.sub(" ", _RAW_BLOCK.sub(" ", value))
    return _WS.sub(" ", value).strip()


def _meta_index(soup: BeautifulSoup) -> dict[tuple[str, str], str]:
    """(attribute, lower-cased key) -> content of the first such ``<meta>`` with content."""
    found: dict[tuple[str, str], str] = {}
    for tag in soup.find_all("meta"):
        content = str(tag.get("content") or "").strip() if isinstance(tag, Tag) else ""
        if not content:
            continue
        for attr in ("property", "name", "itemprop"):
            key = str(tag.get(attr) or "").strip().lower()
            if key:
                found.setdefault((attr, key), content)
    return found


def _meta(metas: dict[tuple[str, str], str], *keys: str) -> str:
    for key in keys:
        for attr in ("property", "name", "itemprop"):
            if (attr, key.lower()) in metas:
                return metas[(attr, key.lower())]
    return ""


def _text_of(tag: object) -> str:
    return _WS.sub(" ", tag.get_text(" ")).strip() if isinstance(tag, Tag) else ""


def _metadata_hints(soup: BeautifulSoup) -> dict[str, str]:
    metas = _meta_index(soup)
    time_tag = soup.find("time", attrs={"datetime": True})
    hints = {
        "title": _meta(metas, "og:title", "twitter:title") or _text_of(soup.find("h1")),
        "date": _meta(metas, "article:published_time", "og:published_time", "pubdate",
                      "publishdate", "datePublished", "date", "dc.date"),
        "author": _meta(metas, "author", "article:author", "dc.creator"),
        "outlet": _meta(metas, "og:site_name", "application-name"),
    }  # fmt: skip
    if not hints["title"]:
        hints["title"] = _text_of(soup.find("title"))
    if not hints["date"] and isinstance(time_tag, Tag):
        hints["date"] = str(time_tag.get("datetime") or "")
    plain = {key: _plain(value) for key, value in hints.items()}
    return {key: value for key, value in plain.items() if value}


def _looks_like_furniture(el: Tag) -> bool:
    if str(el.get("role") or "").lower() in FURNITURE_ROLES:
        return True
    if _HIDDEN.search(str(el.get("style") or "")) or el.has_attr("hidden"):
        return True
    classes: object = el.get("class") or ""
    names = " ".join(map(str, classes)) if isinstance(classes, list) else str(classes)
    names += " " + str(el.get("id") or "")
    tokens = [t for t in _TOKEN_SPLIT.split(names.lower()) if t]
    return any(t in FURNITURE_TOKENS or any(w in t for w in FURNITURE_WORDS) for t in tokens)


def _drop_furniture(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(DROP_TAGS):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    # Top-down, not descending into what goes: one pass (asking a never-decomposed Tag
    # for ``.decomposed`` runs a subtree search, which made deep pages quadratic).
    holders: set[int] = set()  # ids of elements with an <article> or <main> inside
    for content in soup.find_all(["article", "main"]):
        parent = content.parent
        while parent is not None and id(parent) not in holders:
            holders.add(id(parent))
            parent = parent.parent
    doomed: list[Tag] = []
    stack: list[Tag] = [soup]
    while stack:
        for el in stack.pop().contents:
            if not isinstance(el, Tag):
                continue
            if (
                el.name not in ("html", "body", "article", "main")
                and id(el) not in holders
                and _looks_like_furniture(el)
            ):
                doomed.append(el)
            else:
                stack.append(el)
    for tag in doomed:
        tag.decompose()


def _block_text(root: Tag) -> str:
    """The text under ``root``, block elements and ``<br>`` on lines of their own.

    Whitespace is collapsed outside ``<pre>`` (and a line break between two CJK
    characters removed, as a browser renders it).  One iterative pass in
    document order: no recursion limit on deep nesting, linear in the page size.
    """
    parts: list[str] = []
    end_block = object()  # marks where a block element's content ends
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, in_pre = stack.pop()
        if node is end_block:
            parts.append("\n")
        elif isinstance(node, NavigableString):
            if not isinstance(node, _SKIPPED_STRINGS):
                text = str(node)
                parts.append(text if in_pre else _WS.sub(" ", _CJK_BREAK.sub("", text)))
        elif isinstance(node, Tag) and node.name not in DROP_TAGS:
            if node.name == "br":
                parts.append("\n")
                continue
            if node.name in BLOCK_TAGS:
                parts.append("\n")
                stack.append((end_block, in_pre))
            inner = in_pre or node.name == "pre"
            stack.extend((child, inner) for child in reversed(node.contents))
    lines = (line.strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_text(html: str) -> tuple[str, dict[str, str]]:
    """Visible block text of an HTML page (one block per line) and its metadata hints."""
    soup = BeautifulSoup(html, "lxml")
    hints = _metadata_hints(soup)
    _drop_furniture(soup)
    root = soup.body if isinstance(soup.body, Tag) else soup
    return _block_text(root), hints


def _front_matter(md: str) -> tuple[str, dict[str, str]]:
    match = _MD_FRONT_MATTER.match(md)
    if not match:
        return md, {}
    hints: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(":")
        target = _MD_FRONT_KEYS.get(key.strip().lower())
        if target and value.strip():
            hints.setdefault(target, value.strip().strip("'\""))
    return md[match.end() :], hints


def _strip_md_line(line: str) -> str:
    for pattern, replacement in _MD_SUBS:
        line = pattern.sub(replacement, line)
    return line.strip()


def markdown_to_text(md: str) -> tuple[str, dict[str, str]]:
    """Plain text of a Markdown document (one paragraph per line) and front-matter hints."""
    md, hints = _front_matter(md)
    md = _RAW_BLOCK.sub("", md)  # inline HTML's scripts and styles, content and all
    hints = {key: value for key, value in ((k, _plain(v)) for k, v in hints.items()) if value}
    out: list[str] = []
    in_fence, joinable = False, False
    for raw in md.splitlines():
        if _MD_FENCE.match(raw):
            in_fence, joinable = not in_fence, False
            continue
        line = raw.rstrip() if in_fence else _strip_md_line(raw)
        if not line:
            out.append("")
            joinable = False
        elif joinable and not in_fence and not _MD_BLOCK_START.match(raw):
            sep = " " if out[-1][-1:].isascii() and line[:1].isascii() else ""
            out[-1] = f"{out[-1]}{sep}{line}"
        else:
            out.append(line)
            joinable = not in_fence and not re.match(r"^\s*#", raw)
    return "\n".join(out), hints
