"""Tests for the Word reader (index.docs.docx) on .docx files built here with python-docx."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile

import docx
import pytest
from docx.document import Document as WordDocument
from docx.enum.section import WD_SECTION
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.table import Table

from index.docs.docx import OLE_MAGIC, format_number, read_docx
from index.docs.model import Extracted, page_at
from index.errors import IngestError

NAME = "政策文件.docx"


def _bytes(doc: WordDocument) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _read(doc: WordDocument) -> Extracted:
    return read_docx(_bytes(doc), NAME)


def _paragraphs(result: Extracted) -> list[str]:
    return result.text.split("\n\n")


def _rezip(
    data: bytes, replace: dict[str, bytes] | None = None, drop: frozenset[str] = frozenset()
) -> bytes:
    """``data`` (a .docx) with parts replaced or left out."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename not in drop:
                dst.writestr(info, (replace or {}).get(info.filename, src.read(info)))
    return out.getvalue()


def _run_xml(inner: str) -> BaseOxmlElement:
    return parse_xml(f"<w:r {nsdecls('w')}>{inner}</w:r>")


def _add_list(doc: WordDocument, levels: list[tuple[str, str]]) -> str:
    """A new list in numbering.xml with levels (numFmt, lvlText) starting at 1; its numId."""
    numbering = doc.part.numbering_part.element
    abstract_id = 1 + max(int(x) for x in numbering.xpath("./w:abstractNum/@w:abstractNumId"))
    num_id = 1 + max(int(x) for x in numbering.xpath("./w:num/@w:numId"))
    lvls = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
        f'<w:lvlText w:val="{text}"/></w:lvl>'
        for i, (fmt, text) in enumerate(levels)
    )
    abstract = (
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{abstract_id}">{lvls}</w:abstractNum>'
    )
    numbering.find(qn("w:num")).addprevious(parse_xml(abstract))
    numbering.append(
        parse_xml(
            f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="{abstract_id}"/>'
            "</w:num>"
        )
    )
    return str(num_id)


def _numbered(doc: WordDocument, text: str, num_id: str, ilvl: int = 0) -> None:
    p = doc.add_paragraph(text)
    numpr = f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'
    p._p.get_or_add_pPr().append(parse_xml(numpr))


def _policy() -> WordDocument:
    """A Chinese government document: red header, number, title, headings, signature, date."""
    doc = docx.Document()
    doc.add_paragraph("甘肃省人民政府文件")
    doc.add_paragraph("甘政发〔2023〕12号")
    doc.add_paragraph("甘肃省人民政府关于加强数据安全管理的决定", style="Title")
    doc.add_heading("一、总体要求", level=1)
    body = doc.add_paragraph("各市州人民政府，省政府各部门：")
    body.add_run().add_break()  # a soft line break inside Chinese text
    body.add_run("现将有关事项决定如下。")
    doc.add_heading("二、主要任务", level=1)
    doc.add_paragraph("加强数据分类分级保护。")
    doc.add_paragraph("甘肃省人民政府")
    doc.add_paragraph("2023年5月6日")
    return doc


# ---------------------------------------------------------------- body text


def test_policy_document_paragraphs_in_order_with_soft_breaks_joined() -> None:
    result = _read(_policy())
    assert result.fmt == "docx"
    assert _paragraphs(result) == [
        "甘肃省人民政府文件",
        "甘政发〔2023〕12号",
        "甘肃省人民政府关于加强数据安全管理的决定",
        "一、总体要求",
        "各市州人民政府，省政府各部门：现将有关事项决定如下。",  # no space at the soft break
        "二、主要任务",
        "加强数据分类分级保护。",
        "甘肃省人民政府",
        "2023年5月6日",
    ]
    assert result.stats["headings"] == 3  # Title + two Heading 1
    assert (result.page_starts, result.pages) == ((0,), 1)


def test_soft_break_between_latin_words_is_a_space_and_text_is_tidied() -> None:
    doc = docx.Document()
    p = doc.add_paragraph("Data  security")
    p.add_run().add_break()
    p.add_run("law ＡＢＣ１２３")
    p.add_run().add_break()
    p.add_run("国 务 院")
    p.add_run().add_break()
    p.add_run("Name\tValue 项目\t金额")
    assert _read(doc).text == "Data security law ABC123国务院Name Value 项目 金额"


