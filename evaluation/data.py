"""Evaluation data: public question sets in one JSON Lines format, read from a folder.

A set NAME is the pair ``NAME.dev.corpus.jsonl`` (``{doc_id, title, text}`` per
line) and ``NAME.dev.questions.jsonl`` (``{qid, question, lang, doc_id,
answers}``, optionally ``gold_doc_ids`` and ``answer_groups``).  The corpus to
index is the union of every set's passages in the folder, deduplicated by
``doc_id``, so each question is scored against the whole pool (or, for quick
runs, against its gold passages plus a seeded sample of the rest).  A question
sample (``limit``) is drawn with a fixed seed, so runs are comparable.

Leaves out: scoring (``evaluation.metrics``) and running (``evaluation.evaluate``).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from index.errors import InvalidInput
from index.text.sources import Record

CORPUS_SUFFIX = ".dev.corpus.jsonl"
QUESTIONS_SUFFIX = ".dev.questions.jsonl"
SEED = 20261122


@dataclass(frozen=True)
class EvalQuestion:
    qid: str
    set_name: str
    question: str
    lang: str
    gold_doc_ids: tuple[str, ...]
    answers: tuple[str, ...]
    answer_groups: tuple[tuple[str, ...], ...] | None = None


@dataclass(frozen=True)
class EvalData:
    records: list[Record]
    questions: list[EvalQuestion]
    corpus_hash: str


def set_names(data_dir: Path) -> list[str]:
    names = sorted(p.name[: -len(QUESTIONS_SUFFIX)] for p in data_dir.glob(f"*{QUESTIONS_SUFFIX}"))
    return [n for n in names if (data_dir / f"{n}{CORPUS_SUFFIX}").is_file()]


def load(
    data_dir: Path,
    sets: list[str] | None = None,
    limit: int | None = None,
    pool: int | None = None,
) -> EvalData:
    """Questions of ``sets`` (``limit`` per set) and the pooled corpus of every set.

    ``pool`` shrinks the corpus for quick runs: every gold passage of the chosen
    questions plus a seeded sample of the others, ``pool`` passages in all.
    """
    available = set_names(data_dir)
    if not available:
        raise InvalidInput(f"No evaluation sets (*{QUESTIONS_SUFFIX} + corpus) in {data_dir}")
    unknown = sorted(set(sets or []) - set(available))
    if unknown:
        raise InvalidInput(f"Unknown sets {unknown}; {data_dir} has {available}")
    records = _pooled_corpus(data_dir, available)
    questions = []
    for name in sets or available:
        questions.extend(_questions(data_dir, name, limit))
    if pool is not None:
        records = _shrink(records, questions, pool)
    digest = hashlib.sha256()
    for r in records:
        digest.update(f"{r.doc_id}\x00{r.title}\x00{r.text}\x00".encode())
    return EvalData(records, questions, digest.hexdigest()[:16])


def _pooled_corpus(data_dir: Path, names: list[str]) -> list[Record]:
    pool: dict[str, Record] = {}
    for name in names:
        for row in _jsonl(data_dir / f"{name}{CORPUS_SUFFIX}"):
            pool.setdefault(row["doc_id"], Record(row["doc_id"], row.get("title", ""), row["text"]))
    return [pool[k] for k in sorted(pool)]


def _shrink(records: list[Record], questions: list[EvalQuestion], pool: int) -> list[Record]:
    gold = {d for q in questions for d in q.gold_doc_ids}
    others = [r for r in records if r.doc_id not in gold]
    extra = max(0, pool - len(gold))
    keep = gold | {r.doc_id for r in random.Random(SEED).sample(others, min(extra, len(others)))}
    return [r for r in records if r.doc_id in keep]


def _questions(data_dir: Path, name: str, limit: int | None) -> list[EvalQuestion]:
    rows = _jsonl(data_dir / f"{name}{QUESTIONS_SUFFIX}")
    if limit is not None and limit < len(rows):
        rows = random.Random(f"{SEED}:{name}").sample(rows, limit)
    out = []
    for row in rows:
        groups = row.get("answer_groups")
        out.append(
            EvalQuestion(
                qid=str(row["qid"]),
                set_name=name,
                question=row["question"],
                lang=row["lang"],
                gold_doc_ids=tuple(row.get("gold_doc_ids") or [row["doc_id"]]),
                answers=tuple(row.get("answers") or ()),
                answer_groups=tuple(tuple(g) for g in groups) if groups else None,
            )
        )
    return out


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
