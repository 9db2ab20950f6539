"""ApimartTaskSensor: waits on a task made elsewhere, same XComs as the operators, fails fast."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from airflow.sdk import PokeReturnValue

from airflow_provider_apimart.exceptions import ApimartTaskFailedError, ApimartTaskRejectedError
from airflow_provider_apimart.sensors.task import ApimartTaskSensor
from airflow_provider_apimart.triggers.task import ApimartTaskTrigger
from tests.compat import TaskDeferred
from tests.conftest import submit_remote_task
from tests.unit.operators.fakes import FakeTaskInstance, make_context

if TYPE_CHECKING:
    from airflow_provider_apimart.testing import ApimartSimulator


def test_pokes_until_done_then_returns_the_urls_and_the_summary(simulator: ApimartSimulator) -> None:
    remote_task_id = submit_remote_task()
    sensor = ApimartTaskSensor(task_id="wait", remote_task_id=remote_task_id, poll_interval=0.05)
    ti = FakeTaskInstance()
    assert sensor.poke(make_context(ti)) is False
    time.sleep(0.35)
    result = sensor.poke(make_context(ti))
    assert isinstance(result, PokeReturnValue)
    assert result.is_done
    assert result.xcom_value == ti.xcoms["apimart_task"]["video_urls"]
    assert ti.xcoms["apimart_task"]["remote_task_id"] == remote_task_id


def test_fails_fast_when_the_task_fails(simulator: ApimartSimulator) -> None:
    sensor = ApimartTaskSensor(task_id="wait", remote_task_id=submit_remote_task("[simulate:failed]"))
    time.sleep(0.35)
    with pytest.raises(ApimartTaskFailedError):
        sensor.poke(make_context())


def test_moderation_fails_without_retries(simulator: ApimartSimulator) -> None:
    sensor = ApimartTaskSensor(task_id="wait", remote_task_id=submit_remote_task("[simulate:moderated]"))
    time.sleep(0.35)
    with pytest.raises(ApimartTaskRejectedError):
        sensor.poke(make_context())


def test_deferrable_sensor_defers_to_the_same_trigger(simulator: ApimartSimulator) -> None:
    remote_task_id = submit_remote_task()
    sensor = ApimartTaskSensor(
        task_id="wait", remote_task_id=remote_task_id, deferrable=True, poll_interval=0.5, timeout=120
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(make_context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, ApimartTaskTrigger)
    _, stored = trigger.serialize()
    assert (stored["remote_task_id"], stored["poll_interval"]) == (remote_task_id, 0.5)
    assert stored["end_time"] is not None
    assert stored["end_time"] <= time.time() + 120


def test_deferrable_sensor_on_a_finished_task_needs_no_trigger(simulator: ApimartSimulator) -> None:
    remote_task_id = submit_remote_task()
    time.sleep(0.35)
    sensor = ApimartTaskSensor(task_id="wait", remote_task_id=remote_task_id, deferrable=True)
    assert sensor.execute(make_context())


def test_resumes_from_a_success_event(simulator: ApimartSimulator) -> None:
    remote_task_id = submit_remote_task()
    time.sleep(0.35)
    ti = FakeTaskInstance()
    sensor = ApimartTaskSensor(task_id="wait", remote_task_id=remote_task_id, deferrable=True)
    event = {"status": "success", "reason": "completed", "remote_task_id": remote_task_id, "message": ""}
    assert sensor.execute_complete(make_context(ti), event) == ti.xcoms["apimart_task"]["video_urls"]


def test_a_poke_rides_out_a_transient_error_but_not_a_rejected_key(simulator: ApimartSimulator) -> None:
    from airflow_provider_apimart.exceptions import ApimartAuthenticationError
    from airflow_provider_apimart.testing import Fault

    remote_task_id = submit_remote_task()
    sensor = ApimartTaskSensor(task_id="wait", remote_task_id=remote_task_id, mode="reschedule")
    simulator.config.fault_rate = 1.0
    simulator.config.faults = (Fault.HTTP_503,)
    assert sensor.poke(make_context()) is False
    simulator.config.fault_rate = 0.0
    simulator.config.api_key = "rotated-key"
    with pytest.raises(ApimartAuthenticationError):
        sensor.poke(make_context())
