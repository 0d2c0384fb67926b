"""Tests for the cleaning stage (index.text.clean and its helpers) on the sample corpus."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from index.text.clean import CleanedDocument, classify_line, clean_document, to_dict
from index.text.pinyin import (
    PINYIN_RE,
    join_broken_paragraphs,
    load_tables,
    normalise_quotes,
    remove_mojibake,
    remove_pinyin,
)

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
SAMPLES = {path.name[:3]: path for path in sorted(SAMPLE_DIR.glob("*.txt"))}
TONED_PINYIN = re.compile(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü ]+[)）]")


@pytest.fixture(scope="module")
def docs() -> dict[str, CleanedDocument]:
    return {
        key: clean_document(path.read_text(encoding="utf-8"), source_name=path.name)
        for key, path in SAMPLES.items()
    }


def paragraphs(doc: CleanedDocument) -> list[str]:
    return doc.text.split("\n\n")


# ---------------------------------------------------------------- sample articles


def test_000_metadata_and_body(docs: dict[str, CleanedDocument]) -> None:
    doc = docs["000"]
    assert doc.title == "【地评线】密织城市基层党建组织网络"
    assert (doc.date, doc.outlet, doc.origin, doc.author) == (
        "2019-05-14",
        "信息快讯网",
        "西安网",
        None,
    )
    assert "基础不牢地动山摇。" in doc.text
    assert "如何更好回应群众诉求?如何更好适应社会发展?" in doc.text
    # The trailing "(文章原载于西安网)" note becomes `origin` and leaves the text.
    assert doc.text.endswith("为建设和谐宜居现代化城市提供坚强的组织保障。")
    for gone in ("美国既不愿减少碳排放", "金钥匙", "C919", "dbsqp.com", "©", "信息快讯网", "原载"):
        assert gone not in doc.text
    assert not doc.text.startswith("【地评线】")
    assert doc.removed["headline_list_lines"] == 24


def test_001_metadata_pinyin_and_mojibake(docs: dict[str, CleanedDocument]) -> None:
    doc = docs["001"]
    assert doc.title == "著力提升基層黨組織組織力"
    assert (doc.date, doc.outlet, doc.origin, doc.author) == (
        "2021-11",
        "共產黨員網",
        "《黨建研究》2021年第11期",
        "遲行剛",
    )
    assert "基層黨組織是黨的組織體系中的“神經末梢”" in doc.text
    assert not TONED_PINYIN.search(doc.text)
    assert doc.removed["pinyin"] > 300
    assert doc.removed["mojibake"] == 5
    assert "?" not in doc.text and "?;" not in doc.text and "\ufffd" not in doc.text
    for garbage in ("鶎", "狱h", "砼", "膱", "zhèn"):
        assert garbage not in doc.text
    # A sentence boundary swallowed by a run is put back; mid-word runs just vanish.
    assert "全面過硬。組織是黨執政的根基" in doc.text
    assert "橋梁與紐帶。群眾的切身利益" in doc.text
    assert "“形”“神”兼強戰斗堡壘。" in doc.text
    assert "形成CBD白領驛站等特色陣地。" in doc.text
    for gone in ("手機版", "歡迎使用手機瀏覽", "1 1 1", "打印", "微信掃一掃", "收聽本文", "來源"):
        assert gone not in doc.text
    assert "无棣县" not in doc.text and "|" not in doc.text
    assert doc.removed["link_list_lines"] == 1
    assert doc.text.startswith("習近平總書記多次強調")
    assert doc.text.endswith("營造風清氣正的政治生態。")
    assert "\n\n一、提升基層黨組織組織力的必要性與緊迫性\n\n" in doc.text
    assert not any(p.startswith((" ", "\u3000")) for p in paragraphs(doc))


def test_002_ads_and_broken_paragraphs(docs: dict[str, CleanedDocument]) -> None:
    doc = docs["002"]
    assert doc.title == "总书记为何如此关心党建引领基层治理"
    assert (doc.date, doc.outlet, doc.origin, doc.author) == (None, None, "人民网", None)
    for gone in ("房源", "户型", "☎", "总价", "www.onfun.net", "汪团长", "房产在线", "■据"):
        assert gone not in doc.text
    assert "深入学习贯彻习近平新时代中国特色社会主义思想" not in doc.text
    assert doc.text.endswith("“幸福之花”必将开遍神州大地。")
    assert "这究竟有何深意?" in doc.text
    # Headings stay separate paragraphs ...
    for heading in ("把抓好党建作为最大的政绩", "树立大抓基层的鲜明导向", "共产党就是给人民办事的"):
        assert heading in paragraphs(doc)
    assert "“把抓好党建作为最大的政绩”。" in paragraphs(doc)
    # ... while paragraphs broken mid-sentence are joined.
    assert "各级党组织切实发挥总揽全局" in doc.text
    assert "要把基层党组织建设成为坚强战斗堡垒" in doc.text
    assert "习近平总书记来到福建福州军门社区" in doc.text
    assert "就作出重要要求——\n\n“把抓好党建" in doc.text
    assert doc.removed["ad_lines"] > 100


def test_003_upload_page_furniture(docs: dict[str, CleanedDocument]) -> None:
    doc = docs["003"]
    assert doc.title == "在全市城市基层党建工作推进会议上的讲话"
    assert (doc.date, doc.outlet, doc.origin, doc.author) == (
        "2022-08-04",
        "装配图网",
        None,
        None,
    )
    assert doc.text.startswith("同志们:今天召开全市城市基层党建工作这个会议")
    assert doc.text.endswith("共同发力。")
    assert "在全市城市基层党建工作推进会议上的讲话" not in doc.text
    for gone in (
        "上传人", "文档编号", "举报", "_第1页", "共2页", "资源描述", "展开阅读全文", "相关资源",
        "精品文档", "相关搜索", "最新文档", "当前位置", "copyright", "ICP", "公网安备", "C2C",
    ):  # fmt: skip
        assert gone not in doc.text
    assert "其他县(市区)提交了书面材料" in doc.text
    assert doc.removed["title_lines"] == 3  # title line + two copies glued to the body


def test_004_editorial_credits_and_quotes(docs: dict[str, CleanedDocument]) -> None:
    doc = docs["004"]
    assert doc.title == "推进基层党组织全面进步全面过硬——论贯彻落实市委十四届八次全会精神"
    assert (doc.date, doc.outlet, doc.origin, doc.author) == (
        "2024-01-08",
        "热点新闻网",
        None,
        "本报评论员",
    )
    assert "抓实抓好“细胞工程”“头雁工程”“先锋工程”“强基工程”" in doc.text
    assert "“欲筑室者,先治其基。”我们党的根基在人民" in doc.text
    assert "市委“1139”工作部署" in doc.text and '"' not in doc.text
    for gone in (
        "首页", "点击", "爆料小姐姐", "本报评论员", "一审", "二审", "三审", "分享到",
        "相关阅读", "评论", "Copyright", "免责声明", "热点新闻网",
    ):  # fmt: skip
        assert gone not in doc.text
    assert doc.title not in doc.text
    assert doc.text.startswith("刚刚召开的中国共产党兰州市第十四届委员会")
    assert doc.text.endswith("进而推动兰州实现高质量发展。")
    assert len(paragraphs(doc)) == 6


def test_removed_counts_are_consistent(docs: dict[str, CleanedDocument]) -> None:
    for doc in docs.values():
        parts = ("furniture_lines", "link_list_lines", "ad_lines", "headline_list_lines")
        total = sum(doc.removed[k] for k in parts) + doc.removed["outside_body_lines"]
        assert doc.removed["boilerplate_lines"] == total
        assert {"pinyin", "mojibake", "boilerplate_lines"} <= doc.removed.keys()
    assert docs["002"].removed["boilerplate_lines"] > docs["001"].removed["boilerplate_lines"]


def test_no_blank_or_whitespace_paragraphs(docs: dict[str, CleanedDocument]) -> None:
    for doc in docs.values():
        assert all(p and p == p.strip() for p in paragraphs(doc))
        assert "\n\n\n" not in doc.text


# ---------------------------------------------------------------- pinyin and mojibake


def test_pinyin_removed_but_real_parentheses_survive() -> None:
    text = (
        "中共中央印發了《意見》(以下简称《意见》),其他县(市区)提交了材料。"
        "中層(共6层),汪團長(微信同号)。形成CBD(CBD)白領驛站。(文章原载于西安网)"
        "手機(jī)版,網(wǎng)站,來(lái)源,綠(lǜ)色,女(nǚ),重(chóng) 新(xīn)。"
        "a(jī) 保持原样,名(de)无声调也保持。中國(zhōngguó),奶油(crème)。"
    )
    cleaned, count = remove_pinyin(text)
    assert count == 8
    assert not PINYIN_RE.search(cleaned.replace("(de)", ""))
    for kept in ("(以下简称《意见》)", "(市区)", "(共6层)", "(微信同号)", "(CBD)",
                 "(文章原载于西安网)", "a(jī)", "名(de)", "奶油(crème)"):  # fmt: skip
        assert kept in cleaned
    assert "手機版,網站,來源,綠色,女,重 新。" in cleaned and "中國," in cleaned


def test_mojibake_runs_removed_and_question_marks_kept() -> None:
    for legit in (
        "如何更好回应群众诉求?如何更好适应社会发展?",
        "这究竟有何深意?",
        "大飞机人如何拿下最难的全尺寸静力试验?东航多部门和C919项目",
        "为什么?(笑)",
        "真的?饕餮盛宴",
        "What?yes",
    ):
        assert remove_mojibake(legit) == (legit, 0)
    assert remove_mojibake("全面過硬?;鶎狱h組織是黨") == ("全面過硬。組織是黨", 1)
    assert remove_mojibake("等突出問題,確?;鶎狱h組織作用") == ("等突出問題,確組織作用", 1)
    assert remove_mojibake("“神”兼?zhèn)涞膱?jiān)強戰斗堡壘") == ("“神”兼強戰斗堡壘", 1)
    assert remove_mojibake("坏\ufffd\ufffd字") == ("坏字", 1)


def test_spaced_quotes_normalised() -> None:
    line = '抓实抓好 " 细胞工程 "" 头雁工程 ",努力 " 欲筑室者。" 我们 市委 "1139" 部署'
    assert (
        normalise_quotes(line) == "抓实抓好“细胞工程”“头雁工程”,努力“欲筑室者。”我们 市委“1139”部署"
    )
    assert normalise_quotes('odd " quote 引号') == 'odd " quote 引号'
    assert normalise_quotes('English "quoted" text') == 'English "quoted" text'


def test_join_broken_paragraphs() -> None:
    parts = [
        "把抓好党建作为最大的政绩",
        "基层工作,千头万绪,要想抓实抓好、抓出成效。",
        "为解决好群众急难愁盼问题,为把家园建设得更加美好,各级党组织",
        "切实发挥作用。",
        "2014年11月,习近平总书记来到",
        "福建福州军门社区。",
        "党的政策再好,也靠大家去落实。要把基",
        "层党组织建设成为坚强战斗堡垒。",
        "一、提升基层党组织组织力的必要性与紧迫性",
        "基层党组织是党的组织体系中的“神经末梢”。",
        "作出重要要求——",
        "“把抓好党建作为最大的政绩”。",
        "推进全市基层党组织全面进步全面过硬的几点思考",
        "全市上下要深入贯彻。",
    ]
    assert join_broken_paragraphs(parts) == [
        "把抓好党建作为最大的政绩",
        "基层工作,千头万绪,要想抓实抓好、抓出成效。",
        "为解决好群众急难愁盼问题,为把家园建设得更加美好,各级党组织切实发挥作用。",
        "2014年11月,习近平总书记来到福建福州军门社区。",
        "党的政策再好,也靠大家去落实。要把基层党组织建设成为坚强战斗堡垒。",
        "一、提升基层党组织组织力的必要性与紧迫性",
        "基层党组织是党的组织体系中的“神经末梢”。",
        "作出重要要求——",
        "“把抓好党建作为最大的政绩”。",
        "推进全市基层党组织全面进步全面过硬的几点思考",
        "全市上下要深入贯彻。",
    ]


# ---------------------------------------------------------------- generic boilerplate rules


@pytest.mark.parametrize(
    "line",
    [
        "責任編輯:張三",
        "责任编辑:张三",
        "上一篇:关于加强党建的通知",
        "下一篇",
        "返回頂部",
        "版權所有 © 2024 某某網",
        "Copyright © 2018-2020 热点新闻网版权所有",
        "京ICP备12345678号",
        "滬公網安備 31010602000012號",
        "分享到:",
        "相關閱讀",
        "掃一掃 分享到朋友圈",
        "打印本頁 關閉窗口",
        "点击:37",
        "首页 > 社会 > 正文",
        "當前位置:首頁 > 新聞",
        "免責聲明:本文僅代表作者個人觀點。",
        "本網站之文字、圖片,非經授權,不得轉載、公開播送或公開傳輸及利用。",
        "二审丨值班主任 刘宇玮",
        "(完)",
        "1 1 1",
        "www.example.com",
    ],
)
def test_furniture_lines_recognised(line: str) -> None:
    assert classify_line(line) in {"furniture", "junk"}


@pytest.mark.parametrize(
    "line",
    [
        "网友评论认为,这项政策切实回应了群众关切,相关部门应当继续打印并分发宣传材料。",
        "把抓好党建作为最大的政绩",
        "返回家乡创业的青年越来越多",
        "3D打印产业迎来新机遇",
        "扫码支付成为新常态",
        "实名举报渠道更加畅通",
        "一、提升基层党组织组织力的必要性与紧迫性",
    ],
)
def test_body_lines_not_mistaken_for_furniture(line: str) -> None:
    assert classify_line(line) in {"prose", "sentence", "short"}


def test_structural_rules_on_synthetic_page() -> None:
    body = "这是正文的第一段,介绍了城市基层党建工作的总体情况和主要做法,内容相当充实,值得一读。"
    raw = "\n".join(
        [
            "示例标题:城市基层党建的新探索",
            "2023年3月5日 来源:新华网 作者:王小明",
            body,
            "二、主要做法",
            body.replace("第一段", "第二段"),
            "北京| 上海| 广州| 深圳| 杭州| 成都",
            body.replace("第一段", "第三段"),
            *[f"无关的新闻标题第{i}条" for i in range(6)],
            "版权所有 示例网",
        ]
    )
    doc = clean_document(raw, source_name="example.txt")
    assert doc.title == "示例标题:城市基层党建的新探索"
    assert (doc.date, doc.origin, doc.author) == ("2023-03-05", "新华网", "王小明")
    assert paragraphs(doc) == [
        body,
        "二、主要做法",
        body.replace("第一段", "第二段"),
        body.replace("第一段", "第三段"),
    ]
    assert doc.removed["link_list_lines"] == 1
    assert doc.removed["headline_list_lines"] == 6


LONG = (
    "各地区各部门认真贯彻落实党中央决策部署，扎实推进基层治理体系和治理能力现代化，取得了明显成效。"
)
OTHER_LAYOUTS = {
    "新华网 > 时政 > 正文\n习近平主持召开会议\n2024-03-05 10:20:31 来源：新华网\n字号：大 中 小\n"
    f"【纠错】\n{LONG}\n{LONG}\n【纠错】 责任编辑： 王某\n相关新闻\n"
    + "".join(f"· 新闻标题第{i}条\n" for i in range(5)): (
        "习近平主持召开会议", "2024-03-05", "新华网", "新华网", None,
    ),
    f"人民网>>观点\n以党建引领基层治理?\n作者：张三 李四\n2023年11月02日08:17 | 来源：人民网\n"
    f"小字号\n{LONG}\n（一）坚持党的领导\n{LONG}\n（责编：赵五、钱六）\n"
    "分享让更多人看到\n推荐阅读": (
        "以党建引领基层治理?", "2023-11-02", "人民网", "人民网", "张三 李四",
    ),
    f"首頁 > 新聞\n臺灣社區營造\n2022年5月3日\n{LONG}\n（編輯：林小明）\n延伸閱讀\n"
    "上一篇：某某新聞\n本網站之文字、圖片，非經授權，不得轉載。\n版權所有 © 中央通訊社": (
        "臺灣社區營造", "2022-05-03", "中央通訊社", None, None,
    ),
}  # fmt: skip


@pytest.mark.parametrize("raw", OTHER_LAYOUTS)
def test_other_site_layouts(raw: str) -> None:
    doc = clean_document(raw)
    assert (doc.title, doc.date, doc.outlet, doc.origin, doc.author) == OTHER_LAYOUTS[raw]
    assert LONG in doc.text
    assert set(paragraphs(doc)) <= {LONG, "（一）坚持党的领导"}


def test_short_sentence_article() -> None:
    raw = "短文标题\n2023-03-05\n第一句话写在这里。\n第二句话也很短。\n责任编辑:张三"
    doc = clean_document(raw)
    assert (doc.title, doc.date) == ("短文标题", "2023-03-05")
    assert doc.text == "第一句话写在这里。\n\n第二句话也很短。"


def test_ad_block_cuts_rest_of_page() -> None:
    body = "社区党组织把服务群众作为出发点和落脚点,持续推进基层治理创新,群众满意度不断提高。"
    raw = "\n".join(
        [
            "标题在这里啊",
            body,
            body,
            "欢迎关注我们的活动",
            "精选房源",
            "户型: 3室2厅1卫 建筑面积: 110m²",
            "总价: 95万元",
            "☎ 13026141964",
            body,
        ]
    )
    doc = clean_document(raw)
    assert paragraphs(doc) == [body, body]
    assert doc.removed["ad_lines"] == 6


# ---------------------------------------------------------------- formats and API


HTML_PAGE = """<!doctype html>
<html><head>
<title>城市基层党建新观察_示例新闻网</title>
<meta property="og:title" content="城市基层党建新观察">
<meta property="og:site_name" content="示例新闻网">
<meta property="article:published_time" content="2024-01-08T09:16:58+08:00">
<meta name="author" content="李四">
<style>.x { color: red }</style>
<script>alert(1)</script>
</head><body>
<header><a href="/">首页</a> <a href="/news">新闻</a></header>
<nav><ul><li><a href="/a">导航一</a></li><li><a href="/b">导航二</a></li></ul></nav>
<div class="breadcrumb">首页 &gt; 社会 &gt; 正文</div>
<article>
  <h1>城市基层党建新观察</h1>
  <p>城市基层党建是一项系统工程,
     需要街道社区、驻区单位和社会组织共同发力,形成合力。</p>
  <p>各地在实践中<b>不断探索</b>,积累了许多可复制、可推广的经验做法。<br>这些经验值得总结。</p>
  <div class="share-box">分享到: 微信 微博</div>
