"""ONNX Runtime variants of a sentence-transformers folder: fp32 and dynamic int8, built once.

``materialise_onnx`` exports the folder's BERT encoder with its mean pooling and L2
normalisation inside the graph (``torch.onnx.export``), quantises the weights to int8 with
ONNX Runtime's dynamic quantiser (per channel; activations are quantised at run time), and
measures each variant's cosine to the torch fp32 model on the parity probe
(``parity_probe.json``: passages and questions of the sample corpus).  The result lives in
``cache_dir/<folder>-onnx-<key>``, where the key hashes the source folder's checksum and the
export settings; it is written in a temp dir and moved into place with ``os.replace``.
``find_variant`` is the query-time side: the path of one variant, checked, or `ModelUnavailable`
naming ``make model``.

Why not sentence-transformers' own ``backend="onnx"``: it loads through optimum-onnx, whose
only release (0.1.0) requires transformers < 4.58, and sentence-transformers 6 requires
transformers 5 (importing ``optimum.onnxruntime`` beside transformers 5.25 fails: measured).
The files are laid out so that switching later needs no re-export of the index.

Leaves out: running the variants (``onnx_embedder``); static (calibrated) quantisation.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np

from index.embed.e5_model import sha256_file
from index.errors import ModelUnavailable

_FORMAT = 1  # bump whenever the same source and settings would give other files
RECORD = "onnx.json"
FILES = {"onnx": "model.onnx", "onnx-int8": "model_qint8.onnx"}
SETTINGS = {
    "opset": 17,
    "graph": "bert (eager attention) + mean pooling + l2 normalise",
    "int8": {"method": "dynamic", "weight_type": "QInt8", "per_channel": True},
}
MAKE_MODEL = "run `make model` (or `python -m index.embed.e5_model var/models`) to build it"


def variant_key(source_checksum: str) -> str:
    """A hash of what determines the files: the source weights, the export settings and the
    versions of the exporter and the quantiser."""
    tools = {p: metadata.version(p) for p in ("torch", "onnxruntime")}
    spec = {"format": _FORMAT, "source": source_checksum, "settings": SETTINGS, "tools": tools}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]


def variant_folder(st_folder: Path, cache_dir: Path, source_checksum: str) -> Path:
    return Path(cache_dir) / f"{Path(st_folder).name}-onnx-{variant_key(source_checksum)}"


def probe() -> tuple[list[str], list[str]]:
    """The parity probe: (passages, questions)."""
    text = resources.files("index.embed").joinpath("parity_probe.json").read_text("utf-8")
    data = json.loads(text)
    return list(data["passages"]), list(data["questions"])


def _export_fp32(st_folder: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    # Eager attention exports as plain MatMul/Softmax, which the int8 model runs 1.4x faster
    # than the SDPA export (measured on 400 eval passages, 36 vs 26 passages/s on 2 cores).
    bert = AutoModel.from_pretrained(
        str(st_folder), add_pooling_layer=False, attn_implementation="eager"
    ).eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    dummy = torch.ones(2, 8, dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    with torch.no_grad(), _quiet():
        torch.onnx.export(
            Pooled().eval(),
            (dummy, dummy),
            str(out),
            input_names=list(axes),
            output_names=["embedding"],
            dynamic_axes={**axes, "embedding": {0: "batch"}},
            opset_version=int(SETTINGS["opset"]),  # type: ignore[call-overload]
            dynamo=False,
        )


@contextlib.contextmanager
def _quiet() -> Any:
    """Without the exporters' warnings and the quantiser's advice on the root logger."""
    import logging
    import warnings

    root, level = logging.getLogger(), logging.getLogger().level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def _quantise(fp32: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet():
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)


def _parity(st_folder: Path, folder: Path) -> dict[str, dict[str, float]]:
    """Each variant's cosine to the torch fp32 model on the probe (passages and questions)."""
    from index.embed.embedder import SentenceTransformerEmbedder
    from index.embed.onnx_embedder import OnnxEmbedder

    passages, questions = probe()
    ref = SentenceTransformerEmbedder(str(st_folder), model_id="reference")
    want = np.vstack([ref.embed_documents(passages), *map(ref.embed_query, questions)])
    result = {}
    for runtime, name in FILES.items():
        onnx = OnnxEmbedder(st_folder, folder / name, model_id="probe", runtime=runtime)
        got = np.vstack([onnx.embed_documents(passages), *map(onnx.embed_query, questions)])
        cosines = (got * want).sum(axis=1)
        result[runtime] = {"min": float(cosines.min()), "mean": float(cosines.mean())}
    return result


