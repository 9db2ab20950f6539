"""WaitRules: one value, checked once, that the operators, the sensor and the trigger share."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_apimart.operators.video import ApimartWan27Operator
from airflow_provider_apimart.sensors.task import ApimartTaskSensor
from airflow_provider_apimart.triggers.task import ApimartTaskTrigger
from airflow_provider_apimart.waiting.defaults import DEFAULT_MAX_POLL_INTERVAL
from airflow_provider_apimart.waiting.rules import WaitRules

#: The kwargs a trigger deferred by provider 0.2 left in the metadata DB, as they were written.
STORED_BY_0_2: dict[str, Any] = {
    "remote_task_id": "task_01J",
    "apimart_conn_id": "apimart_default",
    "poll_interval": 10.0,
    "end_time": 1795270000.5,
    "max_failing_polls": 10,
    "first_poll_delay": 5.0,
    "max_poll_interval": 60.0,
    "first_read_at": 1795269000.25,
}


def build(kind: str, **arguments: Any) -> WaitRules:
    """The rules each kind of waiter makes of the same arguments."""
    if kind == "operator":
        return ApimartWan27Operator(task_id="render", prompt="a cat", **arguments).wait_rules
    if kind == "sensor":
        return ApimartTaskSensor(task_id="wait", remote_task_id="task_1", **arguments).wait_rules
    return ApimartTaskTrigger("task_1", **arguments).rules


def test_a_trigger_stored_by_the_last_release_loads_and_stores_the_same_kwargs() -> None:
    trigger = ApimartTaskTrigger(**STORED_BY_0_2)
    assert trigger.serialize()[1] == STORED_BY_0_2
    assert trigger.rules.first_read_at == STORED_BY_0_2["first_read_at"]


@pytest.mark.parametrize("kind", ["operator", "sensor", "trigger"])
def test_a_slow_poll_interval_widens_the_default_gap_alike_everywhere(kind: str) -> None:
    assert build(kind, poll_interval=120).max_poll_interval == 120
    assert build(kind, poll_interval=1).max_poll_interval == DEFAULT_MAX_POLL_INTERVAL


@pytest.mark.parametrize("kind", ["operator", "sensor", "trigger"])
def test_a_widest_gap_below_the_poll_interval_is_refused_alike_everywhere(kind: str) -> None:
    with pytest.raises(ValueError, match=r"max_poll_interval \(at least poll_interval\) must be"):
        build(kind, poll_interval=30, max_poll_interval=10)


def test_the_operator_hands_its_rules_to_the_trigger_with_the_deadline_only_added() -> None:
    rules = build("operator", poll_interval=2, first_poll_delay=1, max_poll_interval=20)
    trigger = ApimartTaskTrigger.for_rules("task_1", "apimart_default", rules.until(1795270000.0))
    assert trigger.rules == WaitRules(
        poll_interval=2, first_poll_delay=1, max_poll_interval=20, end_time=1795270000.0
    )
