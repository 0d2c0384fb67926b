"""Peer B, run inside its own venv: txtai `Embeddings` (hybrid) answering questions over stdio.

Started by ``peer_txtai_client.TxtaiPeer`` with ``var/peers/txtai-venv/bin/python``; it
imports nothing from article-qa.  The corpus file has one ``{"id", "text"}`` JSON object
per line (one passage each: txtai indexes what it is given, unchunked).  The index is
built with the config in `CONFIG` and saved under ``--cache/txtai-KEY``, KEY hashing the
corpus file, the config, txtai's version and the model's files, so a rerun loads it.

Protocol: one ``{"ready": true, ...}`` line once the index is loaded, then for every
``{"question": str}`` line read from stdin one ``{"ids": [...], "ms": float}`` line, the
top `DEPTH` passage ids and the time ``Embeddings.search`` took (query embedding, dense
and BM25 search, fusion).  Everything else the libraries print goes to stderr.

Leaves out: scoring and warm-up (the caller's), and any txtai setting a user would not
reach for: the model's e5 prompts are passed as txtai ``instructions``, nothing more.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

DEPTH = 10


def config(model: Path) -> dict[str, Any]:
    """txtai's hybrid index (dense + BM25 ``terms``) with e5's role prefixes.

    Without ``instructions`` txtai reads the folder's sentence-transformers prompts, but maps
    only a ``document`` prompt to its ``data`` role, so e5's ``passage: `` would be dropped
    while ``query: `` is applied; giving both as instructions prefixes each side correctly.
    """
    return {
        "path": str(model),
        "hybrid": True,
        "instructions": {"query": "query: ", "data": "passage: "},
    }


def cache_key(corpus: Path, cfg: dict[str, Any], model: Path) -> str:
    digest = hashlib.sha256(corpus.read_bytes())
    digest.update(json.dumps(cfg, sort_keys=True).encode())
    digest.update(version("txtai").encode())
    stamp = model / "checksum.json"
    digest.update(stamp.read_bytes() if stamp.is_file() else str(model).encode())
    return digest.hexdigest()[:16]


def open_index(args: argparse.Namespace, cfg: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from txtai import Embeddings

    target = args.cache / f"txtai-{cache_key(args.corpus, cfg, args.model)}"
    started = time.perf_counter()
    embeddings = Embeddings(cfg)
    if target.is_dir():
        embeddings.load(str(target))
        return embeddings, {"cached": True, "seconds": time.perf_counter() - started}
    rows = [json.loads(line) for line in args.corpus.read_text(encoding="utf-8").splitlines()]
    print(f"txtai: indexing {len(rows)} passages", file=sys.stderr, flush=True)
    embeddings.index((row["id"], row["text"], None) for row in rows)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    embeddings.save(str(tmp))
    os.replace(tmp, target)
    return embeddings, {"cached": False, "seconds": time.perf_counter() - started}


def versions() -> dict[str, str]:
    names = ("txtai", "torch", "transformers", "faiss-cpu", "huggingface-hub")
    return {name: version(name) for name in names} | {"python": sys.version.split()[0]}


def serve(embeddings: Any, out: Any) -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        question = json.loads(line)["question"]
        started = time.perf_counter()
        results = embeddings.search(question, DEPTH)
        ms = (time.perf_counter() - started) * 1000
        out.write(json.dumps({"ids": [str(uid) for uid, _ in results], "ms": ms}) + "\n")
        out.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description="txtai peer helper (stdin/stdout JSON lines)")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")  # the protocol's own stdout
    os.dup2(2, 1)  # whatever else writes to fd 1 lands on stderr
    sys.stdout = sys.stderr
    import torch

    torch.set_num_threads(args.threads)
    cfg = config(args.model)
    embeddings, index = open_index(args, dict(cfg))  # txtai fills in its defaults in place
    index |= {"count": embeddings.count(), "resolved_config": embeddings.config}
    ready = {"ready": True, "config": cfg, "index": index}
    out.write(json.dumps(ready | {"versions": versions()}) + "\n")
    out.flush()
    serve(embeddings, out)


if __name__ == "__main__":
    main()
