"""Write docs/configuration.md from the settings class, so the page cannot drift from the code.

`python scripts/config_doc.py` (`make docs`) rewrites the page; `--check` exits 1 when the page
differs from what the settings class gives (tests/test_settings.py runs the same comparison).
One row per `Settings` field: variable, type and allowed values, default, and the field's own
description. Leaves out per-request options, which the OpenAPI schema documents.
"""

from __future__ import annotations

import argparse
import sys
import typing
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "configuration.md"
INTRO = """\
# Configuration

Every setting is an environment variable with the `QA_` prefix, read once by the `qa` command
line and by `create_app(settings)`; nothing below them reads the environment. The Makefile sets
`QA_INDEX_DIR` and `QA_MODEL_CACHE_DIR` to the defaults below. A value of the wrong type or
outside its range stops `qa` and the server at start-up with a message naming the setting.
List settings take a comma-separated text or a JSON list.

This page is generated from `qa/settings.py` by `make docs` (`scripts/config_doc.py`);
tests/test_settings.py fails when it is out of date.
"""


def _kind(field: FieldInfo) -> str:
    annotation = field.annotation
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if typing.get_origin(annotation) is list:
        kind = f"list of {args[0].__name__}"
    else:
        options = [a for a in args if a is not type(None)] or [annotation]
        kind = " or ".join(getattr(a, "__name__", str(a)) for a in options)
    kind = kind.replace("SecretStr", "secret").replace("Path", "path")
    bounds = []
    for rule in field.metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if getattr(rule, attr, None) is not None:
                bounds.append(f"{sign} {getattr(rule, attr):,}")
    return kind + (f" ({', '.join(bounds)})" if bounds else "")


def _default(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def render() -> str:
    rows = ["| variable | type | default | meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(
            f"| `QA_{name.upper()}` | {_kind(field)} | {_default(field.default)} | {meaning} |"
        )
    return INTRO + "\n" + "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the page is out of date; write nothing"
    )
    args = parser.parse_args(argv)
    page = render()
    if args.check:
        if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != page:
            print(f"{PAGE.relative_to(ROOT)} is out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}: {len(Settings.model_fields)} settings")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
