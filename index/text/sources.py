"""Finding input files and reading them as text.

``discover`` expands folders into the ``.txt``, ``.md`` and ``.html`` files and the documents
(``.pdf``, ``.docx``, images: ``index.docs``) they contain (recursively, sorted);
``read_source`` reads one file and gives it
a document id: its file name without extension (NFC-normalised; characters
other than letters, digits, ``_ - .`` become ``_``).  ``record_source`` does
the same for an article given as data (`Record`).

Decoding (`decode`): a UTF-32/UTF-16/UTF-8 byte-order mark decides; else UTF-8
when the bytes are valid UTF-8; else UTF-16 without a mark when NUL bytes sit
mostly at odd (or mostly at even) offsets; else whichever of GB18030, Big5, CP950
and Big5-HKSCS decodes cleanly *and* reads as the most plausible Chinese — the
most characters among the 400 commonest (simplified and traditional), since
Big5 bytes often decode "cleanly" as GB18030 into rare-character mojibake and
the other way round.  Known binary formats (images, PDF, ZIP/Office, archives,
executables, SQLite) and text that is more than 1% control characters are
refused with a per-file error naming what the file looks like; a few stray
control characters are dropped (form feeds become line breaks).  A ``.txt``
file that is really an HTML page (starts with ``<!DOCTYPE html`` or ``<html``)
is read as HTML, so its scripts and styles never reach the index.

Documents are read by ``index.docs.extract`` into text with page boundaries
(``Source.extracted``); their limit is ``MAX_DOCUMENT_BYTES`` (100 MB: scans are large).

Limits: a text file over `MAX_BYTES` (10 MB) is refused before it is read, with a
per-file error.  10 MB of Chinese text (about 3.5 million characters, a dozen
novels) already takes 20-30 minutes to embed on two cores, and cleaning a 10 MB
HTML page about 20 s; no article is that long, so such a file is a mistake or
should be split into articles.

Leaves out: cleaning the text (``index.text.clean``).
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from index.docs.extract import EXTENSIONS as DOCUMENT_EXTENSIONS
from index.docs.extract import MAX_DOCUMENT_BYTES, document_format, extract_document
from index.docs.model import Extracted
from index.docs.ocr import Ocr
from index.errors import IngestError, InvalidInput

FORMATS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".html": "html"}
FORMATS[".htm"] = "html"
READABLE = frozenset(FORMATS) | frozenset(DOCUMENT_EXTENSIONS)
MAX_BYTES = 10_000_000
_DOC_ID = re.compile(r"^[\w\-.]{1,128}$")  # ids made from file names
_RECORD_ID = re.compile(r"^[^\s/\\?#%]{1,200}$")  # ids given as data: anything URL-path-safe
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SNIFF = 8192  # bytes looked at for NULs and markup
# The 400 commonest characters of jieba's dictionary counts, then their traditional forms.
_COMMON = frozenset(
    "一是人了不在有大中国和为这上他个地年来我会以到时要出的生学说道民家子也成行下们于后就发自之对得主长"
    "可过天作分方用多你着部能市等业全里工公经本都而高政法面门动日进区事代那去心小同北定开产前其军还然起"
    "种所如现理机体表力好外与文当两实重新三么只山水关明从化平建又制南内西没此将员名手最东头者月间无安看"
    "见各城十相但已些正口通想度加第她合院物性战由位常点海意场武使次二向治因立数样身情入原问把路被并利石"
    "老教万知级量任江及应省资委务元美特期世湖回系比气汉总展电科金先声提品设或义王社很统处四首共马形己儿"
    "司太目基领队直计别女权话少流命至报米给打变果书清活几州华解议更称程今决张导术府才保交放管结师便走达"
    "族反再题色五京河接条规式县白它改风光运信受什组听布百济党指论强做取技黄神选记斯真却职号界件花类何眼"
    "兵传带空干农边据集联古广完质阳难增历史专官每住商即步认车台林必死游举线言皇土团收考求德叫近备研争非"
    "具李众连调感转笑"
    "國爲這個來會時學說們於後發對長過業裏經門動進區開產軍還種現機體與當兩實麼關從內沒將員東頭間無見戰點"
    "場數樣問並萬級應資務氣漢總電聲設義統處馬兒領隊計別權話報給變書幾華議稱決張導術結師達題條規縣風運組"
    "聽濟黨論強黃選記卻職號類傳帶幹農邊據聯廣質陽難歷專認車臺遊舉線團備爭衆連調轉"
)
_LEGACY = ("gb18030", "big5", "cp950", "big5hkscs")  # on a tie, the earlier one wins
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),  # before UTF-16 LE: it starts the same
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_MAGIC = (  # (leading bytes, what the file is, what to do about it)
    (b"\x89PNG\r\n\x1a\n", "a PNG image", ""),
    (b"\xff\xd8\xff", "a JPEG image", ""),
    (b"GIF87a", "a GIF image", ""),
    (b"GIF89a", "a GIF image", ""),
    (b"%PDF-", "a PDF document", "give it a .pdf name to read it as a PDF"),
    (b"PK\x03\x04", "a ZIP archive or an Office/EPUB document", "a Word file needs a .docx name"),
    (b"PK\x05\x06", "an empty ZIP archive", ""),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document", "save it as text"),
    (b"{\\rtf", "an RTF document", "save it as text or HTML"),
    (b"\x1f\x8b", "a gzip archive", "unpack it first"),
    (b"BZh91AY&SY", "a bzip2 archive", "unpack it first"),
    (b"\xfd7zXZ\x00", "an xz archive", "unpack it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "unpack it first"),
    (b"Rar!\x1a\x07", "a RAR archive", "unpack it first"),
    (b"SQLite format 3\x00", "an SQLite database", ""),
    (b"\x7fELF", "an executable program", ""),
    (b"MZ\x90\x00", "a Windows executable", ""),
    (b"\x00asm", "a WebAssembly module", ""),
)
# C0 controls but tab, line feed and carriage return; DEL; C1 controls (mis-decoded cp1252).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_CONTROL = re.compile(r"[\x0b\x0c\x1c-\x1e\x85]")  # vertical tab, form feed, separators
_HTML_START = re.compile(
    r"\s*(?:<!--.*?-->\s*|<\?xml[^>]*>\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S
)


@dataclass(frozen=True)
class Source:
    path: Path
    doc_id: str
    fmt: str
    text: str
    content_hash: str
    title: str | None = None
    extracted: Extracted | None = None  # a PDF, Word or image file: its text, pages, metadata


@dataclass(frozen=True)
class Record:
    """An article given as data rather than a file (evaluation corpora, importers)."""

    doc_id: str
    title: str
    text: str


def record_source(record: Record) -> Source:
    if not _RECORD_ID.match(record.doc_id):
        raise IngestError(
            f"invalid document id {record.doc_id!r}: 1-200 characters, no spaces or / \\ ? # %"
        )
    if not record.text.strip():
        raise IngestError(f"{record.doc_id}: empty text")
    # The title leads the text, as in a scraped page, so cleaning sees what it expects.
    text = f"{record.title}\n\n{record.text}" if record.title else record.text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Source(Path(f"{record.doc_id}.txt"), record.doc_id, "txt", text, digest, record.title)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Input files named by ``paths``: files as given, folders searched recursively."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.suffix.lower() in READABLE and p.is_file())
            )
        elif path.exists():
            found.append(path)
        else:
            raise InvalidInput(f"{display(path)}: no such file or folder")
    return found


def display(path: Path | str) -> str:
    """``path`` as printable text: bytes that are not UTF-8 (allowed in POSIX names) as U+FFFD."""
    try:
        raw = str(path).encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that came from no file system
        raw = str(path).encode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def doc_id_for(path: Path) -> str:
    doc_id = unicodedata.normalize("NFC", display(path.stem)).strip()
    if not _DOC_ID.match(doc_id) or doc_id.startswith("."):
        doc_id = re.sub(r"[^\w\-.]+", "_", doc_id)[:128].strip("_.") or "document"
    return doc_id


def read_source(
    path: Path, ocr: Ocr | None = None, known: Callable[[str], str | None] | None = None
) -> Source:
    """One file as a `Source`; ``ocr`` reads scanned pages (one engine per ingest, made on
    demand when not given).  A document whose content hash is what ``known`` gives for its id
    is not extracted again (its `Source` has no text): an unchanged scan is not OCR'd twice."""
    name = display(path)
    suffix = path.suffix.lower()
    document = suffix in DOCUMENT_EXTENSIONS
    fmt = FORMATS.get(suffix)
    if fmt is None and not document:
        raise IngestError(
            f"{name}: unsupported file type {path.suffix!r} (use .txt, .md, .html, .pdf, .docx "
            "or an image: .png, .jpg, .tif)"
        )
    data = _read_bytes(path, name, MAX_DOCUMENT_BYTES if document else MAX_BYTES)
    digest = hashlib.sha256(data).hexdigest()
    if document:
        kind = document_format(data, suffix)
        if known is not None and known(doc_id_for(path)) == digest:
            return Source(path, doc_id_for(path), kind, "", digest)
        extracted = extract_document(data, name, kind, ocr or Ocr())
        return Source(path, doc_id_for(path), kind, extracted.text, digest, None, extracted)
    text = decode(data, path)
    if not text.strip():
        raise IngestError(f"{name}: file is empty (no text after decoding)")
    if fmt == "txt" and _HTML_START.match(text[:_SNIFF]):
        fmt = "html"  # a saved web page with a .txt name: read its markup as markup
    return Source(path, doc_id_for(path), fmt or "txt", text, digest)


