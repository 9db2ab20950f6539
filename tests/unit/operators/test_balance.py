"""The balance guard: no paid submit below min_balance, checked right before a real submit only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_apimart.exceptions import ApimartConfigurationError, ApimartInsufficientBalanceError
from airflow_provider_apimart.operators.video import ApimartWan27Operator
from airflow_provider_apimart.task_state import SUBMIT_RECORD_STATE_KEY
from airflow_provider_apimart.version_compat import AIRFLOW_V_3_3_PLUS, AirflowFailException
from tests.conftest import connection_env
from tests.unit.operators.fakes import FakeStateStore, FakeTaskInstance, make_context

if TYPE_CHECKING:
    from airflow_provider_apimart.testing import ApimartSimulator


def wan27(**kwargs: Any) -> ApimartWan27Operator:
    return ApimartWan27Operator(task_id="clip", prompt="a coastal road", wait_for_completion=False, **kwargs)


def posts(simulator: ApimartSimulator) -> int:
    return len(simulator.state.requests_to("POST", "/v1/videos/generations"))


def test_below_min_balance_fails_permanently_before_any_post(simulator: ApimartSimulator) -> None:
    simulator.state.set_balance(0.8)
    with pytest.raises(ApimartInsufficientBalanceError) as caught:
        wan27(min_balance=1).execute(make_context())
    assert isinstance(caught.value, AirflowFailException)
    assert "balance is 0.8, below min_balance 1" in str(caught.value)
    assert "'clip'" in str(caught.value)
    assert posts(simulator) == 0
    assert len(simulator.state.requests_to("GET", "/v1/balance")) == 1


def test_at_or_above_min_balance_submits(simulator: ApimartSimulator) -> None:
    simulator.state.set_balance(1.0)
    wan27(min_balance=1).execute(make_context())
    assert posts(simulator) == 1


def test_an_unlimited_key_passes(simulator: ApimartSimulator) -> None:
    simulator.config.unlimited_quota = True
    wan27(min_balance=1_000_000).execute(make_context())
    assert posts(simulator) == 1


def test_without_min_balance_the_balance_is_not_read(simulator: ApimartSimulator) -> None:
    wan27().execute(make_context())
    assert simulator.state.requests_to("GET", "/v1/balance") == []


def test_the_connection_gives_the_default_and_the_operator_wins(
    simulator: ApimartSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_APIMART_DEFAULT",
        connection_env(password=simulator.api_key, host=simulator.base_url, extra={"min_balance": 5}),
    )
    simulator.state.set_balance(2)
    with pytest.raises(ApimartInsufficientBalanceError, match="below min_balance 5"):
        wan27().execute(make_context())
    wan27(min_balance=1).execute(make_context(FakeTaskInstance(map_index=1)))
    assert posts(simulator) == 1


def test_a_malformed_min_balance_extra_is_a_configuration_error(
    simulator: ApimartSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_APIMART_DEFAULT",
        connection_env(password=simulator.api_key, host=simulator.base_url, extra={"min_balance": -1}),
    )
    with pytest.raises(ApimartConfigurationError, match="min_balance"):
        wan27().execute(make_context())


@pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="reattaching needs task_state_store (Airflow 3.3+)")
def test_a_reattach_pays_nothing_and_checks_nothing(simulator: ApimartSimulator) -> None:
    simulator.config.render_seconds = 30
    store = FakeStateStore()
    wan27(min_balance=1).execute(make_context(FakeTaskInstance(try_number=1), store))
    simulator.state.set_balance(0)
    wan27(min_balance=1).execute(make_context(FakeTaskInstance(try_number=2), store))
    assert posts(simulator) == 1
    assert len(simulator.state.requests_to("GET", "/v1/balance")) == 1
    assert SUBMIT_RECORD_STATE_KEY in store.values
