"""A signed result URL's query is its credential: cut from httpx's log lines while a download runs."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

import httpx

from airflow_provider_apimart.http_basics import public_url

if TYPE_CHECKING:
    from collections.abc import Iterator


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
