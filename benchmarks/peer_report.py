"""Scoring and reporting for the peer benchmark: per-set metrics, ratios, Markdown and JSON.

hit@5 is the share of questions with a gold passage among the first 5 hits; MRR@10 the
mean of 1/rank of the first gold hit within 10 (0 when none); ranks count hits (chunks),
as ``evaluation.metrics.gold_rank`` does.  Latency p50/p95 are linear-interpolated
percentiles of the per-query milliseconds.  A ratio is article-qa / peer: above 1 is
better for hit@5 and MRR@10, below 1 is better (faster) for latency.  The "all" row
pools every question.

Leaves out: running the systems (``benchmarks.peers``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

OURS = "article-qa"
METRICS = ("hit@5", "mrr@10", "p50_ms", "p95_ms")


@dataclass
class Outcome:
    """One system's rank of the first gold hit and latency, question by question."""

    ranks: list[int | None] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)


def summarise(ranks: Sequence[int | None], ms: Sequence[float]) -> dict[str, float]:
    n = len(ranks)
    return {
        "n": n,
        "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
        "mrr@10": sum(1 / r for r in ranks if r is not None and r <= 10) / n,
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
    }


def per_set(
    set_names: Sequence[str], outcomes: dict[str, Outcome]
) -> dict[str, dict[str, dict[str, float]]]:
    """{set or "all": {system: metrics}}, sets in first-seen order."""
    groups = [*dict.fromkeys(set_names), "all"]
    table: dict[str, dict[str, dict[str, float]]] = {}
    for group in groups:
        keep = [i for i, s in enumerate(set_names) if group in ("all", s)]
        table[group] = {
            name: summarise([o.ranks[i] for i in keep], [o.ms[i] for i in keep])
            for name, o in outcomes.items()
        }
    return table


def ratios(table: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for group, systems in table.items():
        ours = systems[OURS]
        out[group] = {
            peer: {m: ours[m] / row[m] if row[m] else None for m in METRICS}
            for peer, row in systems.items()
            if peer != OURS
        }
    return out


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def markdown(table: dict[str, dict[str, dict[str, float]]], rel: dict[str, dict]) -> str:
    lines = [
        "| set | n | system | hit@5 | MRR@10 | p50 ms | p95 ms |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for group, systems in table.items():
        for name, row in systems.items():
            lines.append(
                f"| {group} | {row['n']} | {name} | {row['hit@5']:.3f} | {row['mrr@10']:.3f} "
                f"| {row['p50_ms']:.1f} | {row['p95_ms']:.1f} |"
            )
    lines += [
        "",
        "Ratios article-qa / peer (quality: >1 is better; latency: <1 is faster):",
        "",
        "| set | peer | hit@5 | MRR@10 | p50 | p95 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for group, peers in rel.items():
        for peer, row in peers.items():
            cells = " | ".join(_ratio(row[m]) for m in METRICS)
            lines.append(f"| {group} | {peer} | {cells} |")
    return "\n".join(lines)


def write(out: Path, report: dict[str, Any], table_md: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    lines = [
        "# article-qa vs. peers: retrieval quality and query latency",
        "",
        f"Corpus: {report['corpus']['passages']} pooled passages (hash "
        f"{report['corpus']['hash']}); questions: {report['questions']} "
        f"({report['args']['limit'] or 'all'} per set); machine: {report['machine']}; "
        f"article-qa at {report['code']['commit']} "
        f"({len(report['code']['modified'])} source files modified).",
        "",
        table_md,
        "",
        "## Systems",
        "",
    ]
    for name, system in report["systems"].items():
        lines.append(f"- **{name}**: `{json.dumps(system['config'], ensure_ascii=False)}`")
        brief = {k: len(v) if isinstance(v, list) else v for k, v in system["index"].items()}
        brief = {k: v for k, v in brief.items() if not isinstance(v, dict)}
        lines.append(f"  index: `{json.dumps(brief)}`")
    unreachable = report.get("article_qa_unreachable", [])
    lines += ["", f"Questions whose gold passages article-qa did not index: {len(unreachable)}"]
    lines += ["", "## Steps (seconds)", ""]
    lines += [f"- {step}: {seconds:.1f}" for step, seconds in report["steps"].items()]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
