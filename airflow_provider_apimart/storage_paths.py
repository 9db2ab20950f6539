"""Where a video is kept or an image is read: a location as the user writes it, made a storage path.

One reading for both: an absolute local path and a ``file://`` URI become a normalised
``file://`` path, any other URI is an Airflow ObjectStoragePath as given (``s3://conn_id@bucket``),
and a relative location is refused (it would depend on the worker's working directory). What a
DAG parse needs (:func:`relative_path_problem`) imports no storage code.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from airflow_provider_apimart.exceptions import ApimartConfigurationError

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath


def relative_path_problem(location: str, *, what: str = "output_path") -> str | None:
    """Why ``location`` is not absolute, or None (``file://videos`` is relative too)."""
    raw = str(location).strip()
    if "://" not in raw:
        return None if os.path.isabs(raw) else _advice(location, what)
    parts = urlsplit(raw)
    if parts.scheme == "file" and (parts.netloc not in ("", "localhost") or not parts.path.startswith("/")):
        return _advice(location, what)
    return None


def storage_path(location: str, *, what: str = "output_path") -> ObjectStoragePath:
    """``location`` as an ObjectStoragePath, its filesystem resolved now (before anything is paid
    for or read: Airflow 3.1 would defer an unknown scheme's error to the first use).

    :raises ApimartConfigurationError: ``location`` is relative.
    :raises ValueError: no filesystem is registered for the scheme (ImportError: its package is missing).
    """
    from airflow.sdk import ObjectStoragePath  # here: DAG files import this module at parse time

    problem = relative_path_problem(location, what=what)
    if problem is not None:
        raise ApimartConfigurationError(problem)
    raw = str(location).strip()
    parts = urlsplit(raw) if "://" in raw else None
    if parts is None or parts.scheme == "file":
        path = ObjectStoragePath("file://" + os.path.normpath(parts.path if parts else raw))
    else:
        path = ObjectStoragePath(raw)
    path.fs  # noqa: B018 - resolve the filesystem now
    return path


def _advice(location: str, what: str) -> str:
    return (
        f"{what} {location!r} is not absolute: give an absolute local path (/data/videos), "
        "a file:// URI (file:///data/videos) or an object storage URI (s3://conn_id@bucket/prefix). "
        "A relative path would depend on the worker's working directory."
    )
