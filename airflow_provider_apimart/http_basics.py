"""What every HTTP client of the provider shares: who it says it is, its TLS context, and how a
URL is named in logs and records (never with its query: a signed URL's query is its credential).

The API's client (the hook) and the download client (result videos, on another host and without
the key) both use these, so they agree on all three.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_apimart import __version__

if TYPE_CHECKING:
    import ssl

USER_AGENT = f"airflow-provider-apimart/{__version__}"


@cache
def shared_ssl_context() -> ssl.SSLContext:
    """One SSL context per process: each new one costs ~40 ms of CPU and ~700 KB (docs/performance.md)."""
    import httpx  # here: the asset and link code that names URLs needs no HTTP client

    return httpx.create_ssl_context()


def public_url(url: str) -> str:
    """The URL without query, fragment or user info: what a log line, a record or an asset may name."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
