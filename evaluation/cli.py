"""The ``qa eval`` command: its options, and the run that measures retrieval and answers.

``api.cli`` adds this command to ``qa`` through `add_parser`; importing this module is light
(the harness and the models load when the command runs).

With ``--llm URL`` it measures generated answers instead (``evaluation.llm_eval``).

Leaves out: the measuring itself (``evaluation.evaluate``, ``evaluation.llm_eval``) and the
reports (``evaluation.report``, ``evaluation.llm_report``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from qa.settings import Settings


def add_parser(sub: Any) -> None:
    """Add ``eval`` to the ``qa`` subcommands (``sub`` is argparse's subparsers action)."""
    p = sub.add_parser("eval", help="measure retrieval and answers on public question sets")
    p.add_argument("--data", type=Path, required=True, help="folder of *.dev.*.jsonl sets")
    p.add_argument("--sets", default=None, help="comma-separated set names (default: all)")
    p.add_argument("--limit", type=int, default=None, help="questions sampled per set")
    p.add_argument(
        "--pool",
        type=int,
        default=None,
        help="index only the gold passages plus a sample, N passages in all",
    )
    p.add_argument("--unanswerable", type=int, default=200, help="questions tested without gold")
    p.add_argument("--out", type=Path, default=Path("var/eval/report"))
    p.add_argument("--cache", type=Path, default=Path("var/eval/cache"))
    p.add_argument("--no-plots", action="store_true")
    p.add_argument(
        "--chunk-tokens",
        default=None,
        help="also measure hybrid retrieval with the pool re-indexed at each of these "
        "comma-separated chunk sizes (e.g. 128,256,384; each index cached)",
    )
    p.add_argument(
        "--min-hit5",
        type=float,
        default=None,
        help="exit 1 if any set's hybrid hit@5 is below this floor",
    )
    p.add_argument(
        "--llm",
        default=None,
        metavar="URL",
        help="measure generated answers from the OpenAI-compatible server at URL instead "
        "(a seeded sample of --llm-limit questions per set; see docs/llm.md)",
    )
    p.add_argument("--llm-model", default="local", help="model name sent to the --llm server")
    p.add_argument("--llm-limit", type=int, default=50, help="questions per set with --llm")
    p.add_argument(
        "--llm-timeout", type=float, default=300.0, help="seconds per LLM request with --llm"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Index the pooled corpus (cached), answer every question, write and print the report."""
    from evaluation import data as eval_data
    from evaluation import evaluate
    from evaluation import report as eval_report
    from qa.retrieval.crosslingual import Dictionary
    from qa.runtime import load_embedder

    sets = [s.strip() for s in args.sets.split(",") if s.strip()] if args.sets else None
    if args.llm:
        return run_llm(args, settings, sets)
    sizes = tuple(dict.fromkeys(int(x) for x in (args.chunk_tokens or "").split(",") if x.strip()))
    for size in sizes:  # the same bounds as QA_CHUNK_TOKENS (and QA_CHUNK_OVERLAP below half)
        settings.model_validate(settings.model_dump() | {"chunk_tokens": size})
    data = eval_data.load(args.data, sets, args.limit, args.pool)
    result = evaluate.run(
        settings,
        data,
        load_embedder(settings, batch=True),
        Dictionary.load(),
        cache_dir=args.cache,
        unanswerable=args.unanswerable,
        chunk_tokens=sizes,
    )
    summary = eval_report.write(result, args.out, plots=not args.no_plots)
    print(eval_report.markdown(summary))
    print(f"report: {args.out / 'report.md'}, {args.out / 'report.json'}")
    if args.min_hit5 is not None:
        low = {
            name: g["retrieval"]["hybrid"]["hit@5"]
            for name, g in summary["sets"].items()
            if g["retrieval"]["hybrid"]["hit@5"] < args.min_hit5
        }
        if low:
            print(f"error: hit@5 below the floor {args.min_hit5}: {low}", file=sys.stderr)
            return 1
    return 0


def run_llm(args: argparse.Namespace, settings: Settings, sets: list[str] | None) -> int:
    """``qa eval --llm URL``: generated answers on ``--llm-limit`` questions per set."""
    from evaluation import data as eval_data
    from evaluation import llm_eval, llm_report
    from qa.retrieval.crosslingual import Dictionary
    from qa.runtime import load_embedder

    settings = llm_eval.llm_settings(settings, args.llm, args.llm_model, args.llm_timeout)
    data = eval_data.load(args.data, sets, args.llm_limit, args.pool)
    results = llm_eval.run(
        settings,
        data,
        load_embedder(settings, batch=True),
        Dictionary.load(),
        cache_dir=args.cache,
        out_dir=args.out,
    )
    print(llm_report.markdown(llm_report.summarise(results), settings))
    print(f"report: {args.out / 'report.md'}, {args.out / 'report.json'}")
    return 0
