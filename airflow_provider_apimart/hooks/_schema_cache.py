"""Model schemas kept per process for a while: a fan-out's tasks in one worker read each once.

Keyed by base URL, model and operation; an entry older than the caller's ``max_age`` is read
again, and a failed read is never kept (the next submit asks APIMart again).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_apimart.models.schemas import ModelSchema

#: Seconds a model's schema is reused before it is read again (``[apimart] model_schema_max_age``).
DEFAULT_SCHEMA_MAX_AGE = 3600.0

_lock = threading.Lock()
_kept: dict[tuple[str, str, str], tuple[float, ModelSchema]] = {}


def cached_schema(key: tuple[str, str, str], max_age: float, read: Callable[[], ModelSchema]) -> ModelSchema:
    """The schema kept under ``key`` if younger than ``max_age`` seconds, else ``read()`` (kept)."""
    now = time.monotonic()
    with _lock:
        kept = _kept.get(key)
    if kept is not None and now - kept[0] < max_age:
        return kept[1]
    schema = read()
    with _lock:
        _kept[key] = (time.monotonic(), schema)
    return schema


def forget_schemas() -> None:
    """Drop every kept schema (tests; a process that knows the catalogue changed)."""
    with _lock:
        _kept.clear()