def test_empty_paragraphs_are_dropped_and_headings_stand_alone() -> None:
    doc = docx.Document()
    doc.add_heading("标题一", level=2)
    doc.add_paragraph("")
    doc.add_paragraph("   ")
    doc.add_paragraph("正文。")
    assert _paragraphs(_read(doc)) == ["标题一", "正文。"]


def test_hidden_text_and_tracked_deletions_are_not_text() -> None:
    doc = docx.Document()
    p = doc.add_paragraph("保留")
    p._p.append(_run_xml("<w:rPr><w:vanish/></w:rPr><w:t>隐藏</w:t>"))
    p._p.append(
        parse_xml(
            f'<w:del {nsdecls("w")} w:id="1" w:author="a">'
            "<w:r><w:delText>删除</w:delText></w:r></w:del>"
        )
    )
    p._p.append(
        parse_xml(f'<w:ins {nsdecls("w")} w:id="2" w:author="a"><w:r><w:t>插入</w:t></w:r></w:ins>')
    )
    assert _read(doc).text == "保留插入"


def test_headers_and_footers_are_not_body_but_counted_as_boilerplate() -> None:
    doc = docx.Document()
    doc.sections[0].header.paragraphs[0].text = "页眉文字"
    doc.sections[0].footer.paragraphs[0].text = "第1页"
    doc.add_paragraph("正文内容。")
    result = _read(doc)
    assert result.text == "正文内容。"
    assert result.boilerplate_chars == len("页眉文字") + len("第1页")


WPS_NS = (
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml"'
)


def test_content_controls_are_unwrapped_and_a_text_box_is_read_once() -> None:
    doc = docx.Document()
    doc.add_paragraph("第一段")
    control = parse_xml(
        f"<w:sdt {nsdecls('w')}><w:sdtPr/><w:sdtContent>"
        "<w:p><w:r><w:t>控件里的段落</w:t></w:r></w:p></w:sdtContent></w:sdt>"
    )
    doc.element.body.insert(1, control)
    box = "<w:txbxContent><w:p><w:r><w:t>文本框</w:t></w:r></w:p></w:txbxContent>"
    anchor = doc.add_paragraph("锚定段落")
    anchor._p.append(
        parse_xml(
            f"<w:r {nsdecls('w')} {WPS_NS}><mc:AlternateContent>"
            f'<mc:Choice Requires="wps"><w:drawing><wps:wsp><wps:txbx>{box}</wps:txbx>'
            "</wps:wsp></w:drawing></mc:Choice>"
            f"<mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict>"
            "</mc:Fallback></mc:AlternateContent></w:r>"
        )
    )
    assert _paragraphs(_read(doc)) == ["第一段", "控件里的段落", "锚定段落", "文本框"]


# ---------------------------------------------------------------- tables


def _table(doc: WordDocument, rows: list[list[str]]) -> Table:
    table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    return table


def test_table_stands_where_it_is_one_paragraph_rows_on_lines() -> None:
    doc = docx.Document()
    doc.add_paragraph("表格之前。")
    table = _table(doc, [["a", "b", "c"], ["x", "y", "z"], ["", "", ""], ["甲", "乙", "丙"]])
    table.cell(1, 0).merge(table.cell(1, 1)).text = "合并"  # a horizontally merged cell
    doc.add_paragraph("表格之后。")
    result = _read(doc)
    assert _paragraphs(result) == ["表格之前。", "a | b | c\n合并 | z\n甲 | 乙 | 丙", "表格之后。"]
    assert result.stats["tables"] == 1


def test_vertically_merged_continuation_cells_are_empty() -> None:
    doc = docx.Document()
    table = _table(doc, [["地区", "指标"], ["兰州", "1"], ["", "2"]])
    table.cell(1, 0).merge(table.cell(2, 0))
    stale = table._tbl.tr_lst[2].tc_lst[0].p_lst[0]  # a continuation cell that kept old text
    stale.append(_run_xml("<w:t>旧</w:t>"))
    assert _read(doc).text == "地区 | 指标\n兰州 | 1\n| 2"


