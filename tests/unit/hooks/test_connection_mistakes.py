"""Connection mistakes a first user makes fail at once, saying what to fix, and burn no retries."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from airflow_provider_apimart.exceptions import ApimartConfigurationError
from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.version_compat import AirflowFailException
from tests.conftest import connection_env

if TYPE_CHECKING:
    from airflow_provider_apimart.testing import ApimartSimulator


def test_a_host_without_scheme_on_a_plain_http_server_fails_at_once_saying_https_was_assumed(
    apimart_simulator: ApimartSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = f"127.0.0.1:{apimart_simulator.port}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_APIMART_DEFAULT", connection_env(password=apimart_simulator.api_key, host=host)
    )
    with ApimartHook() as hook, pytest.raises(ApimartConfigurationError) as caught:
        hook.get_task("task_1")
    message = str(caught.value)
    assert "https:// was assumed" in message
    assert isinstance(caught.value, AirflowFailException)
    assert len(apimart_simulator.state.requests) == 0  # the TLS hello never became a request


def test_a_connection_that_does_not_exist_is_a_configuration_error() -> None:
    with pytest.raises(ApimartConfigurationError, match="'missing_conn' does not exist") as caught:
        ApimartHook("missing_conn").get_settings()
    assert "AIRFLOW_CONN_MISSING_CONN" in str(caught.value)


def test_the_async_lookup_says_the_same() -> None:
    with pytest.raises(ApimartConfigurationError, match="'missing_conn' does not exist"):
        asyncio.run(ApimartHook("missing_conn").aget_settings())
