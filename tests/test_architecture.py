"""The layers hold (docs/architecture.md): import-linter's contracts in pyproject.toml for
the packages, and, for the top-level modules import-linter cannot take as roots, a reading
of every import (module level and inside functions)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cli", "web", "services", "mail", "documents", "jobs", "forms", "workflows", "models")
COMPOSITION_ROOT = ("app", "wiring", "tasks", "worker", "cli")
# The base every layer may use; it uses no layer above the models.
BASE = ("extensions", "config", "moments", "storage", "sqlite_writers")
ABOVE_THE_BASE = ("web", "services", "mail", "documents", "jobs", "forms", "workflows", "cli")


def imported_roots(path: Path) -> set[str]:
    """The first part of every absolute import in the file, wherever it stands."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_import_linter_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(  # noqa: S603 (the tool of requirements-dev.txt)
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_nothing_below_the_composition_root_imports_it():
    wrong = [
        f"{path.relative_to(ROOT)} imports {root}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for root in imported_roots(path) & set(COMPOSITION_ROOT)
        if root != package
    ]
    assert wrong == []


def test_the_base_modules_import_no_layer_above_the_models():
    wrong = [
        f"{name}.py imports {root}"
        for name in BASE
        for root in imported_roots(ROOT / f"{name}.py") & set(ABOVE_THE_BASE)
    ]
    assert wrong == []
