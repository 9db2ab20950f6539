"""ApimartTaskTrigger: JSON-only kwargs, exactly one event for every way a task can end."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.testing import ApimartSimulator, Fault
from airflow_provider_apimart.triggers.task import ApimartTaskTrigger
from tests.compat import deserialize, serialize
from tests.conftest import SleepRecorder, connection_env, submit_remote_task

if TYPE_CHECKING:
    from airflow.triggers.base import TriggerEvent

FAST = 0.05


def fast_trigger(remote_task_id: str, **kwargs: Any) -> ApimartTaskTrigger:
    """A trigger polling every 50 ms from the start (the 5 s settle delay is for the real API)."""
    return ApimartTaskTrigger(remote_task_id, **{"poll_interval": FAST, "first_poll_delay": 0, **kwargs})


def run_to_events(trigger: ApimartTaskTrigger) -> list[dict[str, Any]]:
    async def collect() -> list[TriggerEvent]:
        return [event async for event in trigger.run()]

    return [event.payload for event in asyncio.run(collect())]


def test_kwargs_are_json_primitives_and_round_trip_through_airflow_serde() -> None:
    trigger = ApimartTaskTrigger(
        "task_01J", "apimart_default", poll_interval=0.5, end_time=1795270000.5, first_read_at=1795269000.25
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_apimart.triggers.task.ApimartTaskTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert deserialize(serialize(kwargs)) == kwargs
    assert "task_id" not in kwargs
    rebuilt = ApimartTaskTrigger(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)


def test_kwargs_hold_no_key_or_url(simulator: ApimartSimulator) -> None:
    _, kwargs = ApimartTaskTrigger(submit_remote_task()).serialize()
    text = json.dumps(kwargs)
    assert simulator.api_key not in text
    assert "http" not in text


def test_first_read_waits_the_settle_delay_with_jitter(
    simulator: ApimartSimulator, recorded_sleeps: SleepRecorder
) -> None:
    simulator.config.render_seconds = 0
    (event,) = run_to_events(ApimartTaskTrigger(submit_remote_task(), poll_interval=FAST))
    assert event["status"] == "success"
    (first_wait,) = recorded_sleeps.waits
    assert 5 <= first_wait <= 7  # the API advises 5-10 s; apache/airflow#72716 bites under ~2 s


def test_first_read_waits_until_the_operators_read_said(
    simulator: ApimartSimulator, recorded_sleeps: SleepRecorder
) -> None:
    """The read before the deferral saw a long render: the trigger does not read it again 5 s on."""
    simulator.config.render_seconds = 0
    trigger = ApimartTaskTrigger(submit_remote_task(), poll_interval=FAST, first_read_at=time.time() + 42)
    (event,) = run_to_events(trigger)
    assert event["status"] == "success"
    (first_wait,) = recorded_sleeps.waits
    assert 20 <= first_wait <= 42  # in the later half of the wait: a fan-out's first reads spread out


def test_a_restart_after_first_read_at_still_keeps_the_settle_delay(
    simulator: ApimartSimulator, recorded_sleeps: SleepRecorder
) -> None:
    simulator.config.render_seconds = 0
    trigger = ApimartTaskTrigger(submit_remote_task(), poll_interval=FAST, first_read_at=time.time() - 600)
    run_to_events(trigger)
    (first_wait,) = recorded_sleeps.waits
    assert 5 <= first_wait <= 7


def test_completed_task_fires_one_success_event_without_urls(simulator: ApimartSimulator) -> None:
    remote_task_id = submit_remote_task()
    (event,) = run_to_events(fast_trigger(remote_task_id))
    assert event == {
        "status": "success",
        "reason": "completed",
        "remote_task_id": remote_task_id,
        "message": f"APIMart task {remote_task_id} completed.",
    }


@pytest.mark.parametrize(
    ("prompt", "status", "reason"),
    [
        ("[simulate:failed]", "failed", "task_failed"),
        ("[simulate:moderated]", "failed", "content_moderation"),
        ("[simulate:cancelled]", "cancelled", "cancelled"),
    ],
)
def test_unsuccessful_endings(simulator: ApimartSimulator, prompt: str, status: str, reason: str) -> None:
    (event,) = run_to_events(fast_trigger(submit_remote_task(prompt)))
    assert (event["status"], event["reason"]) == (status, reason)


def test_failed_event_carries_the_api_message_and_code(simulator: ApimartSimulator) -> None:
    (event,) = run_to_events(fast_trigger(submit_remote_task("[simulate:failed]")))
    assert event["error_code"] == "task_failed"
    assert "Upstream generation failed" in event["message"]


def test_deadline_fires_a_timeout_naming_the_remote_task(simulator: ApimartSimulator) -> None:
    simulator.config.render_seconds = 30
    remote_task_id = submit_remote_task()
    started = time.monotonic()
    (event,) = run_to_events(fast_trigger(remote_task_id, end_time=time.time() + 0.3))
    assert (event["status"], event["reason"]) == ("timeout", "deadline_exceeded")
    assert remote_task_id in event["message"]
    assert time.monotonic() - started < 2


def test_unknown_task_is_an_error_event(simulator: ApimartSimulator) -> None:
    (event,) = run_to_events(fast_trigger("task_00000000000000000000000000"))
    assert (event["status"], event["reason"], event["http_status"]) == ("error", "not_found", 404)


def test_bad_key_is_an_error_event(simulator: ApimartSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    remote_task_id = submit_remote_task()
    monkeypatch.setenv(
        "AIRFLOW_CONN_APIMART_DEFAULT", connection_env(password="wrong", host=simulator.base_url)
    )
    (event,) = run_to_events(fast_trigger(remote_task_id))
    assert (event["status"], event["reason"], event["error_class"]) == (
        "error",
        "authentication_failed",
        "ApimartAuthenticationError",
    )


def test_connection_without_key_is_a_configuration_error_event(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_APIMART_DEFAULT", connection_env(host="http://127.0.0.1:9"))
    (event,) = run_to_events(fast_trigger("task_1"))
    assert (event["status"], event["reason"]) == ("error", "configuration")


def test_transient_errors_are_retried_inside_the_loop_then_success(simulator: ApimartSimulator) -> None:
    remote_task_id = submit_remote_task()
    simulator.config.fault_rate = 0.5
    simulator.config.faults = (Fault.HTTP_503, Fault.DROP)
    simulator.config.seed = 3
    (event,) = run_to_events(fast_trigger(remote_task_id, max_failing_polls=20))
    assert event["status"] == "success"


def test_a_failing_streak_is_bounded_and_backs_off(
    simulator: ApimartSimulator, recorded_sleeps: SleepRecorder
) -> None:
    remote_task_id = submit_remote_task()
    simulator.config.fault_rate = 1.0
    simulator.config.faults = (Fault.HTTP_503,)
    (event,) = run_to_events(fast_trigger(remote_task_id, max_failing_polls=2))
    assert (event["status"], event["reason"], event["error_class"]) == (
        "error",
        "api_unreachable",
        "ApimartTaskWaitError",
    )
    assert "3 status reads in a row failed" in event["message"]
    assert len(simulator.state.requests_to("GET", "/v1/tasks/")) == 3
    first_wait, *backoff = recorded_sleeps.waits
    assert first_wait == 0
    assert 1 <= backoff[0] <= 2 <= backoff[1] <= 3  # the shared policy: 1 s, then 2 s, plus jitter


def test_one_client_and_one_connection_lookup_per_run(
    simulator: ApimartSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.config.render_seconds = 0.5
    simulator.config.estimated_time = 0  # no estimate: a read every poll_interval
    remote_task_id = submit_remote_task()
    lookups: list[str] = []
    clients: list[object] = []
    original_lookup = ApimartHook.aget_connection.__func__  # type: ignore[attr-defined]
    original_client = ApimartHook.aget_conn

    async def counting_lookup(cls: type[ApimartHook], conn_id: str) -> Any:
        lookups.append(conn_id)
        return await original_lookup(cls, conn_id)

    async def recording_client(self: ApimartHook) -> Any:
        client = await original_client(self)
        clients.append(client)
        return client

    monkeypatch.setattr(ApimartHook, "aget_connection", classmethod(counting_lookup))
    monkeypatch.setattr(ApimartHook, "aget_conn", recording_client)
    (event,) = run_to_events(fast_trigger(remote_task_id))
    assert event["status"] == "success"
    assert lookups == ["apimart_default"]
    assert len(clients) > 3
    assert len({id(client) for client in clients}) == 1


def test_on_kill_says_nothing_was_cancelled(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with caplog.at_level("WARNING"):
        asyncio.run(ApimartTaskTrigger("task_1").on_kill())
    # Airflow's structlog setup writes trigger logs to stdout rather than to the logging tree.
    assert "no endpoint to cancel" in caplog.text + capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments",
    [
        {"poll_interval": 0},
        {"poll_interval": float("nan")},
        {"end_time": float("nan")},
        {"max_failing_polls": -1},
    ],
)
def test_numbers_a_wait_cannot_use_are_refused(arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="ApimartTaskTrigger for task_1: "):
        ApimartTaskTrigger("task_1", **arguments)
