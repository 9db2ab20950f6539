"""The README's Python examples stay valid: each DAG example builds without errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
DAG_EXAMPLES = [block for block in BLOCKS if "from airflow.sdk import dag" in block]


def test_the_readme_has_a_dag_example() -> None:
    assert DAG_EXAMPLES


@pytest.mark.parametrize("source", BLOCKS)
def test_every_python_block_compiles(source: str) -> None:
    compile(source, str(README), "exec")


@pytest.mark.parametrize("source", DAG_EXAMPLES)
def test_every_dag_example_builds_its_dag(source: str) -> None:
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(source, str(README), "exec"), namespace)  # noqa: S102 - our own README


OPERATOR_SNIPPETS = [block for block in BLOCKS if "Operator(" in block and block not in DAG_EXAMPLES]


@pytest.mark.parametrize("source", OPERATOR_SNIPPETS)
def test_every_operator_snippet_passes_its_models_rules(source: str) -> None:
    from airflow_provider_apimart.operators import video

    namespace: dict[str, object] = {
        name: getattr(video, name) for name in dir(video) if name.startswith("Apimart")
    }
    exec(compile(source, str(README), "exec"), namespace)  # noqa: S102 - our own README