def test_nested_table_is_flattened_into_its_cell() -> None:
    doc = docx.Document()
    table = _table(doc, [["外层", "x"]])
    inner = table.cell(0, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "内"
    inner.cell(0, 1).text = "表"
    assert _read(doc).text == "外层 | x内表"


# ---------------------------------------------------------------- lists


def test_list_number_style_and_bullets_get_their_labels() -> None:
    doc = docx.Document()
    for text in ("first item", "second item", "third item"):
        doc.add_paragraph(text, style="List Number")  # numbering from the style
    doc.add_paragraph("a bullet", style="List Bullet")
    doc.add_paragraph("子弹项", style="List Bullet")
    result = _read(doc)
    assert _paragraphs(result) == [
        "1. first item",
        "2. second item",
        "3. third item",
        "• a bullet",
        "• 子弹项",
    ]
    assert result.stats["list_items"] == 5


def test_chinese_counting_list_with_a_restarting_second_level() -> None:
    doc = docx.Document()
    num = _add_list(doc, [("chineseCounting", "%1、"), ("decimal", "（%2）")])
    _numbered(doc, "总体要求", num)
    _numbered(doc, "坚持统筹发展", num, 1)
    _numbered(doc, "坚持安全可控", num, 1)
    _numbered(doc, "主要任务", num)
    _numbered(doc, "健全制度", num, 1)
    assert _paragraphs(_read(doc)) == [
        "一、总体要求",
        "（1）坚持统筹发展",
        "（2）坚持安全可控",
        "二、主要任务",
        "（1）健全制度",
    ]


def test_multilevel_labels_compose_and_ascii_labels_get_a_space() -> None:
    doc = docx.Document()
    num = _add_list(doc, [("decimal", "%1."), ("decimal", "%1.%2"), ("lowerLetter", "(%3)")])
    for text, level in (
        ("范围", 0),
        ("定义", 1),
        ("术语", 1),
        ("缩写", 2),
        ("要求", 0),
        ("细则", 1),
    ):
        _numbered(doc, text, num, level)
    assert _paragraphs(_read(doc)) == [
        "1. 范围",
        "1.1 定义",
        "1.2 术语",
        "(a) 缩写",
        "2. 要求",
        "2.1 细则",
    ]


@pytest.mark.parametrize(
    ("n", "fmt", "label"),
    [
        (3, "decimal", "3"),
        (7, "decimalZero", "07"),
        (1, "chineseCounting", "一"),
        (10, "chineseCounting", "十"),
        (11, "chineseCountingThousand", "十一"),
        (21, "chineseCounting", "二十一"),
        (101, "chineseCountingThousand", "一百零一"),
        (110, "chineseCounting", "一百一十"),
        (1005, "chineseCounting", "一千零五"),
        (3, "chineseLegalSimplified", "叁"),
        (10, "ideographDigital", "一〇"),
        (2, "ideographTraditional", "乙"),
        (3, "decimalEnclosedCircle", "③"),
        (2, "lowerLetter", "b"),
        (28, "upperLetter", "BB"),
        (4, "lowerRoman", "iv"),
        (1994, "upperRoman", "MCMXCIV"),
        (5, "none", ""),
        (5, "someFutureFormat", "5"),
    ],
)
def test_number_formats(n: int, fmt: str, label: str) -> None:
    assert format_number(n, fmt) == label


# ---------------------------------------------------------------- pages


def test_explicit_page_break_starts_page_two() -> None:
    doc = docx.Document()
    doc.add_paragraph("第一页的内容")
    doc.add_page_break()
    doc.add_paragraph("第二页的内容")
    result = _read(doc)
    assert result.pages == 2
    assert page_at(result.page_starts, result.text.index("第一页的内容")) == 1
    assert page_at(result.page_starts, result.text.index("第二页的内容")) == 2


def test_rendered_break_after_explicit_break_counts_once_and_blank_pages_count() -> None:
    doc = docx.Document()
    doc.add_paragraph("一")
    doc.add_page_break()
    p = doc.add_paragraph()
    p._p.append(_run_xml("<w:lastRenderedPageBreak/><w:t>二</w:t>"))  # Word's marker, same spot
    doc.add_page_break()
    doc.add_page_break()  # a blank page
    doc.add_paragraph("四")
    result = _read(doc)
    assert result.pages == 4
    assert [page_at(result.page_starts, result.text.index(t)) for t in "二四"] == [2, 4]


def test_paragraph_broken_across_pages_is_joined_back_with_exact_page_start() -> None:
    doc = docx.Document()
    doc.add_paragraph("前一段。")
    p = doc.add_paragraph("这一段从第一页")
    p._p.append(_run_xml("<w:lastRenderedPageBreak/><w:t>延续到第二页。</w:t>"))
    result = _read(doc)
    assert _paragraphs(result) == ["前一段。", "这一段从第一页延续到第二页。"]
    assert page_at(result.page_starts, result.text.index("这一段")) == 1
    assert page_at(result.page_starts, result.text.index("延续")) == 2


def test_page_break_before_and_a_table_split_between_rows() -> None:
    doc = docx.Document()
    doc.add_paragraph("封面")
    doc.add_paragraph("正文从新页开始").paragraph_format.page_break_before = True
    table = _table(doc, [["r1", "a"], ["r2", "b"]])
    table.cell(1, 0).paragraphs[0]._p.insert(0, _run_xml("<w:lastRenderedPageBreak/>"))
    result = _read(doc)
    assert [
        page_at(result.page_starts, result.text.index(t)) for t in ("封面", "正文", "r1", "r2")
    ] == [1, 2, 2, 3]
    assert _paragraphs(result)[-2:] == ["r1 | a", "r2 | b"]


def test_next_page_section_break_starts_a_page_continuous_does_not() -> None:
    doc = docx.Document()
    doc.add_paragraph("第一节")
    doc.add_section()
    doc.add_paragraph("第二节")
    doc.add_section(WD_SECTION.CONTINUOUS)
    doc.add_paragraph("同一页")
    result = _read(doc)
    assert [
        page_at(result.page_starts, result.text.index(t)) for t in ("第一节", "第二节", "同一页")
    ] == [1, 2, 2]


def _app_xml(pages: int) -> bytes:
    return (
        '<?xml version="1.0"?><Properties xmlns="http://schemas.openxmlformats.org/'
        f'officeDocument/2006/extended-properties"><Pages>{pages}</Pages></Properties>'
    ).encode()


def test_no_page_markers_and_app_xml_counting_more_pages_means_positions_unknown() -> None:
    doc = docx.Document()
    doc.add_paragraph("很长的文档。")
    data = _bytes(doc)
    unknown = read_docx(_rezip(data, {"docProps/app.xml": _app_xml(3)}), NAME)
    assert (unknown.page_starts, unknown.pages, unknown.text) == ((), 3, "很长的文档。")
    assert page_at(unknown.page_starts, 0) is None
    one = read_docx(_rezip(data, {"docProps/app.xml": _app_xml(1)}), NAME)
    assert (one.page_starts, one.pages) == ((0,), 1)
    silent = read_docx(_rezip(data, {"docProps/app.xml": b"<Properties/>"}), NAME)
    assert (silent.page_starts, silent.pages) == ((0,), 1)


# ---------------------------------------------------------------- metadata


def test_core_properties_give_title_author_and_date() -> None:
    doc = docx.Document()
    doc.core_properties.title = "关于做好防汛工作的通知"
    doc.core_properties.author = "张三"
    doc.core_properties.created = dt.datetime(2022, 7, 1, 9, 30)
    doc.add_paragraph("请各单位做好防汛准备。")
    result = _read(doc)
    assert (result.title, result.author, result.date) == (
        "关于做好防汛工作的通知",
        "张三",
        "2022-07-01",
    )


def test_junk_core_title_and_author_fall_back_to_the_heading_and_nothing() -> None:
    doc = docx.Document()
    doc.core_properties.title = "Microsoft Word - 文件1.doc"
    doc.core_properties.author = "Administrator"
    doc.add_paragraph("兰州市人民政府文件")
    doc.add_heading("兰州市人民政府关于印发实施方案的通知", level=1)
    doc.add_paragraph("各县区人民政府：")
    result = _read(doc)
    assert (result.title, result.author) == ("兰州市人民政府关于印发实施方案的通知", None)


def test_without_headings_the_title_is_the_first_short_paragraph_after_header_lines() -> None:
    doc = docx.Document()
    doc.core_properties.title = "文档1"
    doc.add_paragraph("兰州市人民政府文件")
    doc.add_paragraph("兰政发〔2023〕18号")
    doc.add_paragraph("兰州市人民政府关于加快发展的意见")
    doc.add_paragraph("各县区人民政府：" + "具体内容。" * 20)
    assert _read(doc).title == "兰州市人民政府关于加快发展的意见"


def test_date_line_in_the_text_beats_the_file_dates_and_issuer_from_the_red_header() -> None:
    doc = _policy()
    doc.core_properties.created = dt.datetime(2020, 1, 2)
    result = _read(doc)
    assert result.title == "甘肃省人民政府关于加强数据安全管理的决定"
    assert (result.date, result.issuer) == ("2023-05-06", "甘肃省人民政府")


def test_labelled_date_and_issuer_signed_above_the_date_line() -> None:
    doc = docx.Document()
    doc.add_heading("关于开展安全检查的通知", level=1)
    doc.add_paragraph("发布日期：2023-04-10")
    doc.add_paragraph("请认真落实。")
    doc.add_paragraph("甘肃省应急管理厅")
    doc.add_paragraph("2023年4月8日")
    result = _read(doc)
    assert (result.date, result.issuer) == ("2023-04-10", "甘肃省应急管理厅")


def test_issuer_from_the_title_before_guanyu() -> None:
    doc = docx.Document()
    doc.core_properties.title = "国家发展改革委关于推动高质量发展的意见"
    doc.add_paragraph("各省、自治区、直辖市发展改革委：")
    result = _read(doc)
    assert result.issuer == "国家发展改革委"
    assert result.date is None  # python-docx's template stamp is not a date of this document


# ---------------------------------------------------------------- bad input


def _refused(data: bytes, *words: str) -> str:
    with pytest.raises(IngestError) as caught:
        read_docx(data, NAME)
    message = caught.value.message
    assert message.startswith(f"{NAME}: "), message
    for word in words:
        assert word in message, message
    return message


def test_random_bytes_are_not_a_docx() -> None:
    _refused(b"\x00" + random.Random(0).randbytes(2000), "not a Word .docx file", "not a ZIP")
    _refused(b"%PDF-1.7 ...", "not a Word .docx file", "PDF")


def test_zip_without_document_xml() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    _refused(out.getvalue(), "no word/document.xml")
    data = _rezip(_bytes(_policy()), drop=frozenset({"word/document.xml"}))
    _refused(data, "no word/document.xml")


def test_old_binary_doc_and_password_protected_docx() -> None:
    _refused(OLE_MAGIC + bytes(4000), "save it as .docx")
    encrypted = OLE_MAGIC + bytes(600) + "EncryptedPackage".encode("utf-16-le") + bytes(600)
    _refused(encrypted, "is password-protected; remove the password and upload it again")
    data = bytearray(_bytes(_policy()))  # a ZIP whose entries are encrypted: set their flag
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        data[at + 8] |= 0x1  # general purpose flags of the central directory entry
        at = data.find(b"PK\x01\x02", at + 4)
    _refused(bytes(data), "is password-protected")


def test_truncated_and_corrupt_docx() -> None:
    data = _bytes(_policy())
    _refused(data[: len(data) // 2], "damaged or truncated")
    _refused(_rezip(data, {"word/document.xml": b"<w:document><w:body><w:p>"}), "damaged")
    _refused(_rezip(data, drop=frozenset({"[Content_Types].xml"})), "damaged")


def test_document_without_text() -> None:
    _refused(_bytes(docx.Document()), "no text in this document")
    doc = docx.Document()
    doc.add_paragraph("  ")
    doc.add_table(rows=2, cols=2)
    _refused(_bytes(doc), "no text in this document")
