"""A signed result URL's query is its credential: the one place that cuts it from names and log lines."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import httpx

if TYPE_CHECKING:
    from collections.abc import Iterator


def public_url(url: str) -> str:
    """The URL without query, fragment or user info: a signed URL's query is its credential."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


# httpx logs every request's whole URL at INFO ("HTTP Request: GET https://cdn/...?token=..."), and
# Airflow writes INFO to the task log every viewer of the DAG can read. While a download runs
# (a context variable, so other clients' lines are left alone), the query is cut from those lines.
_DOWNLOADING: ContextVar[bool] = ContextVar("apimart_downloading", default=False)


class _HideSignedQueries(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _DOWNLOADING.get() and isinstance(record.args, tuple):
            record.args = tuple(
                public_url(str(arg)) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


HIDE_SIGNED_QUERIES = _HideSignedQueries()


@contextmanager
def hidden_queries() -> Iterator[None]:
    token = _DOWNLOADING.set(True)
    try:
        yield
    finally:
        _DOWNLOADING.reset(token)
