"""Test documents made on the spot: Chinese PDFs (fpdf2), scanned pages and images (Pillow).

Every document is built from known paragraphs, so a test can measure what an extractor kept
(`GeneratedPdf.body`: the paragraphs a reader should get back, in reading order) and what it
should have removed (`GeneratedPdf.boilerplate`: running headers, footers, page numbers).
The font is the CJK font `make test` installs (Debian's fonts-wqy-microhei).

`policy_pdf` is a government decision with everything real ones have: a red-header style
issuer line, a title in a larger font over two lines, a document number, numbered articles,
a running header and ``- N -`` page numbers, a ruled table, a two-column page, a date line and
PDF metadata. `scanned_pdf` is the same kind of text rendered to images (no text layer).

Leaves out: DOCX files (python-docx builds them in the tests that need them).
"""

from __future__ import annotations

import difflib
import io
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import WrapMode
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

TITLE = ("兰州市人民政府关于加快推进黄河流域", "生态保护和高质量发展的决定")
ISSUER = "兰州市人民政府"
DOC_NUMBER = "兰政发〔2023〕18号"
DATE_LINE = "2023年5月6日"
RUNNING_HEADER = "兰州市人民政府公报"
ARTICLES = (
    "第一条 为深入贯彻黄河流域生态保护和高质量发展重大国家战略，推动全市经济社会发展全面"
    "绿色转型，结合本市实际，作出本决定。",
    "第二条 各县区人民政府应当把黄河流域生态保护作为首要任务，到2025年全市森林覆盖率达到"
    "百分之十五以上，黄河干流兰州段水质稳定保持在二类标准。",
    "第三条 严格控制高耗水项目建设。新建、改建和扩建项目应当开展节水评价，未通过评价的项目"
    "不得开工建设，已建成项目的单位产品取水量应当在三年内下降百分之十。",
    "第四条 市生态环境局负责统筹全市黄河流域污染防治工作，每季度向市人民政府报告工作进展，"
    "并向社会公开主要污染物排放情况。",
    "第五条 推进南北两山绿化工程，每年新增造林面积不少于五万亩，优先种植耐旱的本地树种，"
    "鼓励企业和个人认建认养绿地。",
    "第六条 设立黄河生态保护专项资金，市级财政每年安排不少于三亿元，用于湿地修复、水土保持"
    "和污水管网建设，资金使用情况接受审计监督。",
    "第七条 建立河长制考核机制，对未完成年度目标的县区，由市人民政府约谈其主要负责人，"
    "考核结果作为领导班子综合考评的重要依据。",
    "第八条 本决定自2023年6月1日起施行。",
)
COLUMN_LEFT = (
    "附件一 兰州新区水资源配置方案。兰州新区以引大入秦工程为主要水源，规划到2025年年供水能力"
    "达到一点五亿立方米，其中工业用水占百分之四十。",
    "新区管委会应当建设再生水利用设施，城市绿化和道路清扫优先使用再生水。",
)
COLUMN_RIGHT = (
    "附件二 中心城区污水处理提标改造计划。七里河、安宁两座污水处理厂在2024年底前完成提标改造，"
    "出水达到一级A标准。",
    "改造期间各厂应当制定应急预案，确保污水不直排黄河。",
)
TABLE = (
    ("指标", "2022年", "2025年目标"),
    ("森林覆盖率", "13.5%", "15%"),
    ("再生水利用率", "21%", "30%"),
    ("黄河干流水质", "二类", "二类"),
)


@dataclass
class GeneratedPdf:
    data: bytes
    body: list[str] = field(default_factory=list)  # what a reader should keep, in order
    boilerplate: list[str] = field(default_factory=list)  # what it should remove
    pages: int = 0


