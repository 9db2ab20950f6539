"""What is known at DAG parse: a value with no Jinja in it and no XComArg or other lazy object.

A DAG parse checks such values at once (a request, an ``output_path``), so a mistake is an
import error of the DAG, not a paid render that fails afterwards.
"""

from __future__ import annotations

from typing import Any


def is_literal(value: Any) -> bool:
    """Whether ``value`` is plain data with no template in it (recursively, in lists and dicts)."""
    if value is None or isinstance(value, bool | int | float):
        return True
    if isinstance(value, str):
        return "{{" not in value and "{%" not in value
    if isinstance(value, list | tuple):
        return all(is_literal(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and is_literal(item) for key, item in value.items())
    return False
