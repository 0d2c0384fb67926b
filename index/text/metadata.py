"""Article metadata from the lines around the body: title, date, outlet, origin, author.

`extract_metadata` looks at the *header* (non-body lines before the body) and the
*footer* (non-body lines after it) of a cleaned-up line list, plus optional hints
from the markup (``<meta>`` tags, Markdown front matter), which win when present:

* title: the first plausible header line (4-100 chars, not ending in ``。``, not a
  date or byline) -- the one matching the markup title when there is one, else the
  markup title itself; then a CJK ``source_name``.  A file suffix (``_0``,
  ``_第1页``) and a site suffix (``标题_新华网``) are cut off.
* date: the first full date in the header (``2019-05-14``, ``2022年8月4日``), else a
  periodical issue (``2021年第11期`` -> ``2021-11``, assuming a monthly, for issues
  1-12; ``YYYY`` otherwise), else a *labelled* date in the footer (``发布时间:``).
  Copyright year ranges never count.
* outlet: a header line that is a bare outlet name once dates and page furniture
  are removed (``2019-05-14信息快讯网``, ``共產黨員網 打印 糾錯``) or a breadcrumb
  starting with one (``新华网 > 时政``), a site suffix of the title, else the holder
  named in a copyright line (``热点新闻网版权所有``).
* origin: a ``来源:``/``转自:``... label, a stand-alone ``■据人民网`` line, or a
  trailing ``(文章原载于西安网)`` note on the last paragraph (`split_origin_note`).
* author: a ``作者:``/``文/``/``记者`` label, a byline line (``本报评论员``), or a
  short name line right after the title whose first character is a common surname.

Labels are matched on the line folded to simplified Chinese, but values are
returned as written (``《黨建研究》2021年第11期``).  ``来自:`` / ``上传人:`` name an
uploader, never an author.

Leaves out: deciding which lines are body or boilerplate (`index.text.clean`), dates
inside the body text, and normalising outlet names to a canonical list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.text.pinyin import CJK, to_simplified

OUTLET_SUFFIXES = (
    "网", "报", "社", "台", "刊", "新闻", "在线", "频道", "杂志", "周刊", "客户端", "资讯",
)  # fmt: skip
# Whitespace-separated tokens that are page furniture next to an outlet name.
FURNITURE_TOKENS = frozenset(
    "打印 纠错 收藏 关闭 关闭窗口 字号 大 中 小 默认 分享 分享到 复制链接 举报 评论 点赞 "
    "返回 下载 相关 登录 注册 手机版 首页 × 微信 微博 qq空间 扫一扫".split()
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐")

ORIGIN_LABELS = (
    "文章来源|本文来源|信息来源|新闻来源|来源|稿源|出处|转载自|转自|原载于|原载|选自|摘自"
)
AUTHOR_LABELS = "作者|撰文|文|本报记者|记者|通讯员"
_LABEL_VALUE = r"\s*[:：/]\s*(?P<value>.+?)(?=\s+[^\s:：]{1,8}[:：]|\s*[|丨]|$)"
ORIGIN_RE = re.compile(rf"(?:^|[\s|丨(（【])(?:{ORIGIN_LABELS}){_LABEL_VALUE}")
AUTHOR_RE = re.compile(rf"(?:^|[\s|丨(（【])(?:{AUTHOR_LABELS}){_LABEL_VALUE}")
_NAME = rf"[{CJK}]{{2,4}}"
NAME_LINE_RE = re.compile(rf"^{_NAME}(?:[\s、,，]+{_NAME}){{0,3}}$")
BYLINE_RE = re.compile(
    rf"^(?:本报|本刊|本台|本网|新华社)?(?:特约)?(?:评论员|记者|通讯员)(?:\s+(?P<names>{_NAME}(?:[\s、,，]+{_NAME})*))?$"
)
REPORTED_BY_RE = re.compile(rf"^[■●◆▲□◇★☆▶►\s]*据\s*(?P<value>[{CJK}\w]{{2,15}}?)(?:报道|消息)?$")
ORIGIN_NOTE_RE = re.compile(
    r"[(（]\s*(?:文章|本文)?(?:原载于|原载|原刊于|刊于|来源[:：]?|转自|转载自|摘自|选自)\s*"
    r"(?P<value>[^()（）]{1,30}?)\s*[)）]\s*$"
)
DATE_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})(?!\d)"
)
ISSUE_RE = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年\s*第\s*(?P<n>\d{1,3})\s*期")
TIME_RE = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)")
DATE_LABEL_RE = re.compile(r"(发布|发表|更新|上传|出版|日期|时间)")
COPYRIGHT_RE = re.compile(
    rf"(?P<a>[{CJK}]{{2,15}}?)\s*版权所有|版权所有\s*[:：©]?\s*(?P<b>[{CJK}]{{2,15}})"
    rf"|(?:©|copyright)\s*(?:\d{{4}}(?:\s*-\s*\d{{4}})?)?\s*(?P<c>[{CJK}]{{2,15}}?)(?:版权所有|[\s,，.。]|$)",
    re.I,
)
_BREADCRUMB_SPLIT = re.compile(r"\s*(?:>>|[>›»])\s*")
_FIELD_RE = re.compile(r"\S{1,6}[:：]\s*\S*")
_TITLE_FILE_SUFFIX = re.compile(r"(?:_\d+)?(?:_第\d+页)?$")
_TITLE_SITE_SUFFIX = re.compile(
    r"^(?P<title>.{4,}?)\s*(?:_|\s[-–|｜]\s)\s*(?P<site>[^_|｜]{2,20})$"
)


@dataclass
class Metadata:
    """Extracted fields plus the indices of lines that carried them."""

    title: str = ""
    date: str | None = None
    outlet: str | None = None
    origin: str | None = None
    author: str | None = None
    title_line: int | None = None
    used: set[int] = field(default_factory=set)


def _value(line: str, match: re.Match[str], group: str = "value") -> str:
    """The matched group as written in ``line`` (matching was done on its folded form)."""
    folded_value = match.group(group)
    if len(to_simplified(line)) != len(line):
        return folded_value.strip()
    return line[match.start(group) : match.end(group)].strip()


def is_outlet_name(token: str) -> bool:
    """A short CJK name ending like an outlet: ``信息快讯网``, ``共產黨員網``, ``新华社``."""
    folded = to_simplified(token)
    return bool(re.fullmatch(rf"[{CJK}A-Za-z0-9·]{{2,15}}", token)) and folded.endswith(
        OUTLET_SUFFIXES
    )


def _is_name(text: str) -> bool:
    folded = to_simplified(text)
    return folded[:1] in SURNAMES or folded.startswith(COMPOUND_SURNAMES)


def is_byline(line: str) -> bool:
    """``本报评论员``, ``本报记者 张三`` (folded or not)."""
    return bool(BYLINE_RE.match(to_simplified(line)))


def is_reported_by(line: str) -> bool:
    """A stand-alone ``■据人民网`` line naming an outlet (not ``据统计``)."""
    match = REPORTED_BY_RE.match(to_simplified(line))
    return match is not None and is_outlet_name(match["value"])


def parse_date(text: str) -> str | None:
    """First full date in ``text`` as ISO ``YYYY-MM-DD``, else an issue date, else None."""
    for match in DATE_RE.finditer(text):
        y, m, d = int(match["y"]), int(match["m"]), int(match["d"])
        if 1 <= m <= 12 and 1 <= d <= 31:
            return f"{y:04d}-{m:02d}-{d:02d}"
    issue = ISSUE_RE.search(text)
    if issue:
        n = int(issue["n"])
        return f"{issue['y']}-{n:02d}" if 1 <= n <= 12 else issue["y"]
    return None


def clean_title(text: str) -> tuple[str, str | None]:
    """Strip file suffixes (``_0``) and a site suffix; return (title, site or None)."""
    title = _TITLE_FILE_SUFFIX.sub("", text.strip()).strip()
    match = _TITLE_SITE_SUFFIX.match(title)
    if match and is_outlet_name(match["site"].strip()):
        return match["title"].strip(), match["site"].strip()
    return title, None


def split_origin_note(paragraph: str) -> tuple[str, str | None]:
    """``……保障。(文章原载于西安网)`` -> (``……保障。``, ``西安网``)."""
    match = ORIGIN_NOTE_RE.search(to_simplified(paragraph))
    if not match or len(to_simplified(paragraph)) != len(paragraph):
        return paragraph, None
    return paragraph[: match.start()].rstrip(), _value(paragraph, match)


def _title(
    lines: Sequence[str], candidates: Sequence[int], hint: str, source_name: str
) -> tuple[str, int | None, str | None]:
    usable = [
        i
        for i in candidates
        if 4 <= len(lines[i]) <= 100
        and not lines[i].endswith(("。", "；", ";"))
        and not parse_date(lines[i])
        and not is_byline(lines[i])
    ]
    hint_title = clean_title(hint)[0] if len(hint.strip()) >= 4 else ""
    for i in usable:
        title, site = clean_title(lines[i])
        if not hint_title or title in hint_title or hint_title in title:
            return title, i, site
    if hint_title:
        return hint_title, None, clean_title(hint)[1]
    stem = Path(source_name).stem
    return (clean_title(stem)[0], None, None) if re.search(f"[{CJK}]", stem) else ("", None, None)


def _outlet_in_line(line: str) -> str | None:
    crumbs = _BREADCRUMB_SPLIT.split(line)
    if len(crumbs) > 1:  # "新华网 > 时政 > 正文": a breadcrumb starting with the site
        return crumbs[0] if is_outlet_name(crumbs[0]) else None
    rest = TIME_RE.sub(" ", DATE_RE.sub(" ", line))
    rest = _FIELD_RE.sub(" ", rest)
    tokens = [t for t in re.split(r"[\s|丨]+", rest) if t]
    kept = [t for t in tokens if to_simplified(t).lower() not in FURNITURE_TOKENS]
    return kept[0] if len(kept) == 1 and is_outlet_name(kept[0]) else None


def _copyright_holder(line: str) -> str | None:
    match = COPYRIGHT_RE.search(to_simplified(line))
    if not match:
        return None
    group = next(g for g in ("a", "b", "c") if match.group(g))
    return _value(line, match, group)


def _find_date(
    lines: Sequence[str], header: Sequence[int], footer: Sequence[int], hint: str
) -> tuple[str | None, int | None]:
    if hint and (date := parse_date(hint)):
        return date, None
    for i in header:
        if not COPYRIGHT_RE.search(to_simplified(lines[i])) and (date := parse_date(lines[i])):
            return date, i
    for i in footer:
        folded = to_simplified(lines[i])
        labelled = DATE_LABEL_RE.search(folded) and not COPYRIGHT_RE.search(folded)
        if labelled and (date := parse_date(lines[i])):
            return date, i
    return None, None


def _find_outlet(
    lines: Sequence[str],
    header: Sequence[int],
    footer: Sequence[int],
    title: tuple[int | None, str | None],
) -> tuple[str | None, int | None]:
    """Outlet from a header line (its index returned), the title's site suffix, or a
    copyright line (index not returned: that line stays counted as boilerplate)."""
    title_line, title_site = title
    for i in header:
        if i != title_line and (outlet := _outlet_in_line(lines[i])):
            return outlet, i
    if title_site:
        return title_site, None
    for i in [*header, *footer]:
        if holder := _copyright_holder(lines[i]):
            return holder, None
    return None, None


def _find_origin(
    lines: Sequence[str], header: Sequence[int], footer: Sequence[int]
) -> tuple[str | None, int | None]:
    for i in [*header, *footer]:
        folded = to_simplified(lines[i])
        if match := ORIGIN_RE.search(folded):
            return _value(lines[i], match), i
        match = REPORTED_BY_RE.match(folded) if i in header else None
        if match and is_outlet_name(match["value"]):
            return _value(lines[i], match), i
    return None, None


def _find_author(
    lines: Sequence[str], header: Sequence[int], footer: Sequence[int], title_line: int | None
) -> tuple[str | None, int | None]:
    for i in [*header, *footer]:
        folded = to_simplified(lines[i])
        if match := BYLINE_RE.match(folded):
            return (_value(lines[i], match, "names") if match["names"] else lines[i].strip()), i
        if (match := AUTHOR_RE.search(folded)) and len(match["value"]) <= 20:
            return _value(lines[i], match), i
    if title_line is None:
        return None, None
    for i in header:
        line = lines[i]
        near_title = title_line < i <= title_line + 3
        if near_title and NAME_LINE_RE.match(line) and not is_outlet_name(line):
            names = re.split(r"[\s、,，]+", line)
            if all(_is_name(name) for name in names):
                return line, i
    return None, None


def extract_metadata(
    lines: Sequence[str],
    *,
    header: Sequence[int],
    footer: Sequence[int],
    title_candidates: Sequence[int],
    hints: Mapping[str, str],
    source_name: str = "",
) -> Metadata:
    """Title, date, outlet, origin and author from header/footer lines and markup hints.

    ``header``/``footer`` are indices of non-body lines before/after the body;
    ``title_candidates`` the header indices that are not boilerplate.
    """
    title, title_line, title_site = _title(
        lines, title_candidates, hints.get("title", ""), source_name
    )
    date, date_line = _find_date(lines, header, footer, hints.get("date", ""))
    outlet, outlet_line = _find_outlet(lines, header, footer, (title_line, title_site))
    origin, origin_line = _find_origin(lines, header, footer)
    author, author_line = _find_author(lines, header, footer, title_line)
    used = {
        i for i in (title_line, date_line, outlet_line, origin_line, author_line) if i is not None
    }
    return Metadata(
        title=title,
        date=date,
        outlet=hints.get("outlet") or outlet,
        origin=hints.get("origin") or origin,
        author=hints.get("author") or author,
        title_line=title_line,
        used=used,
    )
