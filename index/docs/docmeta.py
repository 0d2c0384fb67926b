"""Title, date, issuer and author of a PDF or Word document: file metadata, then the text.

* title: the file's own title property when it is a real title (not ``Microsoft Word - x.doc``,
  ``Document1``, a file name, ...); else, for a PDF, the largest-font lines at the top of the
  first page (a title set over two lines is one title), skipping the issuer banner
  (``兰州市人民政府文件``), document numbers (``兰政发〔2023〕18号``) and dates.
* date: a labelled date (``发布日期：2023-05-06``), else the last stand-alone date line -- the
  signing date (成文日期) that ends a Chinese government document -- in Arabic or Chinese
  numerals (``二〇二三年五月六日``), as ``YYYY-MM-DD``.  Creation dates of the file are not
  publication dates and are never used.
* issuer (stored as the outlet): the banner ``…文件`` with ``文件`` cut off, else the
  organisation signing above the date line, else what comes before ``关于`` in the title, else
  the file's author property when it names an organisation.
* author: the file's author property when it is a person or organisation, not ``Administrator``.

Leaves out: reading files (``index.docs.pdf``, ``index.docs.docx``).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Mapping, Sequence

from index.docs.layout import is_page_number
from index.docs.model import Extracted, Line

_JUNK_TITLE = re.compile(
    r"^(?:microsoft (?:word|powerpoint|excel)\s*-.*|untitled.*|document\d*|文档\d*|新建.*文档.*|"
    r"无标题.*|未命名.*|.*\.(?:docx?|pdf|wps|txt|rtf))$",
    re.I,
)
_JUNK_AUTHOR = re.compile(
    r"^(?:administrator|admin|user|owner|author|unknown|微软用户|windows 用户|用户|"
    r"lenovo|dell|hp|asus|acer|microsoft.*|sky\w*|\w*\d{3,}\w*)$",
    re.I,
)
ORGANISATION = re.compile(
    r"(?:政府|委员会|办公厅|办公室|人大常委会|部|局|厅|委|院|署|中心|协会|学会|公司|集团|银行|"
    r"总会|联合会|党委|党组|法院|检察院|大学|学院|研究所|管理处|管委会|"
    r"\b(?:Agency|Ministry|Department|Council|Office|Bureau|Commission|Committee|Government|"
    r"University|Institute|Association|Authority|Administration|Board|Centre|Center))$"
)
BANNER = re.compile(r"^(?P<issuer>.{2,40}?)\s*文\s*件$")
DOC_NUMBER = re.compile(r"[〔\[［(（]\s*(?:19|20)\d{2}\s*[〕\]］)）]\s*\d+\s*号")
_NUM = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0, "O": 0}
_CN_DATE = re.compile(
    r"^(?P<y>[〇○零O一二三四五六七八九]{4})年(?P<m>[一二三四五六七八九十]{1,3})月"
    r"(?P<d>[一二三四五六七八九十]{1,3})日$"
)
_DATE = re.compile(r"^(?P<y>(?:19|20)\d{2})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*"
                   r"(?P<d>\d{1,2})\s*日?$")  # fmt: skip
_CN_NUM = r"\d{1,3}|[一二三四五六七八九十百]{1,6}"
_ROC = re.compile(
    rf"^(?:中华民国|中華民國|民国|民國)(?P<y>{_CN_NUM})年(?P<m>{_CN_NUM})月(?P<d>{_CN_NUM})日$"
)
_MONTH_NAMES = (
    "january february march april may june july august september october november december"
).split()
_MONTHS = {name: n for n, full in enumerate(_MONTH_NAMES, start=1) for name in (full, full[:3])}
_MONTHS["sept"] = 9
_MONTH = r"[A-Za-z]{3,9}"
_EN_DATE = re.compile(
    rf"^(?:(?P<m1>{_MONTH})\.?\s+(?P<d1>\d{{1,2}}),?\s+|(?P<d2>\d{{1,2}})\s+(?P<m2>{_MONTH})\.?,?\s+)"
    r"(?P<y>(?:19|20)\d{2})$"
)
_LABELLED = re.compile(r"(?:发布|印发|成文|发文|公布)(?:日期|时间)\s*[:：]\s*(?P<value>[^\s，,]+)")
MAX_TITLE = 80


def plausible_title(text: str | None) -> str | None:
    text = (text or "").strip()
    if not 2 <= len(text) <= 200 or _JUNK_TITLE.match(text) or not re.search(r"\w", text):
        return None
    return text


def plausible_author(text: str | None) -> str | None:
    text = (text or "").strip()
    return text if 2 <= len(text) <= 60 and not _JUNK_AUTHOR.match(text) else None


def parse_date(text: str) -> str | None:
    """``2023年5月6日``, ``2023-05-06``, ``二〇二三年五月六日``, ``中華民國112年5月6日``,
    ``May 6, 2023``, ``6 May 2023`` -> ``2023-05-06``."""
    text = text.strip("（）() ")
    parts = _english(text) or _chinese(re.sub(r"\s+", "", text))
    if parts is None:
        return None
    y, m, d = parts
    return f"{y:04d}-{m:02d}-{d:02d}" if 1 <= m <= 12 and 1 <= d <= 31 else None


def _chinese(text: str) -> tuple[int, int, int] | None:
    if match := _DATE.match(text):
        return int(match["y"]), int(match["m"]), int(match["d"])
    if match := _CN_DATE.match(text):
        year = int("".join(str(_NUM[c]) for c in match["y"]))
        return year, _cn_number(match["m"]), _cn_number(match["d"])
    if match := _ROC.match(text):  # the Republic of China calendar: year 1 is 1912
        year, month, day = (_cn_number(match[k]) for k in ("y", "m", "d"))
        return (year + 1911, month, day) if year else None
    return None


def _english(text: str) -> tuple[int, int, int] | None:
    match = _EN_DATE.match(re.sub(r"\s+", " ", text))
    if not match:
        return None
    month = _MONTHS.get((match["m1"] or match["m2"]).lower())
    return (int(match["y"]), month, int(match["d1"] or match["d2"])) if month else None


def _cn_number(text: str) -> int:
    """``12`` or Chinese numerals up to 九百九十九: 一, 十二, 三十一, 一百一十二."""
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for ch in text:
        if ch in _NUM:
            digit = _NUM[ch]
        elif ch in "十百":
            total += (digit or 1) * (10 if ch == "十" else 100)
            digit = 0
        else:
            return 0
    return total + digit


def find_date(paragraphs: Sequence[str]) -> str | None:
    for paragraph in paragraphs:
        match = _LABELLED.search(paragraph)
        if match and (date := parse_date(match["value"])):
            return date
    for paragraph in reversed(paragraphs):
        if len(paragraph) <= 20 and (date := parse_date(paragraph)):
            return date
    return None


def find_issuer(paragraphs: Sequence[str], title: str | None) -> str | None:
    for paragraph in paragraphs[:3]:
        if match := BANNER.match(paragraph):
            return match["issuer"]
    for above, line in itertools.pairwise(paragraphs):
        if parse_date(line) and len(above) <= 40 and ORGANISATION.search(above):
            return above
    if title and "关于" in title:
        before = title.split("关于", 1)[0].strip()
        if 2 <= len(before) <= 40 and ORGANISATION.search(before):
            return before
    return None


def title_from_lines(lines: Sequence[Line]) -> str | None:
    """The largest-font lines near the top of a first page, joined (see the docstring)."""
    candidates = [
        ln
        for ln in lines
        if not BANNER.match(ln.text.strip())
        and not DOC_NUMBER.search(ln.text)
        and not parse_date(ln.text)
        and not is_page_number(ln.text)
        and len(ln.text.strip()) >= 4  # not a label such as 附件1
    ]
    if not candidates:
        return None
    size = max(ln.size for ln in candidates)
    top = [ln for ln in sorted(candidates, key=lambda ln: ln.top) if ln.size >= size - 0.5]
    parts = [top[0]]
    for line in top[1:]:
        if line.top - parts[-1].bottom > 1.5 * size:
            break
        parts.append(line)
    title = "".join(part.text.strip() for part in parts)
    return title if len(title) <= MAX_TITLE and title[-1] not in "。；！？" else None


def with_metadata(
    doc: Extracted, first_page: Sequence[Line], info: Mapping[str, object]
) -> Extracted:
    """``doc`` with its title, date, issuer and author (file metadata in ``info``)."""
    paragraphs = doc.text.split("\n\n")
    title = plausible_title(_text(info.get("Title") or info.get("title")))
    title = title or title_from_lines(first_page) or None
    author = plausible_author(_text(info.get("Author") or info.get("author")))
    issuer = find_issuer(paragraphs, title)
    if issuer is None and author and ORGANISATION.search(author):
        issuer = author
    date = find_date(paragraphs)
    return dataclasses.replace(doc, title=title, date=date, issuer=issuer, author=author)


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        for codec in ("utf-16", "utf-8"):
            try:
                return value.decode(codec)
            except UnicodeDecodeError:
                continue
        return None
    return value if isinstance(value, str) else None
