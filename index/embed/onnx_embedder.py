"""An `Embedder` on ONNX Runtime: one of ``onnx_model``'s graphs and the folder's tokenizer.

The graph takes token ids and an attention mask and returns pooled, L2-normalised vectors, so
this class only tokenises (the folder's ``tokenizer.json``, truncated at the model's
``max_seq_length``, with its ``query: ``/``passage: `` prompts) and batches.  Passages are
sorted by token length and cut into batches of ``batch_size``, each padded only to its own
longest passage, so little compute goes to padding; vectors come back in input order.  A
session is safe to call from several threads at once.

Leaves out: building the graphs (``onnx_model``); GPU providers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import ModelUnavailable


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


class OnnxEmbedder:
    """A sentence-transformers folder's model, run from an exported ONNX graph on the CPU."""

    def __init__(
        self,
        st_folder: str | Path,
        onnx_file: str | Path,
        *,
        model_id: str,
        runtime: str,
        checksum: str | None = None,
        parity: float | None = None,
        batch_size: int = 8,
        threads: int | None = None,
    ) -> None:
        from tokenizers import Tokenizer

        folder = Path(st_folder)
        self.model_id, self.checksum = model_id, checksum
        self.runtime, self.parity = runtime, parity
        self.batch_size = max(1, batch_size)
        config = _json(folder / "sentence_bert_config.json")
        self.max_tokens = int(config.get("max_seq_length", 512))
        prompts = _json(folder / "config_sentence_transformers.json").get("prompts", {})
        self._query_prompt = prompts.get("query", "")
        self._passage_prompt = prompts.get("passage", "")
        self._counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.max_tokens)
        self._pad = int(_json(folder / "config.json").get("pad_token_id", 0))
        self._session = _session(Path(onnx_file), threads)
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self._passage_prompt + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([self._query_prompt + text])[0]

    def count_tokens(self, text: str) -> int:
        """Model tokens for ``text`` as a passage, prompt and special tokens included."""
        return len(self._counter.encode(self._passage_prompt + text).ids)

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encoded = [e.ids for e in self._tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]), reverse=True)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = len(encoded[rows[0]])
            ids = np.full((len(rows), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                ids[r, : len(encoded[i])], mask[r, : len(encoded[i])] = encoded[i], 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            out[rows] = self._session.run(None, feeds)[0]
        return out


def _session(path: Path, threads: int | None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf/NoSuchFile
        raise ModelUnavailable(
            f"The ONNX model {path} cannot be loaded ({type(exc).__name__}: "
            f"{str(exc)[:200]}); run `make model` to rebuild it.",
            detail={"path": str(path)},
        ) from exc
