"""OCR of scanned pages and images, offline: RapidOCR's PP-OCR models from inside its wheel.

`Ocr` loads the engine on first use (never at import) and reads one image into positioned
`Line`s (pixel coordinates) with the recogniser's confidence.  The detection, direction and
recognition models (PP-OCRv6 det/rec, the v2 direction classifier; Chinese and English) are the
ONNX files in ``rapidocr/models``; `Ocr` checks they are there and refuses to start otherwise,
so nothing is ever downloaded.  `read_image_file` reads a ``.png``/``.jpg``/``.tif``... file
(every frame of a multi-page TIFF) into an `Extracted` document, one page per frame.

A page scanned upside down is recognised (its lines are ragged on the left, and read without the
direction classifier they score far lower than with it) and read again turned over, so its lines
come in reading order.

A page is *unreadable* when OCR finds no text, or text whose mean confidence is below
`MIN_CONFIDENCE`; such pages are reported in ``Extracted.warnings``.

Leaves out: deciding which PDF pages need OCR (``index.docs.pdf``) and layout
(``index.docs.layout``).
"""

from __future__ import annotations

import io
import logging
import os
import statistics
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from index.docs import layout
from index.docs.model import Extracted, Line, Page
from index.errors import IngestError

MIN_CONFIDENCE = 0.6
UPSIDE_DOWN_RATIO = 0.8  # lines read unturned score under this share of turned ones: turned
MAX_PIXELS = 60_000_000  # a 600 dpi A3 scan is ~70 MP: refuse decompression bombs beyond
MAX_FRAMES = 100
MODELS = (
    "PP-OCRv6_det_small.onnx",
    "PP-OCRv6_rec_small.onnx",
    "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
)


@dataclass(frozen=True)
class OcrPage:
    lines: list[Line]
    confidence: float  # mean over the lines; 0 when none were found

    @property
    def readable(self) -> bool:
        return bool(self.lines) and self.confidence >= MIN_CONFIDENCE


class Ocr:
    """The OCR engine, loaded once on first use and shared by threads (calls are serialised)."""

    def __init__(self, threads: int = 0) -> None:
        self.threads = threads or os.cpu_count() or 1
        self._engine: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        models = resources.files("rapidocr") / "models"
        missing = [m for m in MODELS if not (models / m).is_file()]
        if missing:
            raise IngestError(
                f"OCR is unavailable: the rapidocr package lacks {', '.join(missing)}; "
                "reinstall it (`make install`)"
            )
        from rapidocr import RapidOCR  # heavy (opencv): loaded only when a scan arrives

        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        return RapidOCR(
            params={
                "Global.log_level": "error",
                "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )

    def read(self, image: Image.Image) -> OcrPage:
        """The page's lines; a page scanned upside down is turned and read again."""
        page = self._run(image)
        if _ragged_left(page.lines):  # left-aligned text turned over is ragged on the left
            plain = self._run(image, turn_lines=False)
            if plain.confidence < UPSIDE_DOWN_RATIO * page.confidence:  # its lines were upside down
                page = self._run(image.rotate(180, expand=True))
        return page

    def _run(self, image: Image.Image, *, turn_lines: bool = True) -> OcrPage:
        with self._lock:
            if self._engine is None:
                self._engine = self._load()
            result = self._engine(np.asarray(image.convert("RGB")), use_cls=turn_lines)
        if result.boxes is None or not result.txts:
            return OcrPage([], 0.0)
        lines = [
            Line(text, float(box[:, 0].min()), float(box[:, 0].max()), *_vertical(box))
            for box, text in zip(result.boxes, result.txts, strict=True)
            if text.strip()
        ]
        scores = [float(s) for s in result.scores]
        return OcrPage(lines, sum(scores) / len(scores) if scores else 0.0)


def _ragged_left(lines: list[Line]) -> bool:
    """The short lines (a paragraph's last) end at the right edge instead of starting at the
    left one: left-aligned text turned over."""
    if len(lines) < 4:
        return False
    height = statistics.median(ln.height for ln in lines)
    left, right = min(ln.x0 for ln in lines), max(ln.x1 for ln in lines)
    short = [ln for ln in lines if ln.x1 - ln.x0 < 0.8 * (right - left)]
    at_left = sum(1 for ln in short if ln.x0 - left < height)
    at_right = sum(1 for ln in short if right - ln.x1 < height)
    return at_right > at_left


def _vertical(box: np.ndarray) -> tuple[float, float]:
    return float(box[:, 1].min()), float(box[:, 1].max())


def page_paragraphs(page: OcrPage) -> list[str]:
    """The paragraphs of an OCR'd page, in reading order."""
    return [p for block in layout.reading_order(page.lines) for p in layout.paragraphs(block)]


def read_image_file(data: bytes, name: str, ocr: Ocr) -> Extracted:
    """An image file (each frame a page) read by OCR; unreadable frames become warnings."""
    pages: list[Page] = []
    warnings: list[str] = []
    for number, frame in enumerate(_frames(data, name), start=1):
        result = ocr.read(frame)
        if not result.readable:
            warnings.append(unreadable(name, number, result))
            pages.append(Page(number, (), ocr=True))
            continue
        pages.append(Page(number, tuple(page_paragraphs(result)), ocr=True))
    return Extracted.of_pages("image", pages, warnings=tuple(warnings))


def unreadable(name: str, number: int, result: OcrPage) -> str:
    if not result.lines:
        return f"{name}: page {number}: no text could be read (OCR found none); check the scan"
    return (
        f"{name}: page {number}: OCR could not read it reliably (confidence "
        f"{result.confidence:.2f} < {MIN_CONFIDENCE}); its text was left out; check the scan"
    )


def _frames(data: bytes, name: str) -> Iterator[Image.Image]:
    """The file's frames, decoded one at a time (each checked for size before it is)."""
    try:
        image = Image.open(io.BytesIO(data))  # lazy: the pixels are not decoded yet
        count = getattr(image, "n_frames", 1)
    except Image.DecompressionBombError:
        raise IngestError(f"{name}: over {MAX_PIXELS // 1_000_000} megapixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise IngestError(f"{name}: not a readable image ({exc})") from None
    if count > MAX_FRAMES:
        raise IngestError(
            f"{name}: {count} pages; OCR reads at most {MAX_FRAMES} per file "
            "(about 2 s a page); split it"
        )
    for index in range(count):
        try:
            image.seek(index)
            if image.width * image.height > MAX_PIXELS:
                raise IngestError(
                    f"{name}: page {index + 1} is over {MAX_PIXELS // 1_000_000} megapixels "
                    f"({image.width}x{image.height}); scan it at 300 dpi"
                )
            yield ImageOps.exif_transpose(image.convert("RGB"))
        except Image.DecompressionBombError:
            raise IngestError(f"{name}: over {MAX_PIXELS // 1_000_000} megapixels") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise IngestError(f"{name}: not a readable image ({exc})") from None
