"""Durable outputs: result videos copied to ``output_path`` before their URLs expire.

The names below load ``outputs.store`` (and httpx) on first use, so that a DAG parse, which checks
a literal ``output_path`` with ``storage_paths``, loads none of it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_apimart.outputs.store import DOWNLOAD_ATTEMPTS, StoredVideo, store_videos

__all__ = ["DOWNLOAD_ATTEMPTS", "StoredVideo", "store_videos"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        value = getattr(import_module(f"{__name__}.store"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
