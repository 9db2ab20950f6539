"""From an Airflow connection to the settings an httpx client needs, checked once.

The API key lives only in :class:`ClientSettings` (hidden from its repr, cleaned of surrounding
whitespace) and in the hook's client's ``Authorization`` header (httpx hides it from the headers'
repr); the settings' :class:`~airflow_provider_apimart.redaction.Redactor` hides it from every text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from airflow_provider_apimart.exceptions import ApimartConfigurationError
from airflow_provider_apimart.models.base import WholeNumber, reject_bool
from airflow_provider_apimart.redaction import NO_SECRET, Redactor, clean_api_key

if TYPE_CHECKING:
    from airflow.sdk import Connection

DEFAULT_BASE_URL = "https://api.apimart.ai"

#: Seconds to wait for one HTTP answer (connection extra ``timeout``). Status and submit calls
#: answer quickly; video rendering happens between polls, not inside a request.
DEFAULT_REQUEST_TIMEOUT = 30.0
#: Connecting should be fast; a host that does not answer in 10 s is unreachable.
MAX_CONNECT_TIMEOUT = 10.0
#: Retries of one call after the first try (connection extra ``max_retries``).
DEFAULT_MAX_RETRIES = 3
MAX_RETRIES_LIMIT = 10


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Everything needed to talk to APIMart for one Airflow connection."""

    conn_id: str
    base_url: str
    api_key: str = field(repr=False)
    #: Hides the key (and the connection's raw password, if it had whitespace) from every message.
    redactor: Redactor = field(default=NO_SECRET, repr=False)
    timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    #: The host had no scheme and https:// was assumed; a TLS failure then means "wrong scheme".
    scheme_assumed: bool = False
    #: The connection's default ``min_balance`` for operators (extra ``min_balance``); None: no check.
    min_balance: float | None = None
    #: The connection's default ``schema_check`` for operators (extra ``schema_check``).
    schema_check: Literal["strict", "warn"] | None = None
    #: The connection's spend limits, prices and store (extras of the same names); see docs/spend.md.
    run_spend_limit: float | None = None
    daily_spend_limit: float | None = None
    spend_prices: Any = None
    spend_store_conn_id: str | None = None

    @property
    def httpx_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, connect=min(self.timeout, MAX_CONNECT_TIMEOUT))


def settings_from_connection(
    conn: Connection, *, timeout: float | None = None, max_retries: int | None = None
) -> ClientSettings:
    """Read and check a connection; explicit ``timeout``/``max_retries`` win over its extras."""
    if not conn.password:
        raise ApimartConfigurationError(
            f"Connection {conn.conn_id!r} has no API key: put the APIMart key in its password field "
            "(labelled 'API Key' in the UI)."
        )
    explicit = {
        name: value
        for name, value in (("timeout", timeout), ("max_retries", max_retries))
        if value is not None
    }
    extras = _checked_extras(conn.conn_id, {**_read_extras(conn), **explicit})
    api_key = clean_api_key(conn.password, conn_id=conn.conn_id)
    return ClientSettings(
        conn_id=conn.conn_id,
        base_url=base_url_from(conn.host, conn.port, conn_id=conn.conn_id),
        api_key=api_key,
        redactor=Redactor.of(api_key, conn.password),
        scheme_assumed=bool(conn.host and conn.host.strip()) and "://" not in str(conn.host),
        timeout=DEFAULT_REQUEST_TIMEOUT if extras.timeout is None else extras.timeout,
        max_retries=DEFAULT_MAX_RETRIES if extras.max_retries is None else extras.max_retries,
        min_balance=extras.min_balance,
        schema_check=extras.schema_check,
        run_spend_limit=extras.run_spend_limit,
        daily_spend_limit=extras.daily_spend_limit,
        spend_prices=extras.spend_prices,
        spend_store_conn_id=extras.spend_store_conn_id or None,
    )


class ConnectionExtras(BaseModel):
    """The typed extras of an apimart connection (``conn-fields`` in the provider metadata)."""

    model_config = ConfigDict(extra="ignore")

    timeout: Annotated[float, BeforeValidator(reject_bool), Field(gt=0, allow_inf_nan=False)] | None = None
    max_retries: Annotated[WholeNumber, Field(ge=0, le=MAX_RETRIES_LIMIT)] | None = None
    min_balance: Annotated[float, BeforeValidator(reject_bool), Field(ge=0, allow_inf_nan=False)] | None = (
        None
    )
    schema_check: Literal["strict", "warn"] | None = None
    run_spend_limit: (
        Annotated[float, BeforeValidator(reject_bool), Field(ge=0, allow_inf_nan=False)] | None
    ) = None
    daily_spend_limit: (
        Annotated[float, BeforeValidator(reject_bool), Field(ge=0, allow_inf_nan=False)] | None
    ) = None
    spend_prices: dict[str, Any] | list[Any] | str | None = None
    spend_store_conn_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty_means_unset(cls, data: Any) -> Any:
        # The connection form may store a cleared number field as "".
        return {key: value for key, value in data.items() if value != ""} if isinstance(data, dict) else data


_EXTRA_RULES = {
    "timeout": "must be a positive, finite number of seconds",
    "max_retries": f"must be a whole number from 0 to {MAX_RETRIES_LIMIT}",
    "min_balance": "must be a finite number, 0 or more, in the balance's own unit",
    "schema_check": "must be 'strict' or 'warn'",
    "run_spend_limit": "must be a finite number, 0 or more",
    "daily_spend_limit": "must be a finite number, 0 or more",
    "spend_prices": "must be a JSON object of model names to prices",
    "spend_store_conn_id": "must be a connection id",
}


def _checked_extras(conn_id: str, extras: dict[str, Any]) -> ConnectionExtras:
    try:
        return ConnectionExtras.model_validate(extras)
    except ValidationError as error:
        detail = error.errors(include_url=False)[0]
        name = str(detail["loc"][0])
        raise ApimartConfigurationError(
            f"Connection {conn_id!r}: {name} {_EXTRA_RULES[name]}, got {detail['input']!r}."
        ) from None


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