class _Pdf(FPDF):
    def __init__(self, header_text: str | None) -> None:
        super().__init__(format="A4")
        self.header_text = header_text
        self.add_font("wqy", fname=str(FONT))
        self.set_auto_page_break(auto=True, margin=25)

    def header(self) -> None:
        if self.header_text:
            self.set_font("wqy", size=9)
            self.set_y(10)
            self.cell(0, 6, self.header_text, align="C")
            self.set_y(25)

    def footer(self) -> None:
        self.set_font("wqy", size=9)
        self.set_y(-15)
        self.cell(0, 6, f"- {self.page_no()} -", align="C")


def policy_pdf(*, columns: bool = True, table: bool = True, metadata: bool = True) -> GeneratedPdf:
    """The Lanzhou decision as a three-page PDF (see the module docstring)."""
    pdf = _Pdf(RUNNING_HEADER)
    if metadata:
        pdf.set_title("".join(TITLE))
        pdf.set_author(ISSUER)
    out = GeneratedPdf(b"", boilerplate=[RUNNING_HEADER])
    pdf.add_page()
    _line(pdf, f"{ISSUER}文件", 20, out)
    _line(pdf, DOC_NUMBER, 11, out)
    pdf.ln(4)
    for part in TITLE:
        pdf.set_font("wqy", size=18)
        pdf.cell(0, 10, part, align="C", new_x="LMARGIN", new_y="NEXT")
    out.body.append("".join(TITLE))
    pdf.ln(4)
    for article in ARTICLES[:5]:
        _paragraph(pdf, article, out)
    pdf.add_page()
    for article in ARTICLES[5:]:
        _paragraph(pdf, article, out)
    if table:
        pdf.ln(3)
        pdf.set_font("wqy", size=11)
        with pdf.table(
            col_widths=(60, 50, 50), text_align="CENTER", first_row_as_headings=False
        ) as grid:
            for row in TABLE:
                cells = grid.row()
                for cell in row:
                    cells.cell(cell)
        out.body.append("\n".join(" | ".join(row) for row in TABLE))
    pdf.ln(6)
    _line(pdf, ISSUER, 12, out, align="R")
    _line(pdf, DATE_LINE, 12, out, align="R")
    if columns:
        pdf.add_page()
        _two_columns(pdf, out)
    out.boilerplate += [f"- {n} -" for n in range(1, pdf.page_no() + 1)]
    out.pages = pdf.page_no()
    out.data = bytes(pdf.output())
    return out


def _line(pdf: FPDF, text: str, size: float, out: GeneratedPdf, align: str = "L") -> None:
    pdf.set_font("wqy", size=size)
    pdf.cell(0, size * 0.6, text, align=align, new_x="LMARGIN", new_y="NEXT")
    out.body.append(text)


def _paragraph(pdf: FPDF, text: str, out: GeneratedPdf, width: float = 0) -> None:
    pdf.set_font("wqy", size=12)
    pdf.multi_cell(width, 7, "\u3000\u3000" + text, wrapmode=WrapMode.CHAR)
    pdf.ln(2)
    out.body.append(text)


def _two_columns(pdf: FPDF, out: GeneratedPdf) -> None:
    top, width, gap = pdf.get_y(), (pdf.epw - 10) / 2, 10
    pdf.set_font("wqy", size=12)
    for paragraphs, x in ((COLUMN_LEFT, pdf.l_margin), (COLUMN_RIGHT, pdf.l_margin + width + gap)):
        pdf.set_xy(x, top)
        for text in paragraphs:
            pdf.set_x(x)
            pdf.multi_cell(width, 7, "\u3000\u3000" + text, wrapmode=WrapMode.CHAR)
            pdf.ln(2)
            out.body.append(text)


def render_page(
    lines: list[str], *, size: int = 34, width: int = 1240, height: int = 0
) -> Image.Image:
    """A scanned-looking page: black text on white, 150 dpi A4 width, one line per item;
    ``height`` 0 is as tall as the text needs."""
    font = ImageFont.truetype(str(FONT), size)
    height = height or max(600, 160 + len(lines) * int(size * 1.9))
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    y = 120
    for line in lines:
        draw.text((110, y), line, font=font, fill=0)
        y += int(size * 1.9)
    return image


