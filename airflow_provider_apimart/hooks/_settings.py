"""From an Airflow connection to the settings an httpx client needs, checked once.

The API key lives only in :class:`ClientSettings` (hidden from its repr) and in the
:class:`BearerAuth` that puts it on the wire (hidden from its repr too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import httpx

from airflow_provider_apimart import __version__
from airflow_provider_apimart.exceptions import ApimartConfigurationError

if TYPE_CHECKING:
    import ssl
    from collections.abc import Generator

    from airflow.sdk import Connection

DEFAULT_BASE_URL = "https://api.apimart.ai"
USER_AGENT = f"airflow-provider-apimart/{__version__}"

#: Seconds to wait for one HTTP answer (connection extra ``timeout``). Status and submit calls
#: answer quickly; video rendering happens between polls, not inside a request.
DEFAULT_TIMEOUT = 30.0
#: Connecting should be fast; a host that does not answer in 10 s is unreachable.
MAX_CONNECT_TIMEOUT = 10.0
#: Retries of one call after the first try (connection extra ``max_retries``).
DEFAULT_MAX_RETRIES = 3
MAX_RETRIES_LIMIT = 10


@dataclass(frozen=True)
class ClientSettings:
    """Everything needed to talk to APIMart for one Airflow connection."""

    conn_id: str
    base_url: str
    api_key: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES

    @property
    def httpx_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, connect=min(self.timeout, MAX_CONNECT_TIMEOUT))


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <key>`` on every request, with a repr that never shows the key."""

    def __init__(self, api_key: str) -> None:
        self._header_value = f"Bearer {api_key}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header_value
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(api_key=***)"


@cache
def shared_ssl_context() -> ssl.SSLContext:
    """One SSL context per process: each new one costs ~40 ms of CPU and ~700 KB (PERFORMANCE.md)."""
    return httpx.create_ssl_context()


def settings_from_connection(
    conn: Connection, *, timeout: float | None = None, max_retries: int | None = None
) -> ClientSettings:
    """Read and check a connection; explicit ``timeout``/``max_retries`` win over its extras."""
    if not conn.password:
        raise ApimartConfigurationError(
            f"Connection {conn.conn_id!r} has no API key: put the APIMart key in its password field "
            "(labelled 'API Key' in the UI)."
        )
    extras = _read_extras(conn)
    return ClientSettings(
        conn_id=conn.conn_id,
        base_url=base_url_from(conn.host, conn.port, conn_id=conn.conn_id),
        api_key=conn.password,
        timeout=_positive_number(conn.conn_id, "timeout", timeout, extras.get("timeout"), DEFAULT_TIMEOUT),
        max_retries=_retry_count(conn.conn_id, max_retries, extras.get("max_retries")),
    )


def _read_extras(conn: Connection) -> dict[str, Any]:
    # Parsed here rather than through extra_dejson: the async path must not call Airflow's sync
    # secret masker from the triggerer's event loop, and these fields hold no secrets.
    if not conn.extra:
        return {}
    try:
        extras = json.loads(conn.extra)
    except json.JSONDecodeError as error:
        raise ApimartConfigurationError(
            f"Connection {conn.conn_id!r}: extra is not valid JSON ({error})."
        ) from None
    if not isinstance(extras, dict):
        raise ApimartConfigurationError(f"Connection {conn.conn_id!r}: extra must be a JSON object.")
    return extras


def base_url_from(host: str | None, port: int | None, *, conn_id: str) -> str:
    """The connection's host as a base URL: a full URL, or a bare host that gets https://.

    A trailing ``/v1`` is dropped, since every API path already starts with it.
    """
    if not host or not host.strip():
        return DEFAULT_BASE_URL
    raw = host.strip()
    if "://" not in raw:
        raw = f"https://{raw}"
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL as error:
        raise ApimartConfigurationError(
            f"Connection {conn_id!r}: host {host!r} is not a URL ({error})."
        ) from None
    if url.scheme not in {"http", "https"} or not url.host:
        raise ApimartConfigurationError(
            f"Connection {conn_id!r}: host {host!r} must be an http(s) base URL such as {DEFAULT_BASE_URL}."
        )
    if port and url.port is None:
        url = url.copy_with(port=port)
    base_url = str(url).rstrip("/")
    return base_url.removesuffix("/v1")


def _positive_number(conn_id: str, name: str, explicit: float | None, extra: Any, default: float) -> float:
    value = explicit if explicit is not None else extra
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if isinstance(value, bool) or number <= 0:
        raise ApimartConfigurationError(
            f"Connection {conn_id!r}: {name} must be a positive number of seconds, got {value!r}."
        )
    return number


def _retry_count(conn_id: str, explicit: int | None, extra: Any) -> int:
    value = explicit if explicit is not None else extra
    if value is None or value == "":
        return DEFAULT_MAX_RETRIES
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = -1
    if isinstance(value, bool) or not 0 <= count <= MAX_RETRIES_LIMIT or str(count) != str(value).strip():
        raise ApimartConfigurationError(
            f"Connection {conn_id!r}: max_retries must be a whole number "
            f"from 0 to {MAX_RETRIES_LIMIT}, got {value!r}."
        )
    return count
