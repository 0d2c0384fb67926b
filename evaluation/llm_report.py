"""The report of ``qa eval --llm``: per-set figures of generated answers, Markdown and JSON.

``summarise`` aggregates `evaluation.llm_eval.LLMResult`s per set and over all: answer
match (LLM, and the extractive baseline on the same questions), citation precision after
verification (gold citations over all citations), markers checked / corrected / removed,
unsupported flags, declines, fallbacks, answers with no marker, language drift (raw and
final), latency, time to first token and prompt size (percentiles), and how often each
marker format appears in raw replies.  ``write`` puts ``report.md`` (an "LLM answers"
section) and ``report.json`` (summary and every question) in the output folder.

Leaves out: running the questions (``evaluation.llm_eval``).
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evaluation.llm_eval import LLMResult
    from qa.settings import Settings

COLUMNS = (
    ("n", "questions"),
    ("asked", "LLM asked"),
    ("match", "match"),
    ("baseline_match", "extractive match"),
    ("citation_precision", "cit. precision"),
    ("corrected", "corrected/checked"),
    ("removed", "removed/checked"),
    ("unsupported", "flagged claims"),
    ("declined", "declined"),
    ("fallback", "fallbacks"),
    ("no_markers", "no marker"),
    ("raw_drift", "drift raw"),
    ("drift", "drift final"),
    ("latency_p50", "latency p50 s"),
    ("latency_p95", "p95 s"),
    ("ttft_p50", "TTFT p50 s"),
    ("ttft_p95", "p95 s"),
    ("prompt_tokens_p50", "prompt tok p50"),
    ("prompt_tokens_max", "max"),
)


def summarise(results: Sequence[LLMResult]) -> dict[str, object]:
    by_set: dict[str, list[LLMResult]] = defaultdict(list)
    for r in results:
        by_set[r.set_name].append(r)
    return {
        "sets": {name: group(rs) for name, rs in sorted(by_set.items())},
        "all": group(list(results)),
    }


def group(results: list[LLMResult]) -> dict[str, object]:
    """The figures of one set of questions (shares are of all questions unless noted)."""
    n = len(results) or 1
    asked = [r for r in results if r.asked]
    generated = [r for r in asked if not r.fallback]
    answered = [r for r in generated if not r.declined]
    citations = sum(r.citations for r in results)
    checked = sum(r.checked for r in generated) or 1
    ttft = sorted(r.ttft_ms for r in generated if r.ttft_ms is not None)
    formats: Counter[str] = Counter()
    for r in generated:
        formats.update({k: 1 for k in r.formats})
    return {
        "n": len(results),
        "asked": len(asked),
        "match": _share(r.match for r in results) / n,
        "baseline_match": _share(r.baseline_match for r in results) / n,
        "citation_precision": sum(r.gold_citations for r in results) / citations
        if citations
        else None,
        "corrected": sum(r.corrected for r in generated) / checked,
        "removed": sum(r.removed for r in generated) / checked,
        "checked": sum(r.checked for r in generated),
        "unsupported": sum(r.unsupported for r in generated),
        "declined": _share(r.declined for r in results) / n,
        "llm_declined": sum(r.declined for r in generated),
        "fallback": len(asked) - len(generated),
        "no_markers": sum(r.raw_markers == 0 for r in answered),
        "raw_drift": sum(r.raw_drift for r in generated),
        "drift": sum(r.drift for r in generated),
        "latency_p50": _pct([r.latency_ms for r in asked], 50) / 1000,
        "latency_p95": _pct([r.latency_ms for r in asked], 95) / 1000,
        "ttft_p50": _pct(ttft, 50) / 1000,
        "ttft_p95": _pct(ttft, 95) / 1000,
        "model_ttft_p50": _pct([r.model_ttft_ms or 0.0 for r in generated], 50) / 1000,
        "prompt_tokens_p50": _pct([r.prompt_tokens or 0 for r in asked], 50),
        "prompt_tokens_max": max((r.prompt_tokens or 0 for r in asked), default=0),
        "passages_mean": statistics.fmean([r.passages for r in asked]) if asked else 0.0,
        "marker_formats": dict(formats.most_common()),
    }


def markdown(summary: dict, settings: Settings | None = None) -> str:
    lines = ["## LLM answers", ""]
    if settings is not None:
        lines += [
            f"Model `{settings.llm_model}` at `{settings.llm_base_url}`; "
            f"QA_LLM_CONTEXT_TOKENS={settings.llm_context_tokens}, "
            f"QA_LLM_MAX_TOKENS={settings.llm_max_tokens}, grounding {settings.grounding}.",
            "",
        ]
    lines.append("| set | " + " | ".join(title for _, title in COLUMNS) + " |")
    lines.append("|---" * (len(COLUMNS) + 1) + "|")
    rows = [*summary["sets"].items(), ("all", summary["all"])]
    for name, g in rows:
        lines.append(f"| {name} | " + " | ".join(_cell(key, g[key]) for key, _ in COLUMNS) + " |")
    formats = summary["all"]["marker_formats"]
    lines += [
        "",
        "Shares are of all questions; match counts a declined or fallback answer as a miss; "
        "citation precision is gold citations over all citations after verification; "
        "corrected/removed are shares of the markers checked; no marker, drift and fallbacks "
        "count answers; TTFT is from the question to the first streamed token.",
        "",
        "Marker formats in raw replies (answers using each): "
        + (", ".join(f"`{k}` {v}" for k, v in formats.items()) or "none"),
    ]
    return "\n".join(lines) + "\n"


def write(results: Sequence[LLMResult], out_dir: Path, settings: Settings | None = None) -> dict:
    summary = summarise(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.md").write_text(markdown(summary, settings), encoding="utf-8")
    payload = {
        "llm": summary,
        "settings": settings.model_dump(mode="json") if settings else None,
        "questions": [asdict(r) for r in results],
    }
    (out_dir / "report.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return summary


def _share(flags: object) -> float:
    return float(sum(bool(f) for f in flags))  # type: ignore[attr-defined]


def _pct(values: Sequence[float], q: int) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return float(ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))])


def _cell(key: str, value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and key.startswith(("latency", "ttft")):
        return f"{value:.1f}"
    if isinstance(value, float) and key.startswith("prompt"):
        return f"{value:.0f}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
