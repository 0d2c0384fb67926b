"""The layering contract (scripts/layers.py) holds for the project and catches a breach."""

from __future__ import annotations

from pathlib import Path

from scripts import layers


def test_the_project_keeps_its_layering_contract():
    assert layers.violations() == []


def test_the_qa_eval_command_is_the_one_exempt_import_of_the_harness():
    assert "evaluation.cli" in layers.imports(layers.ROOT / "api" / "cli.py")


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
    }


def test_relative_imports_are_resolved(tmp_path):
    root = _tree(
        tmp_path,
        {"qa/retrieval/__init__.py": "", "qa/retrieval/x.py": "from ..answering import llm\n"},
    )
    assert layers.imports(root / "qa/retrieval/x.py", root) >= {"qa.answering", "qa.answering.llm"}