def _read_bytes(path: Path, name: str, limit: int) -> bytes:
    if not path.is_file():
        raise IngestError(f"{name}: not a regular file")
    size = path.stat().st_size
    if size > limit:
        raise IngestError(_too_big(name, size, limit))
    with path.open("rb") as fh:
        data = fh.read(limit + 1)  # the file may have grown since stat()
    if len(data) > limit:
        raise IngestError(_too_big(name, len(data), limit))
    if not data.strip():
        raise IngestError(f"{name}: file is empty")
    return data


def _too_big(name: str, size: int, limit: int) -> str:
    return (
        f"{name}: file is {size / 1e6:.1f} MB ({size:,} bytes), over the "
        f"{limit / 1e6:g} MB limit for one article; split it into smaller files"
    )


def decode(data: bytes, path: Path | str) -> str:
    """The text of a file's bytes (see the module docstring); IngestError if it is not text."""
    name = display(path)
    kind = _binary_kind(data)
    if kind:
        what, hint = kind
        advice = f"; {hint}" if hint else ""
        raise IngestError(f"{name}: this is {what}, not a text article{advice}")
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise IngestError(
                    f"{name}: starts with a {label} byte-order mark but is not valid {label} "
                    f"(bad bytes at offset {exc.start + len(bom)})"
                ) from None
            return _checked(text, name)
    if b"\x00" in data[:_SNIFF]:
        utf16 = _utf16_without_bom(data)
        if utf16 is None:
            raise IngestError(f"{name}: looks like a binary file, not text (it contains NUL bytes)")
        return _checked(utf16, name)
    try:
        return _checked(data.decode("utf-8"), name)
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    candidates = []
    for encoding in _LEGACY:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        candidates.append((_plausibility(text), text))
    if not candidates:
        raise IngestError(
            f"{name}: not valid UTF-8 (undecodable byte at offset {utf8_error}), UTF-16, "
            "GB18030 or Big5 text; save it as UTF-8"
        )
    return _checked(max(candidates, key=lambda c: c[0])[1], name)


