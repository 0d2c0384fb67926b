"""The layering contract (scripts/layers.py) holds for the project and catches a breach."""

from __future__ import annotations

from pathlib import Path

from scripts import layers


def test_the_project_keeps_its_layering_contract():
    assert layers.violations() == []


def test_every_import_of_a_project_module_names_something_that_exists():
    assert layers.unresolved() == []


def test_every_rule_names_real_modules():
    for rule in layers.CONTRACT:
        assert layers.module_path(rule.source), rule
        for target in rule.forbidden:
            assert layers.module_path(target), (rule.source, target)
    for importer, imported in layers.EXCEPTIONS:
        assert layers.module_path(importer) and layers.module_path(imported)
        assert imported in layers.imports(layers.module_path(importer))  # still needed


def test_the_exemption_covers_exactly_the_qa_eval_command():
    assert layers._exempt("api.cli", "evaluation.cli")
    assert layers._exempt("api.cli", "evaluation")  # from evaluation import cli
    assert not layers._exempt("api.cli", "evaluation.report")
    assert not layers._exempt("api.app", "evaluation.cli")


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_forbidden_import_is_named_with_its_rule(tmp_path):
    root = _tree(
        tmp_path,
        {
            "index/__init__.py": "",
            "index/text/__init__.py": "",
            "index/text/clean.py": "def f():\n    from index.store import vectors\n",
            "index/store/__init__.py": "",
            "index/store/vectors.py": "from ..text import clean\n",
            "qa/__init__.py": "",
            "qa/service.py": "import api.app\n",
            "api/__init__.py": "",
            "api/cli.py": "from evaluation import cli\n",
            "api/admin.py": "from evaluation import report\n",
            "api/routes.py": "from evaluation.cli import report\n",
            "api/app.py": "import benchmarks.load\n",
        },
    )
    found = layers.violations(root)
    assert any(line.startswith("index/text/clean.py: imports index.store") for line in found)
    assert any(line.startswith("qa/service.py: imports api.app") for line in found)
    assert any(line.startswith("api/app.py: imports benchmarks.load") for line in found)
    assert not any("api/cli.py" in line for line in found)  # the qa eval exception
    assert not any("vectors.py" in line for line in found)  # store may read text
    assert {line.split(":")[0] for line in found} == {
        "index/text/clean.py",
        "qa/service.py",
        "api/app.py",
        "api/admin.py",
        "api/routes.py",
    }


def test_an_import_left_behind_by_a_move_is_found(tmp_path):
    root = _tree(
        tmp_path,
        {
            "qa/__init__.py": "",
            "qa/settings.py": "class Settings:\n    pass\nLIMIT: int = 3\n",
            "evaluation/__init__.py": "",
            "evaluation/data.py": "SEED = 1\n",
            "benchmarks/__init__.py": "",
            "benchmarks/b.py": (
                "from qa import eval_data\n"
                "from qa.settings import Settings, LIMIT, Gone\n"
                "from evaluation import data\n"
                "import index.nowhere\n"
                "import numpy\n"
            ),
        },
    )
    assert layers.unresolved(root) == [
        "benchmarks/b.py: imports index.nowhere, which does not exist",
        "benchmarks/b.py: imports qa.eval_data, which does not exist",
        "benchmarks/b.py: imports qa.settings.Gone, which does not exist",
    ]


def test_relative_imports_are_resolved(tmp_path):
    root = _tree(
        tmp_path,
        {"qa/retrieval/__init__.py": "", "qa/retrieval/x.py": "from ..answering import llm\n"},
    )
    assert layers.imports(root / "qa/retrieval/x.py", root) >= {"qa.answering", "qa.answering.llm"}