</article>
<div id="related-news"><ul><li>相关新闻一</li><li>相关新闻二</li></ul></div>
<div class="ad-banner">买房就上示例房产网 ☎ 13026141964</div>
<div id="comments">文章评论 0</div>
<aside>热门排行</aside>
<footer>Copyright © 2024 示例新闻网 版权所有</footer>
<noscript>请启用脚本</noscript>
</body></html>"""


def test_html_input() -> None:
    doc = clean_document(HTML_PAGE, fmt="html")
    assert doc.title == "城市基层党建新观察"
    assert (doc.date, doc.outlet, doc.author) == ("2024-01-08", "示例新闻网", "李四")
    assert paragraphs(doc) == [
        "城市基层党建是一项系统工程,需要街道社区、驻区单位和社会组织共同发力,形成合力。",
        "各地在实践中不断探索,积累了许多可复制、可推广的经验做法。",
        "这些经验值得总结。",
    ]
    for gone in ("alert", "color", "导航", "首页", "分享", "相关新闻", "买房", "评论",
                 "热门排行", "Copyright", "请启用脚本"):  # fmt: skip
        assert gone not in doc.text


def test_markdown_input() -> None:
    md = (
        "---\ntitle: 基层治理的新路径\ndate: 2023-06-01\n---\n"
        "# 基层治理的新路径\n\n"
        "社区是城市治理的**基本单元**,也是党联系群众的[最后一公里](https://example.com),\n"
        "必须把党建引领贯穿始终。\n\n"
        "![图片](a.png)\n\n"
        "- 分享到:\n"
    )
    doc = clean_document(md, fmt="md")
    assert (doc.title, doc.date) == ("基层治理的新路径", "2023-06-01")
    assert doc.text == (
        "社区是城市治理的基本单元,也是党联系群众的最后一公里,必须把党建引领贯穿始终。"
    )


def test_api_edges() -> None:
    with pytest.raises(ValueError):
        clean_document("x", fmt="pdf")
    empty = clean_document("")
    assert (empty.title, empty.text, empty.date) == ("", "", None)
    doc = clean_document("只有一行没有标点的文字")
    assert doc.text == "只有一行没有标点的文字" or doc.title == "只有一行没有标点的文字"


def test_to_dict_is_json_ready(docs: dict[str, CleanedDocument]) -> None:
    data = to_dict(docs["001"])
    assert set(data) == {"title", "date", "outlet", "origin", "author", "text", "removed"}
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


def test_fast_after_tables_load() -> None:
    load_tables()
    for path in SAMPLES.values():
        raw = path.read_text(encoding="utf-8")
        clean_document(raw)  # warm the per-character caches
        best = min(_timed(raw) for _ in range(3))
        assert best < 0.05, f"{path.name} took {best * 1000:.1f} ms"


def _timed(raw: str) -> float:
    start = time.perf_counter()
    clean_document(raw)
    return time.perf_counter() - start


def test_footer_glued_to_prose_is_cut_and_snippets_are_kept():
    body = "1960年，智利发生了有史以来最大的9.5级地震，造成了严重的人员伤亡和财产损失。"
    doc = clean_document(f"{body} © 2023 bbc.")
    assert doc.text == body
    snippet = "澳大利亚大选变天，现任总理莫里森连任失败，阿尔巴尼斯带领工党获胜，将出任新一任总理。"
    assert clean_document(snippet).text == snippet
    assert clean_document("Copyright © 1996-2022 SINA Corporation All Rights Reserved").text == ""
