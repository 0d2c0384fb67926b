"""The layering contract, checked over the import graph (`make lint`, tests/test_layering.py).

Every ``import`` and ``from … import`` in the project's Python files, at module level or inside
a function, is an edge from the importing module to the imported one. A rule forbids edges from
one set of modules to another; the only permitted exceptions are listed with their reason.
Reads files with ``ast``; imports nothing of the project.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "qa", "index", "prompts", "evaluation", "benchmarks", "scripts", "tests")


@dataclass(frozen=True)
class Rule:
    source: str  # a module prefix: "index" covers index and index.*
    forbidden: tuple[str, ...]
    why: str


CONTRACT = (
    Rule("index", ("qa", "api", "evaluation", "benchmarks"), "build time knows no query time"),
    Rule("qa", ("api", "evaluation", "benchmarks"), "imports run api → qa → index"),
    Rule("prompts", ("qa", "index", "api", "evaluation", "benchmarks"), "prompts are data"),
    Rule("api", ("evaluation", "benchmarks"), "the service does not ship the harness"),
    Rule("index.text", ("index.embed", "index.store", "index.build"), "text in, text out"),
    Rule("index.embed", ("index.store", "index.build"), "embedders know no storage"),
    Rule("index.store", ("index.embed", "index.build"), "storage knows no models"),
    Rule("qa.retrieval", ("qa.answering", "qa.citations", "qa.service"), "finds, never answers"),
    Rule("qa.citations", ("qa.answering", "qa.service"), "checks answers, whoever wrote them"),
)
# (importer, imported): the `qa eval` command is the one place where the harness is started.
EXCEPTIONS = {("api.cli", "evaluation.cli")}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = ROOT) -> set[str]:
    """Every module this file imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(root: Path = ROOT) -> list[str]:
    """One line per forbidden edge, naming the file, the import and the rule."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            importer = module_name(path, root)
            for imported in sorted(imports(path, root)):
                for rule in CONTRACT:
                    if not _within(importer, rule.source):
                        continue
                    for target in rule.forbidden:
                        exempt = any(
                            importer == a and (_within(imported, b) or _within(b, imported))
                            for a, b in EXCEPTIONS
                        )
                        if _within(imported, target) and not exempt:
                            rel = path.relative_to(root)
                            found.append(
                                f"{rel}: imports {imported} ({rule.source} ↛ {target}: {rule.why})"
                            )
    return sorted(set(found))


def main() -> int:
    found = violations()
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(
            f"{len(found)} imports break the layering contract (scripts/layers.py)", file=sys.stderr
        )
        return 1
    print("layering contract holds: api → qa → index; only qa eval imports the harness")
    return 0


if __name__ == "__main__":
    sys.exit(main())