def _binary_kind(data: bytes) -> tuple[str, str] | None:
    for magic, what, hint in _MAGIC:
        if data.startswith(magic):
            return what, hint
    if data[:4] == b"RIFF" and data[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return "a WebP image or RIFF media file", ""
    if data[4:8] == b"ftyp":
        return "an MP4/MOV video or HEIC image", ""
    return None


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a byte-order mark: NULs mostly at odd offsets (LE) or even (BE).

    ASCII (line breaks at least) puts a NUL in every other byte; Chinese puts one
    only in the rare characters U+xx00, on the other side.
    """
    if len(data) % 2:
        return None
    sample = data[: _SNIFF * 2]
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    if odd > 4 * even:
        codec = "utf-16-le"
    elif even > 4 * odd:
        codec = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return text if _plausible_text(text) else None


def _plausible_text(text: str) -> bool:
    """Mostly letters, digits, punctuation and spaces (not decoded noise)."""
    if not text:
        return False
    odd = sum(
        1
        for ch in text[:_SNIFF]
        if unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs") and ch not in "\t\n\r"
    )
    return odd <= len(text[:_SNIFF]) // 100


def _plausibility(text: str) -> tuple[int, int]:
    """How much ``text`` reads like Chinese: common characters, then CJK characters."""
    common = sum(1 for ch in text if ch in _COMMON)
    private = sum(1 for ch in text if "\ue000" <= ch <= "\uf8ff")  # GB18030's unmapped codes
    return common - 10 * private, len(_CJK.findall(text))


def _checked(text: str, name: str) -> str:
    """``text`` without a leading BOM and stray controls; IngestError when it is mostly binary."""
    text = text.removeprefix("\ufeff")
    text = _LINE_CONTROL.sub("\n", text)
    controls = len(_CONTROL.findall(text))
    if controls > max(8, len(text) // 100):
        raise IngestError(
            f"{name}: looks like a binary file, not text ({controls} control characters)"
        )
    return _CONTROL.sub("", text) if controls else text