def wrap(text: str, per_line: int = 28) -> list[str]:
    return [text[i : i + per_line] for i in range(0, len(text), per_line)]


def scanned_pdf(
    paragraphs: tuple[str, ...] = ARTICLES[:3], *, blank_page: bool = False, stamp: str = ""
) -> bytes:
    """A PDF whose pages are images of text (no text layer), one paragraph set per page;
    ``blank_page`` adds a page with nothing readable on it; ``stamp`` is a line of real text
    over the scan (what a scanning office adds: "内部资料 …")."""
    pdf = FPDF(format="A4")
    pdf.add_font("wqy", fname=str(FONT))
    images = [render_page([line for p in paragraphs for line in wrap(p)], height=1754)]
    if blank_page:
        images.append(Image.new("L", (1240, 1754), 255))
    for image in images:
        pdf.add_page()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        pdf.image(buffer, x=0, y=0, w=pdf.w)
        if stamp:
            pdf.set_font("wqy", size=9)
            pdf.set_xy(10, 8)
            pdf.cell(0, 5, stamp)
    return bytes(pdf.output())


def image_bytes(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def many_pages_pdf(pages: int, text: str = "这是一页测试文字。") -> bytes:
    pdf = FPDF(format="A4")
    pdf.add_font("wqy", fname=str(FONT))
    pdf.set_font("wqy", size=12)
    for n in range(pages):
        pdf.add_page()
        pdf.set_y(80)  # mid-page: text in the top margin on every page is a running header
        pdf.cell(0, 10, f"{text}第{n + 1}页。")
    return bytes(pdf.output())


def encrypted_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_font("wqy", fname=str(FONT))
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("wqy", size=12)
    pdf.cell(0, 10, "机密文件内容")
    return bytes(pdf.output())


def flowing_pdf(paragraphs: int = 14) -> GeneratedPdf:
    """Numbered paragraphs flowing over pages (fpdf2's automatic page breaks), so some
    paragraph is broken by a page break; a running header and page numbers on every page."""
    pdf = _Pdf(RUNNING_HEADER)
    out = GeneratedPdf(b"", boilerplate=[RUNNING_HEADER])
    pdf.add_page()
    for n in range(paragraphs):
        text = ARTICLES[n % len(ARTICLES)].split(" ", 1)[1] * 2
        _paragraph(pdf, f"（{_CN[n % len(_CN)]}）{text}", out)
    out.boilerplate += [f"- {n} -" for n in range(1, pdf.page_no() + 1)]
    out.pages = pdf.page_no()
    out.data = bytes(pdf.output())
    return out


_CN = "一二三四五六七八九十"


def hyphenated_pdf() -> GeneratedPdf:
    """English lines with a word hyphenated across a line break, and full-width digits."""
    pdf = FPDF(format="A4")
    pdf.add_font("wqy", fname=str(FONT))
    pdf.set_font("wqy", size=12)
    pdf.add_page()
    lines = (
        "The Lanzhou committee approved the infor-",
        "mation programme for ２０２３ and asked every",
        "district to report twice a year.",
    )
    for line in lines:
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    body = "The Lanzhou committee approved the information programme for 2023 and asked every "
    return GeneratedPdf(bytes(pdf.output()), [body + "district to report twice a year."], [], 1)


def quality(text: str, doc: GeneratedPdf) -> tuple[float, float]:
    """(share of body characters kept, in order; share of boilerplate lines removed).

    Kept: the longest common subsequence of the body (paragraphs joined, whitespace dropped)
    and the extracted text, over the body's length (difflib's matching blocks). Removed:
    boilerplate lines of which no copy is left in the text.
    """
    body = "".join("".join(doc.body).split())
    got = "".join(text.split())
    matcher = difflib.SequenceMatcher(None, body, got, autojunk=False)
    kept = sum(block.size for block in matcher.get_matching_blocks()) / max(1, len(body))
    lines = [b for b in doc.boilerplate if b]
    removed = sum(1 for b in lines if "".join(b.split()) not in got) / max(1, len(lines))
    return kept, removed


def policy_docx() -> GeneratedPdf:
    """The decision as a Word file: a Title paragraph, headings, articles, a table, a numbered
    list, an explicit page break, and a section header and footer (not body)."""
    import docx

    document = docx.Document()
    document.core_properties.title = "".join(TITLE)
    document.core_properties.author = ISSUER
    section = document.sections[0]
    section.header.paragraphs[0].text = RUNNING_HEADER
    section.footer.paragraphs[0].text = "内部资料 注意保存"
    out = GeneratedPdf(b"", boilerplate=[RUNNING_HEADER, "内部资料 注意保存"])
    document.add_paragraph("".join(TITLE), style="Title")
    out.body.append("".join(TITLE))
    document.add_heading("总则", level=1)
    out.body.append("总则")
    for article in ARTICLES[:4]:
        document.add_paragraph(article)
        out.body.append(article)
    document.add_page_break()
    document.add_heading("保障措施", level=1)
    out.body.append("保障措施")
    for article in ARTICLES[4:]:
        document.add_paragraph(article)
        out.body.append(article)
    table = document.add_table(rows=len(TABLE), cols=3)
    for row, values in zip(table.rows, TABLE, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    out.body.append("\n".join(" | ".join(row) for row in TABLE))
    for n, item in enumerate(("加强组织领导。", "强化资金保障。"), start=1):
        document.add_paragraph(item, style="List Number")
        out.body.append(f"{n}. {item}")
    document.add_paragraph(ISSUER)
    document.add_paragraph(DATE_LINE)
    out.body += [ISSUER, DATE_LINE]
    buffer = io.BytesIO()
    document.save(buffer)
    out.data, out.pages = buffer.getvalue(), 2
    return out


def unruled_table_pdf() -> GeneratedPdf:
    """Key/value rows laid out in two columns without ruling lines, then a sentence."""
    pdf = FPDF(format="A4")
    pdf.add_font("wqy", fname=str(FONT))
    pdf.set_font("wqy", size=12)
    pdf.add_page()
    pdf.set_y(60)
    rows = (
        ("项目名称", "兰州新区污水处理厂"),
        ("建设单位", "兰州新区管委会"),
        ("总投资", "五亿元"),
        ("开工时间", "2023年6月"),
        ("完工时间", "2024年12月"),
    )
    for key, value in rows:
        y = pdf.get_y()
        pdf.set_xy(20, y)
        pdf.cell(40, 8, key)
        pdf.set_xy(110, y)
        pdf.cell(80, 8, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    sentence = "该项目建成后日处理污水能力达到十万吨，出水水质达到一级A标准。"
    pdf.cell(0, 8, sentence)
    body = ["\n".join(f"{k} | {v}" for k, v in rows), sentence]
    return GeneratedPdf(bytes(pdf.output()), body, [], 1)


def attachments_pdf() -> GeneratedPdf:
    """Three pages, each opening with its own heading in the top margin (附件1, 附件2, 附件3)."""
    pdf = FPDF(format="A4")
    pdf.add_font("wqy", fname=str(FONT))
    out = GeneratedPdf(b"")
    for n, article in enumerate(ARTICLES[:3], start=1):
        pdf.add_page()
        pdf.set_font("wqy", size=12)
        pdf.set_y(10)
        pdf.cell(0, 8, f"附件{n}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(40)
        pdf.multi_cell(0, 7, article, wrapmode=WrapMode.CHAR)
        out.body += [f"附件{n}", article]
    out.data, out.pages = bytes(pdf.output()), 3
    return out
