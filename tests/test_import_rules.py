"""The import contract: imports run one way, ``cli``/``web`` -> ``projections`` -> ``ledger``.

Every module's AST is walked, so imports inside functions and under ``TYPE_CHECKING`` count
as much as those at the top: a lazy import back up the stack is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN: dict[str, frozenset[str]] = {
    "ledger": frozenset({"projections", "cli", "web"}),
    "projections": frozenset({"cli", "web"}),
}
"""For each package, the top-level packages it must never import."""


def imported_packages(source: str, module: str) -> set[tuple[int, str]]:
    """(line, top-level package) of every import in ``source``, wherever it stands."""
    found: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {(node.lineno, alias.name.split(".")[0]) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = module.split(".")[: -node.level]
                name = ".".join([*base, node.module or ""]).strip(".")
            else:
                name = node.module or ""
            found.add((node.lineno, name.split(".")[0]))
    return found


def violations(root: Path) -> list[str]:
    broken = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((root / package).rglob("*.py")):
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            for line, imported in sorted(imported_packages(path.read_text("utf-8"), module)):
                if imported in forbidden:
                    broken.append(f"{path.relative_to(root)}:{line} imports {imported}")
    return broken


def test_ledger_and_projections_never_import_up_the_stack() -> None:
    assert violations(ROOT) == []


def test_every_package_the_rules_name_is_walked() -> None:
    """An empty walk would pass the test above without checking anything."""
    for package in FORBIDDEN:
        assert len(list((ROOT / package).rglob("*.py"))) > 3, package


@pytest.mark.parametrize(
    ("package", "statement"),
    [
        ("ledger", "from projections.views import Views"),
        ("ledger", "import cli.main"),
        ("ledger", "import web"),
        ("projections", "from cli import render"),
        ("projections", "from web.app import app"),
    ],
)
def test_an_import_up_the_stack_is_caught_even_lazy_or_type_only(
    tmp_path: Path, package: str, statement: str
) -> None:
    tree = tmp_path / package / "sub"
    tree.mkdir(parents=True)
    (tree / "__init__.py").write_text("")
    (tree / "top.py").write_text(f"{statement}\n")
    (tree / "lazy.py").write_text(f"def f() -> None:\n    {statement}\n")
    (tree / "typed.py").write_text(
        f"from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    {statement}\n"
    )
    (tree / "relative.py").write_text("from .. import errors\nfrom . import top\n")
    assert [v.split(" imports ")[0] for v in violations(tmp_path)] == [
        f"{package}/sub/lazy.py:2",
        f"{package}/sub/top.py:1",
        f"{package}/sub/typed.py:3",
    ]


def test_cli_may_import_projections_and_ledger(tmp_path: Path) -> None:
    (tmp_path / "ledger").mkdir()
    (tmp_path / "projections").mkdir()
    (tmp_path / "cli").mkdir()
    (tmp_path / "projections" / "q.py").write_text("import ledger.store\n")
    (tmp_path / "cli" / "m.py").write_text("import projections.q\nimport ledger\n")
    assert violations(tmp_path) == []
