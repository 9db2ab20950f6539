"""From an Airflow connection to client settings: base URL, timeouts, retries, and clear refusals."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk import Connection

from airflow_provider_apimart.exceptions import ApimartConfigurationError
from airflow_provider_apimart.hooks._settings import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_REQUEST_TIMEOUT,
    settings_from_connection,
)


def connection(**fields: Any) -> Connection:
    return Connection(conn_id="apimart_test", conn_type="apimart", **{"password": "sk-key", **fields})


@pytest.mark.parametrize(
    ("host", "port", "base_url"),
    [
        (None, None, DEFAULT_BASE_URL),
        ("", None, DEFAULT_BASE_URL),
        ("http://127.0.0.1:8089", None, "http://127.0.0.1:8089"),
        ("https://api.apimart.ai/", None, "https://api.apimart.ai"),
        ("https://api.apimart.ai/v1", None, "https://api.apimart.ai"),
        ("api-dev.apimart.asia", None, "https://api-dev.apimart.asia"),
        ("127.0.0.1", 8089, "https://127.0.0.1:8089"),
        ("http://localhost:9000", 8089, "http://localhost:9000"),
        ("https://proxy.example.com/apimart", None, "https://proxy.example.com/apimart"),
    ],
)
def test_base_url_from_host(host: str | None, port: int | None, base_url: str) -> None:
    assert settings_from_connection(connection(host=host, port=port)).base_url == base_url


@pytest.mark.parametrize("host", ["ftp://files.example.com", "http://"])
def test_unusable_host_is_refused(host: str) -> None:
    with pytest.raises(ApimartConfigurationError, match="apimart_test"):
        settings_from_connection(connection(host=host))


def test_defaults_without_extras() -> None:
    settings = settings_from_connection(connection())
    assert (settings.timeout, settings.max_retries) == (DEFAULT_REQUEST_TIMEOUT, DEFAULT_MAX_RETRIES)
    assert settings.httpx_timeout.connect == 10.0
    assert settings.httpx_timeout.read == DEFAULT_REQUEST_TIMEOUT


def test_extras_set_timeout_and_retries() -> None:
    settings = settings_from_connection(connection(extra='{"timeout": 5, "max_retries": "0"}'))
    assert (settings.timeout, settings.max_retries) == (5.0, 0)
    assert settings.httpx_timeout.connect == 5.0


def test_cleared_form_fields_fall_back_to_defaults() -> None:
    settings = settings_from_connection(connection(extra='{"timeout": "", "max_retries": ""}'))
    assert (settings.timeout, settings.max_retries) == (DEFAULT_REQUEST_TIMEOUT, DEFAULT_MAX_RETRIES)


def test_explicit_arguments_win_over_extras() -> None:
    settings = settings_from_connection(
        connection(extra='{"timeout": 5, "max_retries": 1}'), timeout=60, max_retries=4
    )
    assert (settings.timeout, settings.max_retries) == (60.0, 4)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ('{"timeout": 0}', "timeout must be a positive, finite number"),
        ('{"timeout": "soon"}', "timeout must be a positive, finite number"),
        ('{"timeout": true}', "timeout must be a positive, finite number"),
        ('{"timeout": NaN}', "timeout must be a positive, finite number"),
        ('{"timeout": Infinity}', "timeout must be a positive, finite number"),
        ('{"min_balance": NaN}', "min_balance must be a finite number"),
        ('{"max_retries": 11}', "max_retries must be a whole number from 0 to 10"),
        ('{"max_retries": 1.5}', "max_retries must be a whole number"),
        ('{"max_retries": -1}', "max_retries must be a whole number"),
        ("not json", "extra is not valid JSON"),
        ("[1, 2]", "extra must be a JSON object"),
    ],
)
def test_bad_extras_are_refused_with_the_field_named(extra: str, fragment: str) -> None:
    with pytest.raises(ApimartConfigurationError, match=fragment):
        settings_from_connection(connection(extra=extra))


def test_missing_key_is_refused() -> None:
    with pytest.raises(ApimartConfigurationError, match="has no API key"):
        settings_from_connection(connection(password=None))
