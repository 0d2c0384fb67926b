"""The ``qa`` command line: ingest, clean, ask, documents, remove, eval, serve, feedback, keys.

Each command reads `Settings` (``QA_*`` variables) once and passes plain
values down.  Output is readable text by default and JSON with ``--json``.
Errors print one clear line to stderr and exit with status 1 (2 for usage);
an ingest where some files failed exits 1 after the rest landed.

Leaves out: the logic behind each command (``index``, ``qa``) and the ``eval`` command, which
the evaluation harness defines (``evaluation.cli``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from evaluation import cli as eval_cli  # the one import of the harness (scripts/layers.py)
from index.docs.model import Extracted, page_at
from index.embed.embedder import Embedder
from index.errors import ArticleQAError
from qa.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
        return int(args.run(args, settings) or 0)
    except ArticleQAError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except ValueError as exc:  # invalid QA_* settings
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    p = sub.add_parser(
        "ingest",
        help="add or update documents: .txt, .md, .html, .pdf, .docx and images; files or folders",
        description="Add or update documents in the index. Takes files and folders of .txt, "
        ".md and .html articles, PDF (.pdf), Word (.docx) and images (.png .jpg .jpeg .tif "
        ".tiff .bmp .webp; read by OCR, as are scanned PDF pages).",
    )
    p.add_argument("paths", nargs="+", type=Path, help="files, or folders to read them from")
    p.add_argument("--rebuild", action="store_true", help="re-index from scratch")
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="embed on Ray first: `local` (default) starts Ray here, or a cluster address",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_ingest)
    p = sub.add_parser(
        "clean",
        help="print a document's cleaned text and metadata (page by page where it has pages)",
        description="Print one file's metadata and the cleaned text that would be indexed, "
        "without indexing it; a PDF, Word or image file is printed page by page "
        "under a `p. N` heading, with its warnings and the pages read by OCR.",
    )
    p.add_argument("file", type=Path, help="a .txt, .md, .html, .pdf, .docx or image file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_clean)
    p = sub.add_parser("ask", help="answer a question from the indexed documents")
    p.add_argument("question")
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_ask)
    p = sub.add_parser("documents", help="list the indexed documents")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_documents)
    p = sub.add_parser("remove", help="remove documents by document id")
    p.add_argument("doc_ids", nargs="+")
    p.set_defaults(run=_remove)
    _feedback_parser(sub)
    keys = sub.add_parser("keys", help="make API keys")
    k = keys.add_subparsers(required=True, metavar="ACTION").add_parser(
        "new", help="print a new secret once, and its hashed settings entry"
    )
    k.add_argument("name", help="the key's name, shown in logs and feedback (e.g. hr-portal)")
    k.set_defaults(run=_keys_new)
    eval_cli.add_parser(sub)
    p = sub.add_parser("serve", help="serve the HTTP API")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="worker processes, each loading the model; they share the index's "
        "memory-mapped vectors (default 1)",
    )
    p.set_defaults(run=_serve)
    return parser


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from index.build import ingest
    from qa.runtime import load_aux_embedder, load_embedder

    if args.ray:
        _embed_on_ray(args, settings)
    embedder, aux = load_embedder(settings, batch=True), load_aux_embedder(settings)
    with tqdm(total=0, unit="chunk", desc="embedding", disable=args.json) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        report = ingest(
            settings.index_destination,
            args.paths,
            embedder,
            settings.chunk_params,
            rebuild=args.rebuild,
            progress=progress,
            ann=settings.ann_params,
            aux=aux,
            cache_dir=settings.embed_cache_dir,
            workers=settings.ingest_workers(),
            originals=settings.originals_dir,
        )
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False, indent=2))
    else:
        rate = report.chunks_embedded / report.seconds if report.seconds else 0.0
        print(
            f"added {len(report.added)}, replaced {len(report.replaced)}, "
            f"unchanged {len(report.unchanged)}, failed {len(report.failed)}; "
            f"{report.chunks_embedded} chunks embedded in {report.seconds:.1f} s "
            f"({rate:.1f} chunks/s); index version: {report.version or 'unchanged'}"
        )
        for _path, reason in report.failed:
            print(f"  failed: {reason}", file=sys.stderr)
        for _path, reason in report.warnings:
            print(f"  warning: {reason}", file=sys.stderr)
    return 1 if report.failed else 0


def _embed_on_ray(args: argparse.Namespace, settings: Settings) -> None:
    """Fill the embedding cache on Ray; the ingest that follows reads every vector from it."""
    import functools
    import logging

    from index.bulk import Eta, Factory, embed_on_ray
    from index.errors import ArticleQAError
    from index.text.sources import discover
    from qa.runtime import current_documents, load_embedder

    files = []
    for path in args.paths:
        with contextlib.suppress(ArticleQAError):  # the ingest reports a bad path itself
            files += discover([path])
    known = {} if args.rebuild else {d.doc_id: d.content_hash for d in current_documents(settings)}
    use = settings.crosslingual_encoder != "none"
    aux: Factory | None = functools.partial(_aux_or_fail, settings) if use else None
    logging.getLogger("ray").setLevel(logging.WARNING)
    eta = Eta()
    main: Factory = functools.partial(load_embedder, settings, batch=True)
    chunks = embed_on_ray(
        files,
        (main, aux),
        settings.chunk_params,
        settings.embed_cache_dir,
        address=args.ray,
        actors=settings.ray_actors,
        batch_docs=settings.ray_batch_docs,
        known=known,
        progress=None if args.json else lambda d, t, c: print(eta.line(d, t, c), file=sys.stderr),
    )
    if not args.json:
        print(f"ray: {chunks} chunks embedded or found in the cache", file=sys.stderr)


def _aux_or_fail(settings: Settings) -> Embedder:
    from qa.runtime import load_aux_embedder

    aux = load_aux_embedder(settings)
    assert aux is not None  # only asked for when the setting names an encoder
    return aux


def _clean(args: argparse.Namespace, settings: Settings) -> int:
    from index.text.clean import clean_document, to_dict
    from index.text.sources import read_source

    source = read_source(args.file)
    if source.extracted is not None:
        return _show_extracted(source.extracted, args.json)
    doc = clean_document(source.text, fmt=source.fmt, source_name=args.file.name)
    if args.json:
        print(json.dumps(to_dict(doc), ensure_ascii=False, indent=2))
        return 0
    for key in ("title", "date", "outlet", "origin", "author"):
        print(f"{key}: {getattr(doc, key) or '-'}")
    print(f"removed: {doc.removed}\n")
    print(doc.text)
    return 0


def _show_extracted(doc: Extracted, as_json: bool) -> int:
    """A PDF, Word or image file as extracted: metadata, pages, warnings, then the text."""
    if as_json:
        print(json.dumps(asdict(doc), ensure_ascii=False, indent=2))
        return 0
    for key in ("fmt", "title", "date", "issuer", "author", "pages"):
        print(f"{key}: {getattr(doc, key) or '-'}")
    print(f"boilerplate characters removed: {doc.boilerplate_chars}")
    if doc.ocr_pages:
        print(f"pages read by OCR: {', '.join(map(str, doc.ocr_pages))}")
    for warning in doc.warnings:
        print(f"warning: {warning}")
    print()
    last = None
    for offset, paragraph in _paragraph_offsets(doc.text):
        page = page_at(doc.page_starts, offset)
        if page != last and page is not None:
            print(f"--- p. {page} ---")
            last = page
        print(paragraph + "\n")
    return 0


def _paragraph_offsets(text: str) -> list[tuple[int, str]]:
    out, offset = [], 0
    for paragraph in text.split("\n\n"):
        out.append((offset, paragraph))
        offset += len(paragraph) + 2
    return out


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from api.convert import pages_label
    from qa.runtime import build_service

    answer = build_service(settings).ask(args.question, args.top_k)
    if args.json:
        print(json.dumps(asdict(answer), ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    for c in answer.citations:
        page = pages_label(c.page, c.page_end)
        where = " · ".join(x for x in (c.title, c.date, c.outlet, page) if x)
        print(f"\n[{c.n}] {where}\n    {c.doc_id} chars {c.start}-{c.end}: {c.quote}")
    print(f"\n({answer.language}, {answer.timings_ms['total']:.0f} ms)")
    return 0


def _documents(args: argparse.Namespace, settings: Settings) -> int:
    from qa.runtime import open_current

    index = open_current(settings)
    rows = [
        {**asdict(d), "chunks": index.chunk_counts.get(d.doc_id, 0)}
        for d in index.documents.values()
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        print(f"{row['doc_id']}\t{row['date'] or '-'}\t{row['chunks']} chunks\t{row['title']}")
    return 0


def _remove(args: argparse.Namespace, settings: Settings) -> int:
    from index.build import remove

    report = remove(settings.index_destination, args.doc_ids, settings.originals_dir)
    print(f"removed {', '.join(report.removed)}; index version {report.version}")
    return 0


def _keys_new(args: argparse.Namespace, settings: Settings) -> int:
    from api.access import new_key

    secret, entry = new_key(args.name)
    print(f"secret  {secret}")
    print(f"entry   {entry}")
    print(
        "Give the secret to the client (it is not stored anywhere); add the entry to "
        "QA_API_KEYS, QA_ADMIN_KEYS, or, with @origins appended, QA_WIDGET_KEYS.",
        file=sys.stderr,
    )
    return 0


def _feedback_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("feedback", help="list or export the feedback given on answers")
    actions = p.add_subparsers(required=True, metavar="ACTION")
    for name, run, help in (
        ("list", _feedback_list, "print feedback, newest first"),
        ("export", _feedback_export, "write feedback as JSON lines, oldest first"),
    ):
        p = actions.add_parser(name, help=help)
        p.add_argument("--since", type=_utc_time, default=None, help="ISO date or time (UTC)")
        p.add_argument("--rating", choices=("up", "down"), default=None)
        if name == "list":
            p.add_argument("--limit", type=int, default=None, help="newest N only")
            p.add_argument("--json", action="store_true", help="one JSON object per line")
        else:
            p.add_argument("--out", type=Path, required=True, help="FILE.jsonl")
        p.set_defaults(run=run)


_FEEDBACK_ROW = "{:<24}  {:<6}  {:<36}  {:<12}  {}"


def _utc_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {text!r}") from None


def _feedback_list(args: argparse.Namespace, settings: Settings) -> int:
    from qa.feedback import FeedbackStore

    store = FeedbackStore(settings.feedback_path, create=False)
    records = store.list(since=args.since, limit=args.limit, rating=args.rating)
    if args.json:
        for record in records:
            print(json.dumps(asdict(record), ensure_ascii=False))
        return 0
    print(_FEEDBACK_ROW.format("created_at (UTC)", "rating", "answer_id", "client", "comment"))
    for r in records:
        comment = " ".join((r.comment or "-").split())
        comment = comment if len(comment) <= 60 else comment[:59] + "…"
        print(_FEEDBACK_ROW.format(r.created_at, r.rating, r.answer_id, r.client or "-", comment))
        if r.question:
            print(f"{'':<24}  question: {' '.join(r.question.split())[:80]}")
    up, down = (store.count(args.since, rating) for rating in ("up", "down"))
    total = {"up": up, "down": down}.get(args.rating, up + down)
    print(f"\n{len(records)} of {total} shown; {up} up, {down} down ({settings.feedback_path})")
    return 0


def _feedback_export(args: argparse.Namespace, settings: Settings) -> int:
    from qa.feedback import FeedbackStore

    records = FeedbackStore(settings.feedback_path, create=False).list(
        args.since, None, args.rating
    )
    with args.out.open("w", encoding="utf-8") as out:
        for record in reversed(records):
            out.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
    print(f"exported {len(records)} feedback records to {args.out}")
    return 0


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import os
    import shutil
    import tempfile

    import uvicorn

    from api.observability import log_config

    metrics_dir = None
    if args.workers > 1:  # every worker records into this folder; /metrics sums them
        metrics_dir = tempfile.mkdtemp(prefix="qa-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        # An import string and a factory, so that each worker process builds its own app
        # (create_app() reads the same QA_* settings from the environment).
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            workers=args.workers,
            host=args.host or settings.host,
            port=args.port or settings.port,
            log_level=settings.log_level,
            log_config=log_config(settings.log_level, settings.log_format),
            access_log=False,  # article_qa.access writes one line per request instead
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
