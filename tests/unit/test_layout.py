"""The package's rooms keep their doors: a leading underscore means private to its package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "airflow_provider_apimart"
#: Code that imports the package as a user would: the benchmarks, the scripts, the example DAGs.
OUTSIDE = [ROOT / "benchmarks", ROOT / "scripts", ROOT / "example_dags"]


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def private_parts(module: str) -> list[tuple[str, str]]:
    """(package, private module) for each ``_name`` below the package in a dotted module name."""
    parts = module.split(".")
    if parts[0] != "airflow_provider_apimart":
        return []
    return [
        (".".join(parts[:index]), part)
        for index, part in enumerate(parts)
        if part.startswith("_") and not part.startswith("__")
    ]


def sources() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    for folder in OUTSIDE:
        files.extend(sorted(folder.rglob("*.py")))
    return files


@pytest.mark.parametrize("path", sources(), ids=lambda path: str(path.relative_to(ROOT)))
def test_a_private_module_is_imported_only_inside_its_own_package(path: Path) -> None:
    relative = path.relative_to(ROOT).with_suffix("")
    importer = ".".join(relative.parts)
    trespasses = [
        module
        for module in imported_modules(path)
        for package, _private in private_parts(module)
        if not importer.startswith(f"{package}.")
    ]
    assert trespasses == [], f"{importer} imports private modules of other packages: {trespasses}"
