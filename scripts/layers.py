"""The layering contract, checked over the import graph (`make lint`, tests/test_layering.py).

Every ``import`` and ``from … import`` in the project's Python files, at module level or inside
a function, is an edge from the importing module to the imported one. A rule forbids edges from
one set of modules to another; the only permitted exception is listed with its reason. A second
check finds imports of project modules or names that do not exist (what a move leaves behind in
scripts that no test imports). Reads files with ``ast``; imports nothing of the project, and
does not check third-party imports.
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


HARNESS = ("evaluation", "benchmarks", "scripts", "tests")
CONTRACT = (
    Rule("index", ("qa", "api", *HARNESS), "build time knows no query time"),
    Rule("qa", ("api", *HARNESS), "imports run api → qa → index"),
    Rule("prompts", ("qa", "index", "api", *HARNESS), "prompts are data"),
    Rule("api", HARNESS, "the service does not ship the harness"),
    Rule("index.text", ("index.embed", "index.store", "index.build"), "text in, text out"),
    Rule("index.docs", ("index.embed", "index.store", "index.build"), "files in, text out"),
    Rule("index.embed", ("index.store", "index.build"), "embedders know no storage"),
    Rule("index.store", ("index.embed", "index.build"), "storage knows no models"),
    Rule(
        "qa.retrieval",
        ("qa.answering", "qa.citations", "qa.service", "qa.runtime"),
        "finds, never answers, and is handed its models",
    ),
    Rule(
        "qa.citations",
        ("qa.answering", "qa.service", "qa.runtime"),
        "checks answers, whoever wrote them",
    ),
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


def _exempt(importer: str, imported: str) -> bool:
    # `from evaluation import cli` imports both "evaluation" and "evaluation.cli"
    return any(importer == a and (imported == b or _within(b, imported)) for a, b in EXCEPTIONS)


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
                        if _within(imported, target) and not _exempt(importer, imported):
                            rel = path.relative_to(root)
                            found.append(
                                f"{rel}: imports {imported} ({rule.source} ↛ {target}: {rule.why})"
                            )
    return sorted(set(found))


def module_path(module: str, root: Path = ROOT) -> Path | None:
    """The file that defines a project module, or None when there is none."""
    base = root.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def defined_names(path: Path) -> set[str]:
    """Names bound at a module's top level (defs, classes, assignments, imports)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def _resolves(name: str, root: Path) -> bool:
    if module_path(name, root):
        return True
    parent, _, attr = name.rpartition(".")
    path = module_path(parent, root) if parent else None
    return path is not None and attr in defined_names(path)


def unresolved(root: Path = ROOT) -> list[str]:
    """One line per import of a project module or name that does not exist."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            for name in sorted(imports(path, root)):
                if name.split(".")[0] in PACKAGES and not _resolves(name, root):
                    found.append(f"{path.relative_to(root)}: imports {name}, which does not exist")
    return found


def main() -> int:
    found = violations() + unresolved()
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(
            f"{len(found)} imports break the layering contract or name nothing (scripts/layers.py)",
            file=sys.stderr,
        )
        return 1
    print("layering contract holds: api → qa → index; only qa eval imports the harness")
    return 0


if __name__ == "__main__":
    sys.exit(main())