def _write(folder: Path, st_folder: Path, source_checksum: str) -> None:
    started = time.perf_counter()
    _export_fp32(st_folder, folder / FILES["onnx"])
    _quantise(folder / FILES["onnx"], folder / FILES["onnx-int8"])
    files = {name: _digest(folder / name) for name in FILES.values()}
    record = {
        "format": _FORMAT,
        "key": variant_key(source_checksum),
        "source": {"folder": str(st_folder), "checksum": source_checksum},
        "settings": SETTINGS,
        "files": files,
        "parity": _parity(st_folder, folder),
        "versions": {p: metadata.version(p) for p in ("torch", "onnx", "onnxruntime")},
        "seconds": round(time.perf_counter() - started, 1),
    }
    (folder / RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    for path in [folder, *folder.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def _digest(path: Path) -> dict[str, Any]:
    return {"sha256": sha256_file(path), "size": path.stat().st_size}


def read_record(folder: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == _FORMAT else None


def _intact(folder: Path, *, hashes: bool) -> bool:
    record = read_record(folder)
    if record is None:
        return False
    for name, want in record.get("files", {}).items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != want.get("size"):
            return False
        if hashes and _digest(path)["sha256"] != want.get("sha256"):
            return False
    return set(record.get("files", {})) == set(FILES.values())


def materialise_onnx(st_folder: Path, cache_dir: Path, source_checksum: str) -> Path:
    """The variants' folder for ``st_folder``, exported first unless present and intact."""
    target = variant_folder(st_folder, cache_dir, source_checksum)
    if _intact(target, hashes=True):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        (work / "new").mkdir()
        _write(work / "new", Path(st_folder), source_checksum)
        if not _intact(target, hashes=False):  # missing or damaged (another run may have won)
            with contextlib.suppress(FileNotFoundError):
                os.replace(target, work / "stale")
        with contextlib.suppress(OSError):  # another process has just installed one
            os.replace(work / "new", target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not _intact(target, hashes=False):
        raise ModelUnavailable(f"could not build the ONNX models in {target}")
    return target


def find_variant(
    st_folder: Path, cache_dir: Path, source_checksum: str, runtime: str
) -> tuple[Path, dict[str, float]]:
    """The file of ``runtime`` (``onnx`` or ``onnx-int8``) and its measured parity to torch."""
    folder = variant_folder(st_folder, cache_dir, source_checksum)
    record = read_record(folder)
    files, parity = (record or {}).get("files"), (record or {}).get("parity")
    if not isinstance(files, dict) or not isinstance(parity, dict) or runtime not in parity:
        raise ModelUnavailable(
            f"The {runtime} embedding model has not been built for this model and this "
            f"article-qa: {folder} has no current {RECORD}; {MAKE_MODEL}, or set "
            "QA_EMBED_RUNTIME=torch.",
            detail={"runtime": runtime, "folder": str(folder)},
        )
    path, want = folder / FILES[runtime], files.get(FILES[runtime]) or {}
    size = path.stat().st_size if path.is_file() else None
    if size != want.get("size"):
        raise ModelUnavailable(
            f"The {runtime} embedding model {path} is missing or damaged (size {size}, "
            f"expected {want.get('size')}); {MAKE_MODEL}.",
            detail={"runtime": runtime, "path": str(path)},
        )
    return path, parity[runtime]
