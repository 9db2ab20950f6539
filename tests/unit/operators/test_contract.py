"""The 2026-07-27 contract at the operator, against the simulator: one paid job per logical task
for every idempotency answer, on the worker and deferred, and "replayed" only when APIMart says so."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_apimart import backoff
from airflow_provider_apimart.exceptions import (
    ApimartIdempotencyIndeterminateError,
    ApimartIdempotencyInProgressError,
    ApimartIdempotencyKeyReusedError,
    ApimartTaskFailedError,
)
from airflow_provider_apimart.hooks import _retry
from airflow_provider_apimart.operators.video import ApimartWan27Operator
from airflow_provider_apimart.testing import ApimartSimulator, Outcome
from airflow_provider_apimart.version_compat import AirflowFailException
from tests.compat import TaskDeferred
from tests.unit.operators.fakes import FakeTaskInstance, make_context

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SleepRecorder

WAYS_TO_WAIT = pytest.mark.parametrize("deferrable", [False, True], ids=["on the worker", "deferred"])


def wan27(**kwargs: Any) -> ApimartWan27Operator:
    return ApimartWan27Operator(
        **{"task_id": "generate", "prompt": "a coastal road", "poll_interval": 0.05, **kwargs}
    )


def run(operator: ApimartWan27Operator, ti: FakeTaskInstance | None = None) -> str:
    """Execute until the task would wait in the triggerer or is done: "deferred" or "done"."""
    try:
        operator.execute(make_context(ti or FakeTaskInstance()))
    except TaskDeferred:
        return "deferred"
    return "done"


def submit_keys(simulator: ApimartSimulator) -> list[str]:
    return [
        r.headers["idempotency-key"] for r in simulator.state.requests_to("POST", "/v1/videos/generations")
    ]


@WAYS_TO_WAIT
@pytest.mark.parametrize("answer", ["in_progress", "unavailable"])
def test_a_submit_told_to_wait_or_send_again_pays_one_job(
    simulator: ApimartSimulator, recorded_sleeps: SleepRecorder, answer: Any, deferrable: bool
) -> None:
    simulator.config.idempotency_answers = (answer, answer)
    assert run(wan27(deferrable=deferrable)) == ("deferred" if deferrable else "done")
    keys = submit_keys(simulator)
    assert len(keys) == 3
    assert len(set(keys)) == 1  # never a new key
    assert simulator.state.paid_count() == 1


@WAYS_TO_WAIT
def test_a_retry_racing_its_own_first_submit_waits_for_it_and_pays_once(
    simulator: ApimartSimulator, monkeypatch: pytest.MonkeyPatch, deferrable: bool
) -> None:
    # A zombie: try 1 is still waiting for the answer of its billed POST (held for 1.5 s) when
    # Airflow, thinking it dead, starts try 2, which meets the first request still in progress.
    monkeypatch.setattr(backoff, "sleep", lambda seconds: time.sleep(min(seconds, 0.2)))
    simulator.config.submit_hold_seconds = 1.5
    simulator.config.render_seconds = 4  # still rendering when both submits are answered
    first_try = ThreadPoolExecutor(1).submit(
        run, wan27(deferrable=deferrable), FakeTaskInstance(try_number=1)
    )
    time.sleep(0.5)
    assert run(wan27(deferrable=deferrable), FakeTaskInstance(try_number=2)) == (
        "deferred" if deferrable else "done"
    )
    first_try.result(timeout=30)
    assert simulator.state.paid_count() == 1
    assert simulator.state.replay_count() == 1
    keys = submit_keys(simulator)
    assert len(set(keys)) == 1
    assert len(keys) >= 3  # try 1's, at least one in_progress answer to try 2, try 2's replay


def test_in_progress_past_the_patience_leaves_it_to_the_next_try_under_the_same_key(
    simulator: ApimartSimulator, recorded_sleeps: SleepRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_retry, "IN_PROGRESS_PATIENCE", 1.5)
    simulator.config.idempotency_answers = ("in_progress",) * 3
    with pytest.raises(ApimartIdempotencyInProgressError) as caught:
        run(wan27(), FakeTaskInstance(try_number=1))
    assert not isinstance(caught.value, AirflowFailException)  # Airflow retries it
    assert run(wan27(), FakeTaskInstance(try_number=2)) == "done"
    assert len(set(submit_keys(simulator))) == 1
    assert simulator.state.paid_count() == 1


@WAYS_TO_WAIT
def test_a_reused_key_fails_the_task_at_once_naming_it_and_pays_nothing(
    simulator: ApimartSimulator, deferrable: bool
) -> None:
    simulator.config.idempotency_answers = ("key_reused",)
    with pytest.raises(ApimartIdempotencyKeyReusedError) as caught:
        run(wan27(deferrable=deferrable))
    message = str(caught.value)
    assert isinstance(caught.value, AirflowFailException)
    assert "Task 'generate'" in message
    assert submit_keys(simulator)[0] in message
    assert simulator.state.paid_count() == 0


@WAYS_TO_WAIT
def test_an_indeterminate_outcome_stops_and_a_clear_sends_the_same_key_again(
    simulator: ApimartSimulator, deferrable: bool
) -> None:
    simulator.config.idempotency_answers = ("result_indeterminate",)
    with pytest.raises(ApimartIdempotencyIndeterminateError) as caught:
        run(wan27(deferrable=deferrable), FakeTaskInstance(try_number=1))
    assert isinstance(caught.value, AirflowFailException)
    assert "Check the APIMart console" in str(caught.value)
    assert "'generate'" in str(caught.value)
    assert simulator.state.paid_count() == 0
    # A person checked the console and cleared the task: the same key goes out, never a new one.
    run(wan27(deferrable=deferrable), FakeTaskInstance(try_number=2))
    first, second = submit_keys(simulator)
    assert first == second
    assert simulator.state.paid_count() == 1


def test_a_job_stamped_hours_before_the_submit_is_not_taken_for_a_replay(simulator: ApimartSimulator) -> None:
    # APIMart's clock 4 h behind the worker's, and a render that fails at once: 0.2 paid two jobs
    # here (the old job looked "replayed", so it was replaced in the same try).
    simulator.config.clock_offset_seconds = -4 * 3600
    simulator.config.render_seconds = 0
    simulator.config.default_outcome = Outcome.FAILED
    with pytest.raises(ApimartTaskFailedError):
        run(wan27())
    assert len(submit_keys(simulator)) == 1
    assert simulator.state.paid_count() == 1


def test_the_summary_and_the_record_say_what_the_submit_answered(
    simulator: ApimartSimulator, tmp_path: Path
) -> None:
    ti = FakeTaskInstance()
    stored = wan27(output_path=str(tmp_path)).execute(make_context(ti))
    summary = ti.xcoms["apimart_task"]
    assert summary["response_version"] == "2026-07-27"
    assert summary["request_id"].startswith("req_")
    assert summary["replayed"] is False
    assert summary["idempotency_key"] == submit_keys(simulator)[0]
    assert len(summary["schema_sha256"]) == 64
    record = json.loads((tmp_path / f"{summary['remote_task_id']}.json").read_text())
    assert record["submission"] == {
        key: summary[key]
        for key in ("idempotency_key", "request_id", "replayed", "response_version", "schema_sha256")
    }
    assert stored == [(tmp_path / f"{summary['remote_task_id']}.mp4").as_uri()]


def test_a_synchronous_result_finishes_without_a_status_read(simulator: ApimartSimulator) -> None:
    simulator.config.synchronous_results = True
    ti = FakeTaskInstance()
    assert wan27().execute(make_context(ti)) == ti.xcoms["apimart_task"]["video_urls"]
    assert simulator.state.paid_count() == 1
    assert simulator.state.requests_to("GET", "/v1/tasks/") == []
