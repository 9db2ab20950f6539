"""What an ``output_path`` may look like, decided without importing storage (a DAG parse uses it)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit


def relative_path_problem(output_path: str) -> str | None:
    """Why ``output_path`` is not absolute, or None: a relative folder would depend on the
    worker's working directory (``file://videos`` too)."""
    raw = str(output_path).strip()
    if "://" not in raw:
        return None if os.path.isabs(raw) else _advice(output_path)
    parts = urlsplit(raw)
    if parts.scheme == "file" and (parts.netloc not in ("", "localhost") or not parts.path.startswith("/")):
        return _advice(output_path)
    return None


def is_literal(value: str) -> bool:
    """No Jinja in it: known at DAG parse."""
    return "{{" not in value and "{%" not in value


def _advice(output_path: str) -> str:
    return (
        f"output_path {output_path!r} is not absolute: give an absolute local path (/data/videos), "
        "a file:// URI (file:///data/videos) or an object storage URI (s3://conn_id@bucket/prefix). "
        "A relative path would depend on the worker's working directory."
    )
