"""Cleaning stage: a scraped article (txt, md or html) -> clean body text plus metadata.

`clean_document` turns markup into lines (`index.text.html_text`), removes inline pinyin
and mojibake (`index.text.pinyin`), then decides line by line what is body:

1. Each line gets a kind.  Furniture regexes run on the line folded to simplified
   Chinese (OpenCC ``t2s``), so one pattern covers ``手机版``/``手機版``:
   ``ANY_LENGTH_PATTERNS`` (copyright, ICP, disclaimers) on any line,
   ``SHORT_LINE_PATTERNS`` only on lines of <= ``SHORT_LINE_MAX`` chars without ``。``.
   ``|``-separated short items are link lists; lines of >= ``PROSE_MIN_CHARS`` chars
   containing ``。`` (or ending a sentence) are prose.
2. Ads: the first window of ``AD_WINDOW`` lines after the body start holding
   ``AD_MIN_LINES`` ad lines (``AD_PATTERNS``: phones, prices, m², 户型) cuts the page
   there, together with the unpunctuated lead-in lines just above it.
3. A trailing run (no prose after it) of >= ``HEADLINE_RUN_MIN`` short lines not
   ending in ``。`` is a related-headlines list.
4. Body = the region with the most prose text, prose lines being at most ``MAX_GAP``
   short lines apart (sentence lines and enumerated lines do not use up the gap),
   plus adjacent short lines ending in ``。``.  No prose at all: sentences count.
5. Header/footer lines give the metadata (`index.text.metadata`); the title and its
   repeats (duplicate line, copies glued to the first paragraph), bylines and a
   trailing ``(文章原载于西安网)`` note (-> ``origin``) are kept out of the text.
6. Broken paragraphs are joined, spaced quote pairs become “…”, paragraphs are
   separated by a blank line.

``removed`` = ``pinyin`` annotations, ``mojibake`` runs, ``boilerplate_lines`` (sum
of ``furniture_lines``, ``link_list_lines``, ``ad_lines``, ``headline_list_lines``,
``outside_body_lines``), ``title_lines`` (title copies) and ``metadata_lines``.

Leaves out: byte decoding, chunking, script conversion of the text, and
punctuation changes other than the quote pairs.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from index.text import metadata as meta_mod
from index.text.html_text import html_to_text, markdown_to_text
from index.text.pinyin import (
    CJK,
    CLOSERS,
    ENUM_RE,
    SENTENCE_FINAL,
    join_broken_paragraphs,
    normalise_quotes,
    remove_mojibake,
    remove_pinyin,
)
from index.text.pinyin import to_simplified as fold

FORMATS = frozenset({"txt", "md", "html"})
PROSE_MIN_CHARS = 40
SHORT_LINE_MAX = 80
MAX_GAP = 3
HEADLINE_RUN_MIN = 5
AD_WINDOW, AD_MIN_LINES, AD_LEAD_IN_MAX = 6, 3, 6

# Footers and disclaimers: matched on a line of any length (folded, lower-cased).
ANY_LENGTH_PATTERNS = (
    r"copyright|©|版权所有|all rights reserved|侵权必究",
    r"icp\s*备|icp\s*证|icp\d|备案号|公网安备|经营许可证",
    r"^(?:免责|版权|特别|郑重)?声明\s*[:：]",
    r"^(?:本站|本网站|本平台)(?:为|是|所有|仅|不|对|提醒|郑重|部分)",
    r"侵犯了?(?:您|你)的(?:版权|隐私|权益|合法权益)",
    r"(?:通知|联系)(?:我们|本站|本网).{0,15}删除",
    r"(?:未经|非经)(?:本网|本站)?(?:书面)?(?:授权|许可).{0,12}不得(?:转载|复制|使用)",
)
# Navigation, widgets, credits and page furniture: only on short lines without "。".
SHORT_LINE_PATTERNS = (
    r"手机版|手机浏览|^手机看|下载app|打开app|客户端下载|扫一扫|扫码(?:关注|下载|阅读|查看|收听)",
    r"打印本页|打印此文|分享到|分享至|复制链接|收听本文|语音播报|\d{1,2}:\d{2}\s*/\s*\d{1,2}:\d{2}",
    r"^(?:上一篇|下一篇|上一页|下一页|返回顶部|返回首页|返回列表)|^(?:返回|首页)(?:\s|$|[>›»])",
    r"^(?:相关|推荐|热门|热点|延伸|精彩|最新|猜你|为您)(?:阅读|文章|新闻|推荐|资源|搜索|文档|喜欢|专题)",
    r"^(?:文章|网友|最新|热门|全部|所有)评论|^评论(?:区|列表)?$|评论请|发表评论|\d+\s*条评论|我要评论",
    r"^(?:责任编辑|编辑|责编|校对|审核|审校|终审|初审|复审|监制|制作|策划|统筹|来自|点击)\s*[:：丨|]",
    r"^[一二三四五]审\s*[:：丨|]?|(?:点击|阅读|浏览)(?:量|数|次数)?\s*[:：]\s*\d+",
    r"^(?:来源|稿源|出处|作者|发布时间|发布日期|时间|日期)\s*[:：]|上传人|文档编号|上传时间",
    r"展开阅读全文|阅读全文|查看更多|点击查看|资源描述|正为您匹配|精品文档|^二维码$",
    r"该文档总共|预览完了|喜欢就下载|_第\d+页$|^第\s*\d+\s*页\s*/\s*共\s*\d+\s*页",
    r"^(?:当前位置|您的位置|你的位置|您现在的位置)",
    r"欢迎(?:使用|访问|光临|来到)|设为首页|加入收藏|网站地图|联系我们|关于我们|友情链接|意见反馈",
    r"^(?:标签|关键词|关键字|tags?)\s*[:：]|^[(（【\[]\s*(?:完|(?:责任编辑|责编|编辑)[^)）】\]]*)\s*[)）】\]]$",
    r"\S\s*[>›»]\s*\S.*[>›»]|\S\s*>>",  # breadcrumbs: "a > b > c", "人民网>>观点"
)
# Advertisement lines (folded): phone numbers, prices, floor areas, flat layouts.
AD_PATTERNS = (
    r"(?<!\d)1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)|☎|☏|微信同号|加微信|咨询电话|咨询热线|服务热线",
    r"总价|单价|\d+(?:\.\d+)?\s*万元|元\s*/\s*(?:㎡|平|月)|面议",
    r"\d+(?:\.\d+)?\s*(?:m²|㎡|平米|平方米)|\d室\d厅|户型|房源|楼层\s*[:：]|朝向|装修\s*[:：]",
    r"买房|卖房|租房|免费发布|团购|特价",
)
ANY_LENGTH_RE = re.compile("|".join(ANY_LENGTH_PATTERNS))
SHORT_LINE_RE = re.compile("|".join(SHORT_LINE_PATTERNS))
AD_RE = re.compile("|".join(AD_PATTERNS))
_URL_ONLY = re.compile(r"^(?:https?://|www\.)\S+$|^[\w.-]+\.(?:com|cn|net|org)(?:/\S*)?$", re.I)
_HAS_TEXT = re.compile(rf"[{CJK}A-Za-z]")
_LINK_SEP = re.compile(r"[|｜]")
_SPACES = re.compile(r"[\s\u200b\u200c\u200d\ufeff]+")

PROSE, SENTENCE, SHORT, FURNITURE, JUNK, LINKS, META, AD, HEADLINES = (
    "prose", "sentence", "short", "furniture", "junk", "links", "meta", "ad", "headlines",
)  # fmt: skip
BODY_KINDS = frozenset({PROSE, SENTENCE, SHORT})
CATEGORY = {
    FURNITURE: "furniture_lines", JUNK: "furniture_lines", LINKS: "link_list_lines",
    AD: "ad_lines", HEADLINES: "headline_list_lines", META: "metadata_lines",
}  # fmt: skip
BOILERPLATE_CATEGORIES = (
    "furniture_lines", "link_list_lines", "ad_lines", "headline_list_lines", "outside_body_lines",
)  # fmt: skip


@dataclass(frozen=True)
class CleanedDocument:
    """A cleaned article: body text and metadata (see the module docstring)."""

    title: str
    date: str | None
    outlet: str | None
    origin: str | None
    author: str | None
    text: str
    removed: dict[str, int]


def to_dict(doc: CleanedDocument) -> dict[str, object]:
    """JSON-ready dict of a cleaned document (for ``qa clean``)."""
    return asdict(doc)


def _ends_sentence(line: str) -> bool:
    return line.rstrip(CLOSERS)[-1:] in tuple(SENTENCE_FINAL)


def _ends_full_stop(line: str) -> bool:
    return line.rstrip(CLOSERS).endswith("。")


def _is_link_list(line: str) -> bool:
    items = [item.strip() for item in _LINK_SEP.split(line) if item.strip()]
    return len(items) >= 4 and "。" not in line and sum(map(len, items)) / len(items) <= 12


def split_glued_footer(line: str) -> list[str]:
    """``正文……。 © 2023 bbc.`` -> [``正文……。``, ``© 2023 bbc.``]: a footer glued to prose.

    Only splits when at least ``PROSE_MIN_CHARS`` of text precede the footer, so a
    line that *is* a footer stays whole (and is dropped as furniture).
    """
    folded = fold(line).lower()
    match = ANY_LENGTH_RE.search(folded, PROSE_MIN_CHARS)
    if match is None or len(folded) != len(line):
        return [line]
    head, tail = line[: match.start()].rstrip(), line[match.start() :].strip()
    if ANY_LENGTH_RE.search(fold(head).lower()) or len(head) < PROSE_MIN_CHARS:
        return [line]
    return [head, tail] if tail else [head]


def classify_line(line: str) -> str:
    """Kind of one normalised, non-empty line (see the module docstring)."""
    folded = fold(line).lower()
    if not _HAS_TEXT.search(line) or _URL_ONLY.match(line):
        return JUNK
    if ANY_LENGTH_RE.search(folded):
        return FURNITURE
    if len(line) <= SHORT_LINE_MAX and "。" not in line:
        tokens = folded.split()
        if SHORT_LINE_RE.search(folded) or any(
            len(t) > 1 and t in meta_mod.FURNITURE_TOKENS for t in tokens
        ):
            return FURNITURE
        if meta_mod.is_byline(line) or meta_mod.is_reported_by(line):
            return META
    if _is_link_list(line):
        return LINKS
    if len(line) >= PROSE_MIN_CHARS and ("。" in line or _ends_sentence(line)):
        return PROSE
    return SENTENCE if _ends_sentence(line) else SHORT


def _is_ad_line(line: str) -> bool:
    return "。" not in line and len(line) <= SHORT_LINE_MAX and bool(AD_RE.search(fold(line)))


def _mark_ads(lines: list[str], kinds: list[str], first_prose: int) -> None:
    """Mark the first ad block after the body start, its lead-in and the rest as AD."""
    flags = [_is_ad_line(line) for line in lines]
    for i in range(first_prose + 1, len(lines)):
        if flags[i] and sum(flags[i : i + AD_WINDOW]) >= AD_MIN_LINES:
            start = i  # walk back over the lead-in: unpunctuated non-prose lines
            while start - 1 > max(first_prose, i - AD_LEAD_IN_MAX - 1) and not (
                kinds[start - 1] == PROSE or _ends_sentence(lines[start - 1])
            ):
                start -= 1
            kinds[start:] = [AD] * (len(kinds) - start)
            return


def _mark_headline_runs(lines: list[str], kinds: list[str], last_prose: int) -> None:
    """Mark trailing runs of >= HEADLINE_RUN_MIN short unterminated lines as HEADLINES."""
    run: list[int] = []
    for i in range(last_prose + 1, len(lines) + 1):
        kind = kinds[i] if i < len(lines) else None
        if kind in (FURNITURE, JUNK):
            continue
        if kind in (SHORT, SENTENCE) and not _ends_full_stop(lines[i]):
            run.append(i)
            continue
        if len(run) >= HEADLINE_RUN_MIN:
            for j in run:
                kinds[j] = HEADLINES
        run = []


def _prose_regions(kinds: list[str], lines: list[str]) -> list[tuple[int, int]]:
    """(first, last) prose line of each region; regions break at > MAX_GAP short lines."""
    regions: list[tuple[int, int]] = []
    start = last = -1
    gap = 0
    for i, kind in enumerate(kinds):
        if kind == PROSE:
            start, last, gap = (i if start < 0 else start), i, 0
        elif start < 0:
            continue
        elif kind == SENTENCE or (kind == SHORT and ENUM_RE.match(lines[i])):
            gap = 0
        elif kind in (AD, HEADLINES) or gap >= MAX_GAP:
            regions.append((start, last))
            start, gap = -1, 0
        else:
            gap += 1
    if start >= 0:
        regions.append((start, last))
    return regions


def _select_body(lines: list[str], kinds: list[str]) -> list[int]:
    """Indices of the body lines, in order."""
    regions = _prose_regions(kinds, lines)
    if not regions:  # no prose at all: everything but the first content line (the title)
        return [i for i, kind in enumerate(kinds) if kind in BODY_KINDS][1:]

    def prose_chars(region: tuple[int, int]) -> int:
        return sum(len(lines[i]) for i in range(region[0], region[1] + 1) if kinds[i] == PROSE)

    start, end = max(regions, key=prose_chars)
    while start > 0 and kinds[start - 1] == SENTENCE and _ends_full_stop(lines[start - 1]):
        start -= 1
    while end + 1 < len(lines) and kinds[end + 1] == SENTENCE and _ends_full_stop(lines[end + 1]):
        end += 1
    return [i for i in range(start, end + 1) if kinds[i] in BODY_KINDS]


def _key(text: str) -> str:
    return re.sub(r"\s+", "", fold(text))


def _strip_title_prefix(paragraph: str, title: str) -> tuple[str, int]:
    """``标题标题同志们:…`` -> (``同志们:…``, 2)."""
    count = 0
    while title and paragraph.startswith(title) and paragraph[len(title) :].strip():
        paragraph, count = paragraph[len(title) :].lstrip(), count + 1
    return paragraph, count


def _paragraphs(
    lines: list[str], body: list[int], info: meta_mod.Metadata
) -> tuple[list[str], set[int], int, str | None]:
    """(paragraphs, kept line indices, title prefixes removed, origin note)."""
    title_key = _key(info.title)
    kept = [
        i for i in body if i not in info.used and not (title_key and _key(lines[i]) == title_key)
    ]
    paragraphs = [lines[i] for i in kept]
    prefixes, note = 0, None
    if paragraphs:
        paragraphs[0], prefixes = _strip_title_prefix(paragraphs[0], info.title)
        paragraphs[-1], note = meta_mod.split_origin_note(paragraphs[-1])
    paragraphs = [normalise_quotes(p) for p in join_broken_paragraphs([p for p in paragraphs if p])]
    return paragraphs, set(kept), prefixes, note


def _removed_counts(
    lines: list[str], kinds: list[str], kept: set[int], info: meta_mod.Metadata
) -> dict[str, int]:
    counts = dict.fromkeys(("title_lines", "metadata_lines", *BOILERPLATE_CATEGORIES), 0)
    title_key = _key(info.title)
    for i, kind in enumerate(kinds):
        if i in kept:
            continue
        if i == info.title_line or (title_key and _key(lines[i]) == title_key):
            counts["title_lines"] += 1
        elif i in info.used:
            counts["metadata_lines"] += 1
        else:
            counts[CATEGORY.get(kind, "outside_body_lines")] += 1
    return counts


def _to_lines(raw: str, fmt: str) -> tuple[list[str], dict[str, str], int, int]:
    """(normalised non-empty lines, markup hints, pinyin removed, mojibake runs removed)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {sorted(FORMATS)}")
    hints: dict[str, str] = {}
    if fmt == "html":
        raw, hints = html_to_text(raw)
    elif fmt == "md":
        raw, hints = markdown_to_text(raw)
    text, n_pinyin = remove_pinyin(raw)
    text, n_mojibake = remove_mojibake(text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return [line for line in lines if line], hints, n_pinyin, n_mojibake


def clean_document(raw: str, *, fmt: str = "txt", source_name: str = "") -> CleanedDocument:
    """Clean one scraped article (already-decoded text) in format ``txt``, ``md`` or ``html``."""
    lines, hints, n_pinyin, n_mojibake = _to_lines(raw, fmt)
    lines = [part for line in lines for part in split_glued_footer(line)]
    kinds = [classify_line(line) for line in lines]
    if PROSE not in kinds:  # an article of short paragraphs: sentences count as prose
        kinds = [PROSE if kind == SENTENCE else kind for kind in kinds]
    if PROSE in kinds:
        _mark_ads(lines, kinds, kinds.index(PROSE))
        _mark_headline_runs(lines, kinds, len(kinds) - 1 - kinds[::-1].index(PROSE))
    body = _select_body(lines, kinds)
    start = body[0] if body else len(lines)
    body_set = set(body)
    info = meta_mod.extract_metadata(
        lines,
        header=[i for i in range(start)],
        footer=[i for i in range(start, len(lines)) if i not in body_set],
        title_candidates=[i for i in range(start) if kinds[i] in (SHORT, SENTENCE)],
        hints=hints,
        source_name=source_name,
    )
    paragraphs, kept, prefixes, note = _paragraphs(lines, body, info)
    if not paragraphs:  # never clean a page to nothing: a snippet is its own body
        kept = {i for i, kind in enumerate(kinds) if kind not in (JUNK, FURNITURE)}
        paragraphs = [lines[i] for i in sorted(kept)]
    counts = _removed_counts(lines, kinds, kept, info)
    counts["title_lines"] += prefixes
    boilerplate = sum(counts[c] for c in BOILERPLATE_CATEGORIES)
    return CleanedDocument(
        title=info.title,
        date=info.date,
        outlet=info.outlet,
        origin=info.origin or note,
        author=info.author,
        text="\n\n".join(paragraphs),
        removed={"pinyin": n_pinyin, "mojibake": n_mojibake, "boilerplate_lines": boilerplate}
        | counts,
    )
