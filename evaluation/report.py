"""Evaluation results as figures: a summary dict, a Markdown report, JSON and PNG plots.

``summarise`` aggregates per set and per question language: hit@1/5/10 and
MRR@10 under each retrieval ablation, answer match (and what it would be had
no answerable question been declined), character F1 (of the
whole answer body, and of the short answer: the direct answer phrase an
extractive answer leads with, else the body), citation
precision, declines, latency percentiles per stage, the declining figures
of the unanswerable variant and, when measured, hybrid retrieval per chunk
size.  Plots (matplotlib, imported only when plotting) show hit@k curves per
retriever and set, and the latency distribution.

Leaves out: running the questions (``evaluation.evaluate``).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from evaluation.evaluate import DEPTH, MODES, EvalRun, QuestionResult

KS = (1, 5, 10)


def summarise(run: EvalRun) -> dict[str, object]:
    by_set: dict[str, list[QuestionResult]] = defaultdict(list)
    by_lang: dict[str, list[QuestionResult]] = defaultdict(list)
    for r in run.results:
        by_set[r.set_name].append(r)
        by_lang[r.lang].append(r)
    return {
        "corpus_passages": run.corpus_passages,
        "chunks": run.chunks,
        "questions": len(run.results),
        "settings": run.settings,
        "sets": {name: _group(rs) for name, rs in sorted(by_set.items())},
        "languages": {lang: _group(rs) for lang, rs in sorted(by_lang.items())},
        "all": _group(run.results),
        "latency_ms": _latency(run.results),
        "unanswerable": _declining(run),
        "chunk_sizes": _chunk_sizes(run, by_set),
    }


def _chunk_sizes(run: EvalRun, by_set: dict[str, list[QuestionResult]]) -> dict[str, object]:
    """Hybrid hit@k and MRR@10 per set at each chunk size of the ablation (empty without)."""
    out: dict[str, object] = {}
    for size, chunks in sorted(run.chunk_counts.items()):
        sets = {
            name: _retrieval([r.chunk_ranks.get(size) for r in rs])
            for name, rs in sorted(by_set.items())
        }
        out[str(size)] = {
            "chunks": chunks,
            "sets": sets,
            "all": _retrieval([r.chunk_ranks.get(size) for r in run.results]),
        }
    return out


def _retrieval(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    metrics = {f"hit@{k}": _share(rk is not None and rk <= k for rk in ranks) for k in KS}
    metrics["mrr@10"] = round(sum(1 / rk for rk in ranks if rk) / n, 4) if n else 0.0
    return metrics


def _group(results: list[QuestionResult]) -> dict[str, object]:
    n = len(results)
    retrieval = {}
    for mode in MODES:
        ranks = [r.ranks.get(mode) for r in results]
        metrics: dict[str, object] = dict(_retrieval(ranks))
        metrics["curve"] = [
            _share(rk is not None and rk <= k for rk in ranks) for k in range(1, DEPTH + 1)
        ]
        retrieval[mode] = metrics
    precisions = [r.citation_precision for r in results if r.citation_precision is not None]
    return {
        "n": n,
        "retrieval": retrieval,
        "answer_match": _share(r.match for r in results),
        "match_undeclined": _share(r.match_undeclined for r in results),
        "char_f1": round(statistics.fmean(r.f1 for r in results), 4) if n else 0.0,
        "short_f1": round(statistics.fmean(r.short_f1 for r in results), 4) if n else 0.0,
        "citation_precision": round(statistics.fmean(precisions), 4) if precisions else None,
        "declined": _share(r.declined for r in results),
    }


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return round(sum(values) / len(values), 4) if values else 0.0


def _latency(results: list[QuestionResult]) -> dict[str, dict[str, float]]:
    out = {}
    for stage in ("retrieve", "answer", "total"):
        values = sorted(r.timings_ms.get(stage, 0.0) for r in results)
        if values:
            out[stage] = {"p50": _pct(values, 50), "p95": _pct(values, 95)}
    return out


def _pct(ordered: list[float], q: int) -> float:
    return round(ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))], 2)


def _declining(run: EvalRun) -> dict[str, object]:
    langs = sorted({u.lang for u in run.unanswerable})
    return {
        "n": len(run.unanswerable),
        "declined_unanswerable": _share(u.declined for u in run.unanswerable),
        "declined_answerable": _share(r.declined for r in run.results),
        "by_language": {
            lang: {
                "declined_unanswerable": _share(
                    u.declined for u in run.unanswerable if u.lang == lang
                ),
                "declined_answerable": _share(r.declined for r in run.results if r.lang == lang),
            }
            for lang in langs
        },
        "best_thresholds": {group: _best_thresholds(run, group) for group in ("zh", "en")},
    }


def _best_thresholds(run: EvalRun, group: str) -> dict[str, float]:
    """Cosine and coverage floors that best separate answerable from unanswerable.

    Maximises balanced accuracy: the mean of the share of answerable questions
    answered and the share of unanswerable ones declined.
    """

    def mine(lang: str) -> bool:
        return (lang == "en") == (group == "en")

    answerable = [r.evidence for r in run.results if mine(r.lang)]
    unanswerable = [u.evidence for u in run.unanswerable if mine(u.lang)]
    if not answerable or not unanswerable:
        return {}
    best = (0.0, 0.0, 0.0)
    for dense in [x / 100 for x in range(70, 100)]:
        for coverage in [x / 20 for x in range(0, 21)]:

            def relevant(e: tuple[float, float]) -> bool:
                return e[0] >= dense or e[1] >= coverage  # noqa: B023

            score = (
                _share(map(relevant, answerable)) + _share(not relevant(e) for e in unanswerable)
            ) / 2
            if score > best[0]:
                best = (score, dense, coverage)
    return {
        "balanced_accuracy": round(best[0], 4),
        "min_dense_score": best[1],
        "min_keyword_coverage": best[2],
    }


def markdown(summary: dict) -> str:
    lines = [
        "# article-qa evaluation",
        "",
        f"Pooled corpus: {summary['corpus_passages']} passages, {summary['chunks']} chunks; "
        f"{summary['questions']} questions.",
        "",
        "## Retrieval (gold passage among the top k chunks)",
        "",
        "| set | n | retriever | hit@1 | hit@5 | hit@10 | MRR@10 |",
        "|---|---|---|---|---|---|---|",
    ]
    for scope, groups in (("set", summary["sets"]), ("language", summary["languages"])):
        for name, g in groups.items():
            for mode, m in g["retrieval"].items():
                lines.append(
                    f"| {scope}: {name} | {g['n']} | {mode} | {m['hit@1']:.3f} | {m['hit@5']:.3f} "
                    f"| {m['hit@10']:.3f} | {m['mrr@10']:.3f} |"
                )
    lines += [
        "",
        "## Answers",
        "",
        "| scope | n | answer match | match, none declined | char F1 | short-answer char F1 "
        "| citation precision | declined |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for scope, groups in (("set", summary["sets"]), ("language", summary["languages"])):
        for name, g in list(groups.items()) + ([("all", summary["all"])] if scope == "set" else []):
            cp = g["citation_precision"]
            lines.append(
                f"| {scope}: {name} | {g['n']} | {g['answer_match']:.3f} | "
                f"{g['match_undeclined']:.3f} | {g['char_f1']:.3f} | "
                f"{g['short_f1']:.3f} | {'-' if cp is None else f'{cp:.3f}'} | "
                f"{g['declined']:.3f} |"
            )
    d = summary["unanswerable"]
    lines += [
        "",
        "## Declining",
        "",
        f"Gold passages removed for {d['n']} sampled questions: declined "
        f"{d['declined_unanswerable']:.3f} of them; answerable questions wrongly declined: "
        f"{d['declined_answerable']:.3f}.",
        "",
        "| language | unanswerable declined | answerable declined |",
        "|---|---|---|",
        *[
            f"| {lang} | {v['declined_unanswerable']:.3f} | {v['declined_answerable']:.3f} |"
            for lang, v in d["by_language"].items()
        ],
        "",
        f"Thresholds that would best separate them on this run: {d['best_thresholds']}",
        "",
        "## Latency (ms, in-process)",
        "",
        "| stage | p50 | p95 |",
        "|---|---|---|",
    ]
    for stage, v in summary["latency_ms"].items():
        lines.append(f"| {stage} | {v['p50']} | {v['p95']} |")
    lines += _chunk_size_lines(summary.get("chunk_sizes") or {})
    return "\n".join(lines) + "\n"


def _chunk_size_lines(sizes: dict) -> list[str]:
    if not sizes:
        return []
    lines = [
        "",
        "## Chunk size (hybrid retrieval, the pool re-indexed at each size)",
        "",
        "| set | chunk tokens | chunks | hit@1 | hit@5 | hit@10 | MRR@10 |",
        "|---|---|---|---|---|---|---|",
    ]
    names = sorted({name for v in sizes.values() for name in v["sets"]})
    for name in [*names, "all"]:
        for size, v in sizes.items():
            m = v["all"] if name == "all" else v["sets"][name]
            lines.append(
                f"| {name} | {size} | {v['chunks']} | {m['hit@1']:.3f} | {m['hit@5']:.3f} "
                f"| {m['hit@10']:.3f} | {m['mrr@10']:.3f} |"
            )
    return lines


def write(run: EvalRun, out_dir: Path, *, plots: bool = True) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarise(run)
    (out_dir / "report.md").write_text(markdown(summary), encoding="utf-8")
    payload = {
        "summary": summary,
        "questions": [asdict(r) for r in run.results],
        "unanswerable": [asdict(u) for u in run.unanswerable],
    }
    (out_dir / "report.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1))
    if plots:
        _plot(summary, run, out_dir)
    return summary


def _plot(summary: dict, run: EvalRun, out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = summary["sets"]
    fig, axes = plt.subplots(1, len(sets), figsize=(4 * len(sets), 3.4), squeeze=False)
    for ax, (name, group) in zip(axes[0], sets.items(), strict=True):
        for mode, m in group["retrieval"].items():
            ax.plot(range(1, DEPTH + 1), m["curve"], marker=".", label=mode)
        ax.set_title(name)
        ax.set_xlabel("k")
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel("hit@k")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "hit_at_k.png", dpi=110)
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for stage in ("retrieve", "answer", "total"):
        ax.hist(
            [r.timings_ms.get(stage, 0.0) for r in run.results], bins=50, alpha=0.5, label=stage
        )
    ax.set_xlabel("ms")
    ax.set_ylabel("questions")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "latency.png", dpi=110)
    plt.close("all")
