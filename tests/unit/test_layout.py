"""The package's rooms keep their doors and their floors, as docs/architecture.md draws them.

A leading underscore means private to its package; and a module imports only modules of its own
row of the rooms table, or of the rows above it (lazy and type-checking imports included).
"""

from __future__ import annotations

import ast
import re
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


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def internal_imports(path: Path) -> set[str]:
    """The package's modules that ``path`` imports anywhere (a name resolves to its module)."""
    found = set()
    for name in imported_modules(path):
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name.startswith("airflow_provider_apimart"):
            found.add(name)
    return found - {module_name(path)}


def rooms_table() -> list[list[str]]:
    """The first cell of each row of "The rooms", as the package's modules it names."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## The rooms", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        rows.append(re.findall(r"`([^`]+)`", cell))
    return rows


def row_of_each_module() -> dict[str, int]:
    rows = rooms_table()
    placed: dict[str, int] = {}
    for number, names in enumerate(rows):
        for written in names:
            dotted = "airflow_provider_apimart." + written.removesuffix("/").removesuffix(".py").replace(
                "/", "."
            )
            dotted = dotted.removesuffix(".__init__")
            members = [
                module
                for module in MODULES
                if module == dotted or (written.endswith("/") and module.startswith(f"{dotted}."))
            ]
            assert members, f"docs/architecture.md names {written!r}, which is not a module"
            for module in members:
                placed.setdefault(module, number)  # a module named on its own keeps that row
    for module in MODULES:  # a package's __init__ stands with the first of its modules
        if module not in placed and module != "airflow_provider_apimart":
            inside = [row for name, row in placed.items() if name.startswith(f"{module}.")]
            if inside:
                placed[module] = min(inside)
    return placed


def test_every_module_has_a_row_in_the_rooms_table() -> None:
    placed = row_of_each_module()
    assert sorted(set(MODULES) - set(placed)) == []


def test_a_module_imports_only_its_own_row_or_the_rows_above() -> None:
    placed = row_of_each_module()
    upward = [
        f"{module} (row {placed[module] + 1}) imports {target} (row {placed[target] + 1})"
        for module, path in sorted(MODULES.items())
        for target in sorted(internal_imports(path))
        if placed[target] > placed[module]
    ]
    assert upward == []
