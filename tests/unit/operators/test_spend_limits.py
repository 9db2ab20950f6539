"""Spend limits on the operators: reserve before the paid POST, settle on the real cost, fail closed.

Against the simulator over loopback HTTP and the local spend store (a SQLite file per test); the
backends themselves are tested in tests/integration/test_spend_stores.py.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_apimart.exceptions import (
    ApimartPriceUnknownError,
    ApimartSpendLimitError,
    ApimartTaskFailedError,
)
from airflow_provider_apimart.operators.video import ApimartWan27Operator
from airflow_provider_apimart.version_compat import AirflowFailException
from tests.conftest import connection_env
from tests.unit.operators.fakes import FakeTaskInstance, make_context

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_apimart.testing import ApimartSimulator


@pytest.fixture(autouse=True)
def local_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "spend.sqlite3"
    monkeypatch.setenv("AIRFLOW__APIMART__SPEND_STORE_PATH", str(path))
    return path


def wan27(prompt: str = "a coastal road", **kwargs: Any) -> ApimartWan27Operator:
    kwargs.setdefault("poll_interval", 0.1)
    kwargs.setdefault("first_poll_delay", 0)
    return ApimartWan27Operator(task_id="clip", prompt=prompt, **kwargs)


def posts(simulator: ApimartSimulator) -> int:
    return len(simulator.state.requests_to("POST", "/v1/videos/generations"))


def mapped(index: int) -> Any:
    return make_context(FakeTaskInstance(map_index=index))


def test_a_job_that_would_cross_the_run_limit_fails_before_any_post(simulator: ApimartSimulator) -> None:
    limited: dict[str, Any] = {
        "run_spend_limit": 1.0,
        "spend_prices": {"wan2.7": 0.4},
        "wait_for_completion": False,
    }
    wan27(**limited).execute(mapped(0))
    wan27(**limited).execute(mapped(1))
    with pytest.raises(ApimartSpendLimitError) as caught:
        wan27(**limited).execute(mapped(2))
    assert isinstance(caught.value, AirflowFailException)  # permanent: no retry burns
    assert str(caught.value) == (
        "Task 'clip': the run_spend_limit of DAG run 'manual__2026-11-21T00:00:00+00:00' is 1.00; 0.00 "
        "spent, 0.80 reserved by running tasks, and this job's estimate 0.40 (spend_prices) would cross "
        "it; nothing was submitted."
    )
    assert posts(simulator) == 2


def test_with_no_price_for_the_model_the_limit_fails_closed(simulator: ApimartSimulator) -> None:
    with pytest.raises(ApimartPriceUnknownError) as caught:
        wan27(run_spend_limit=5.0, resolution="1080P").execute(make_context())
    assert isinstance(caught.value, AirflowFailException)
    assert "no price is known for a wan2.7 job (resolution='1080P')" in str(caught.value)
    assert "spend_prices={'wan2.7': 0.4}" in str(caught.value)
    assert posts(simulator) == 0


def test_a_completed_render_settles_on_its_real_cost_and_teaches_the_price(
    simulator: ApimartSimulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.config.cost_per_video = 0.55
    ti = FakeTaskInstance()
    with caplog.at_level(logging.INFO):
        wan27(run_spend_limit=2.0, spend_prices={"wan2.7": 0.4}).execute(make_context(ti))
    spend = ti.xcoms["apimart_task"]["spend"]
    assert spend["estimate"] == 0.4
    assert spend["limits"] == [
        {
            "scope": "run",
            "name": "run_spend_limit of DAG run 'manual__2026-11-21T00:00:00+00:00'",
            "limit": 2.0,
            "spent": 0.55,
            "reserved": 0.0,
        }
    ]
    logged = caplog.text + capsys.readouterr().out
    assert "0.00 of 2.00 spent in this run, 0.40 reserved" in logged
    assert "0.55 of 2.00 spent in this run, 0.00 reserved" in logged
    # The next job of the same model and parameters is estimated at what this one really cost.
    other = FakeTaskInstance(map_index=1)
    wan27(run_spend_limit=2.0, spend_prices={"wan2.7": 0.4}).execute(make_context(other))
    assert other.xcoms["apimart_task"]["spend"]["estimate"] == 0.55
    assert "the highest cost billed" in other.xcoms["apimart_task"]["spend"]["estimate_source"]


def test_a_failed_render_releases_its_reservation(simulator: ApimartSimulator) -> None:
    ti = FakeTaskInstance()
    with pytest.raises(ApimartTaskFailedError):
        wan27(
            "a clip that fails [simulate:failed]", run_spend_limit=1.0, spend_prices={"wan2.7": 0.4}
        ).execute(make_context(ti))
    (limit,) = ti.xcoms["apimart_task"]["spend"]["limits"]
    assert (limit["spent"], limit["reserved"]) == (0.0, 0.0)


def test_a_retry_that_posts_the_same_key_reserves_nothing_more(simulator: ApimartSimulator) -> None:
    """Airflow 3.1-3.2 have no state store: a new try POSTs again under the same Idempotency-Key."""
    limited: dict[str, Any] = {
        "run_spend_limit": 0.5,
        "spend_prices": {"wan2.7": 0.4},
        "wait_for_completion": False,
    }
    wan27(**limited).execute(make_context())
    wan27(**limited).execute(make_context(FakeTaskInstance(try_number=2)))  # 0.80 would cross 0.50
    assert posts(simulator) == 2
    assert simulator.state.paid_count() == 1


def test_the_connection_gives_the_limits_and_the_operator_wins(
    simulator: ApimartSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = {"run_spend_limit": 0.5, "spend_prices": '{"wan2.7": 0.4}'}
    monkeypatch.setenv(
        "AIRFLOW_CONN_APIMART_DEFAULT",
        connection_env(password=simulator.api_key, host=simulator.base_url, extra=extra),
    )
    wan27(wait_for_completion=False).execute(mapped(0))
    with pytest.raises(ApimartSpendLimitError, match=r"is 0\.50"):
        wan27(wait_for_completion=False).execute(mapped(1))
    wan27(wait_for_completion=False, run_spend_limit=10).execute(mapped(1))
    assert posts(simulator) == 2


def test_without_a_limit_no_store_is_opened(simulator: ApimartSimulator, local_ledger: Path) -> None:
    wan27(wait_for_completion=False, spend_prices={"wan2.7": 0.4}).execute(make_context())
    assert posts(simulator) == 1
    assert not local_ledger.exists()
