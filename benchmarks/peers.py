"""Side-by-side benchmark: article-qa's retrieval against what users would pick instead.

One run, one corpus, one machine.  The pooled public eval corpus (``evaluation.data``) and a
seeded question sample per set go to three systems, all on the same multilingual-e5-small
folder that article-qa materialises:

- **article-qa**: its own index and hybrid retrieval (``benchmarks.peer_articleqa``);
- **langchain**: the naive LangChain RAG retriever (``benchmarks.peer_langchain``);
- **txtai**: txtai ``Embeddings(hybrid=True)`` in its own venv, installed here on first
  use (``benchmarks.peer_txtai_client`` + ``benchmarks.peer_txtai``).

Peers index ``title + "\\n" + text`` of every passage, as article-qa does.  Each index is
cached on disk under a key that includes the corpus hash.  Questions are asked one at a
time in a single-threaded loop, the systems taking turns on each question (rotating who
goes first) so background load falls on all alike, after a warm-up of `WARMUP` questions
each.  Per set: hit@5 and MRR@10 of the gold passage (RGB: any of its gold passages) and
latency p50/p95; the table goes to stdout and ``--out``/report.md + report.json.

    python benchmarks/peers.py --limit 100            # the full comparison
    python benchmarks/peers.py --limit 10 --pool 300  # a quick development run

Leaves out: answer quality (the peers only retrieve), the unanswerable-question test and
ablations (``qa eval`` has those), concurrency and memory use.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for _key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(_key, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks import peer_report  # noqa: E402
from evaluation import data as eval_data  # noqa: E402
from evaluation.data import EvalData, EvalQuestion  # noqa: E402
from evaluation.metrics import gold_rank  # noqa: E402

PEERS = ("langchain", "txtai")
WARMUP = 5


class System(Protocol):
    name: str
    config: dict[str, Any]

    def query(self, question: str) -> tuple[list[str], float]: ...

    def close(self) -> None: ...


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--sets", default=None, help="comma-separated set names (default: all)")
    parser.add_argument("--limit", type=int, default=None, help="questions sampled per set")
    parser.add_argument(
        "--pool", type=int, default=None, help="index the gold passages plus a sample, N in all"
    )
    parser.add_argument(
        "--peers", default=",".join(PEERS), help="comma-separated: " + ",".join(PEERS)
    )
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "eval" / "peers")
    parser.add_argument("--cache", type=Path, default=ROOT / "var" / "eval" / "cache")
    parser.add_argument("--peer-dir", type=Path, default=ROOT / "var" / "peers")
    args = parser.parse_args(argv)
    args.peers = [p for p in args.peers.split(",") if p]
    unknown = sorted(set(args.peers) - set(PEERS))
    if unknown:
        parser.error(f"unknown peers {unknown}; choose from {list(PEERS)}")
    return args


def corpus_hash(records: Sequence[Any]) -> str:
    """The same digest ``evaluation.data.load`` computes, for a shrunk corpus."""
    digest = hashlib.sha256()
    for r in records:
        digest.update(f"{r.doc_id}\x00{r.title}\x00{r.text}\x00".encode())
    return digest.hexdigest()[:16]


def shrink(data: EvalData, pool: int) -> EvalData:
    """Every gold passage of the sampled questions plus a seeded sample of others, ``pool``."""
    gold = {d for q in data.questions for d in q.gold_doc_ids}
    others = [r for r in data.records if r.doc_id not in gold]
    extra = min(max(0, pool - len(gold)), len(others))
    keep = gold | {r.doc_id for r in random.Random(eval_data.SEED).sample(others, extra)}
    records = [r for r in data.records if r.doc_id in keep]
    return replace(data, records=records, corpus_hash=corpus_hash(records))


def peer_corpus(data: EvalData) -> list[tuple[str, str]]:
    return [(r.doc_id, f"{r.title}\n{r.text}" if r.title else r.text) for r in data.records]


def write_corpus(path: Path, corpus: Sequence[tuple[str, str]]) -> Path:
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        rows = (json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in corpus)
        tmp.write_text("\n".join(rows) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    return path


def timed(steps: dict[str, float], step: str, make: Any, *args: Any) -> Any:
    print(f"== {step}", flush=True)
    started = time.perf_counter()
    value = make(*args)
    steps[step] = time.perf_counter() - started
    print(f"   {steps[step]:.1f} s", flush=True)
    return value


def start_systems(args: argparse.Namespace, data: EvalData, steps: dict[str, float]) -> list:
    from benchmarks.peer_articleqa import ArticleQA, model_folder

    ours = timed(steps, "article-qa: load model, build or load index", ArticleQA, data, args.cache)
    systems: list[System] = [ours]
    model, checksum = model_folder(ours.settings)
    corpus = peer_corpus(data)
    if "langchain" in args.peers:
        from benchmarks.peer_langchain import LangChainPeer

        step = "langchain: load model, build or load index"
        peer = (model, args.peer_dir, corpus, data.corpus_hash, checksum)
        systems.append(timed(steps, step, LangChainPeer, *peer))
    if "txtai" in args.peers:
        from benchmarks import peer_txtai_client as txc

        venv, threads = args.peer_dir / "txtai-venv", ours.settings.threads
        timed(steps, "txtai: venv", txc.ensure_venv, venv, args.peer_dir / "txtai-venv.log")
        path = write_corpus(args.peer_dir / f"corpus-{data.corpus_hash}.jsonl", corpus)
        step = "txtai: start helper, load model, build or load index"
        systems.append(timed(steps, step, txc.TxtaiPeer, venv, model, args.peer_dir, path, threads))
    return systems


def run_questions(
    systems: Sequence[System], questions: Sequence[EvalQuestion]
) -> tuple[dict[str, peer_report.Outcome], list[dict[str, Any]]]:
    for system in systems:
        for question in questions[:WARMUP]:
            system.query(question.question)
    outcomes = {s.name: peer_report.Outcome() for s in systems}
    rows = []
    for i, question in enumerate(tqdm(questions, unit="question", desc="asking")):
        order = [*systems[i % len(systems) :], *systems[: i % len(systems)]]
        row: dict[str, Any] = {"qid": question.qid, "set": question.set_name, "ranks": {}}
        row["ms"] = {}
        for system in order:
            ids, ms = system.query(question.question)
            rank = gold_rank(ids, question.gold_doc_ids)
            outcomes[system.name].ranks.append(rank)
            outcomes[system.name].ms.append(ms)
            row["ranks"][system.name], row["ms"][system.name] = rank, round(ms, 2)
        rows.append(row)
    return outcomes, rows


def describe(system: System) -> dict[str, Any]:
    index = getattr(system, "index", None) or getattr(system, "ready", {}).get("index", {})
    extra = getattr(system, "ready", {}).get("versions")
    config = system.config | ({"versions": extra} if extra else {})
    return {"config": config, "index": index}


def build_report(
    args: argparse.Namespace,
    data: EvalData,
    systems: Sequence[System],
    steps: dict[str, float],
    load_before: tuple[float, float, float],
) -> dict[str, Any]:
    missing = set(getattr(systems[0], "index", {}).get("passages_not_indexed", []))
    unreachable = [q.qid for q in data.questions if set(q.gold_doc_ids) <= missing]
    print(f"article-qa left out {len(missing)} passages: {len(unreachable)} questions lost gold")
    return {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, load avg before "
        f"{load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}",
        "corpus": {"passages": len(data.records), "hash": data.corpus_hash},
        "questions": len(data.questions),
        "warmup": WARMUP,
        "systems": {s.name: describe(s) for s in systems},
        "steps": steps,
        "article_qa_unreachable": unreachable,
        "code": code_version(),
    }


def code_version() -> dict[str, Any]:
    """The commit measured, and which article-qa source files differ from it."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    status = [*git, "status", "--porcelain", "--", "qa", "index", "prompts"]
    dirty = subprocess.run(status, capture_output=True, text=True).stdout.splitlines()
    return {"commit": head.stdout.strip(), "modified": [line[3:] for line in dirty]}


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    os.chdir(ROOT)  # Settings() paths (var/models) are relative to the repo
    steps: dict[str, float] = {}
    sets = args.sets.split(",") if args.sets else None
    data = timed(steps, "load eval data", eval_data.load, args.data, sets, args.limit)
    if args.pool is not None:
        data = shrink(data, args.pool)
    print(f"   {len(data.records)} passages (hash {data.corpus_hash}), {len(data.questions)} q")
    load_before = os.getloadavg()
    systems = start_systems(args, data, steps)
    try:
        outcomes, rows = timed(steps, "questions", run_questions, systems, data.questions)
    finally:
        for system in systems:
            system.close()
    table = peer_report.per_set([q.set_name for q in data.questions], outcomes)
    rel = peer_report.ratios(table)
    text = peer_report.markdown(table, rel)
    print(text)
    report = build_report(args, data, systems, steps, load_before) | {
        "metrics": table,
        "ratios": rel,
        "per_question": rows,
    }
    peer_report.write(args.out, report, text)
    print(f"wrote {args.out / 'report.md'} and report.json")


if __name__ == "__main__":
    main()
