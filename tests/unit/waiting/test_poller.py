"""The poller spaces its reads by the render's estimate: few reads, and the end noticed promptly."""

from __future__ import annotations

import pytest

from airflow_provider_apimart.backoff import MAX_RETRY_AFTER
from airflow_provider_apimart.exceptions import ApimartRateLimitError, ApimartUndocumentedStatusError
from airflow_provider_apimart.models.responses import TaskStatus
from airflow_provider_apimart.version_compat import AirflowFailException
from airflow_provider_apimart.waiting.defaults import UNDOCUMENTED_STATUS_GRACE
from airflow_provider_apimart.waiting.events import completed
from airflow_provider_apimart.waiting.poller import TaskPoller
from airflow_provider_apimart.waiting.rules import WaitRules

POLL_INTERVAL = 10.0


def simulate(
    render_seconds: float, estimated_time: float, max_poll_interval: float = 60.0
) -> tuple[int, float]:
    """Reads made until the poller sees the render completed, and how late it noticed it.

    The render reports linear progress and the estimate the API gave; time is simulated.
    """
    poller = TaskPoller(
        "task_X",
        WaitRules(poll_interval=POLL_INTERVAL, first_poll_delay=5.0, max_poll_interval=max_poll_interval),
    )
    now = 5.0  # the first read after the settle delay
    reads = 0
    while True:
        reads += 1
        if now >= render_seconds:
            return reads, now - render_seconds
        progress = int(100 * now / render_seconds)
        status = TaskStatus(
            id="task_X", status="processing", progress=progress, estimated_time=estimated_time
        )
        step = poller.after_status(status, now)
        assert step.event is None
        now += step.delay


def test_a_render_meeting_its_estimate_costs_at_most_a_third_of_fixed_polling() -> None:
    reads, late_by = simulate(render_seconds=300, estimated_time=300)
    fixed_reads = 300 / POLL_INTERVAL
    assert reads <= fixed_reads / 3, reads
    assert late_by <= POLL_INTERVAL


@pytest.mark.parametrize("render_seconds", [60, 120, 600, 1800])
def test_any_render_that_meets_its_estimate_is_noticed_within_poll_interval(render_seconds: float) -> None:
    reads, late_by = simulate(render_seconds=render_seconds, estimated_time=render_seconds)
    assert late_by <= POLL_INTERVAL
    assert reads <= max(3, render_seconds / POLL_INTERVAL / 3)


def test_a_render_far_earlier_than_its_estimate_is_noticed_within_max_poll_interval() -> None:
    _reads, late_by = simulate(render_seconds=100, estimated_time=600, max_poll_interval=60)
    assert late_by <= 60


def test_an_overdue_render_is_read_every_poll_interval() -> None:
    poller = TaskPoller("task_X", WaitRules(poll_interval=POLL_INTERVAL))
    overdue = TaskStatus(id="task_X", status="processing", progress=99, estimated_time=300)
    assert poller.after_status(overdue, 1000).delay == POLL_INTERVAL


def test_without_an_estimate_reads_come_every_poll_interval() -> None:
    poller = TaskPoller("task_X", WaitRules(poll_interval=POLL_INTERVAL))
    assert poller.after_status(TaskStatus(id="task_X", status="pending"), 0).delay == POLL_INTERVAL


def test_the_gap_never_passes_the_deadline() -> None:
    poller = TaskPoller("task_X", WaitRules(poll_interval=POLL_INTERVAL, end_time=20.0))
    status = TaskStatus(id="task_X", status="processing", progress=1, estimated_time=600)
    assert poller.after_status(status, 5.0).delay == 15.0


def test_the_log_says_each_state_and_each_quarter_once_not_every_read() -> None:
    poller = TaskPoller("task_X", WaitRules(poll_interval=POLL_INTERVAL, max_poll_interval=POLL_INTERVAL))
    reads = [("pending", None), ("pending", None)] + [("processing", p) for p in range(0, 100, 5)]
    notes = [
        poller.after_status(TaskStatus(id="task_X", status=state, progress=progress), 0.0).note
        for state, progress in reads
    ]
    written = [note for note in notes if note]
    assert written == [
        "APIMart task task_X is waiting to start.",
        "APIMart task task_X is rendering: 0% done.",
        "APIMart task task_X is rendering: 25% done.",
        "APIMart task task_X is rendering: 50% done.",
        "APIMart task task_X is rendering: 75% done.",
    ]


def test_the_first_read_of_a_loop_waits_for_the_read_before_it() -> None:
    """The read right after the submit saw a render estimated at 300 s: the loop that follows
    (in the triggerer or on the worker) reads next within the 60 s that read said, not 5 s on.
    The reads of a fan-out spread over the later half of that wait, never after it (which would
    notice the render's end late)."""
    poller = TaskPoller("task_X", WaitRules(poll_interval=POLL_INTERVAL, first_poll_delay=5.0))
    submitted = TaskStatus(id="task_X", status="submitted", progress=0, estimated_time=300)
    poller.plan_first_read(poller.after_status(submitted, now=1000.0), now=1000.0)
    delays = [poller.first_delay(now=1001.0) for _ in range(500)]
    assert 29.5 <= min(delays) < 35
    assert 54 < max(delays) <= 59


def test_a_short_planned_wait_still_keeps_the_settle_delay() -> None:
    poller = TaskPoller(
        "task_X", WaitRules(poll_interval=POLL_INTERVAL, first_poll_delay=5.0, first_read_at=1008.0)
    )
    assert all(5 <= poller.first_delay(now=1000.0) <= 8 for _ in range(200))


def test_the_settle_delay_still_holds_when_first_read_at_is_past() -> None:
    """A triggerer restart long after the deferral reads after first_poll_delay, as before."""
    poller = TaskPoller(
        "task_X", WaitRules(poll_interval=POLL_INTERVAL, first_poll_delay=5.0, first_read_at=1000.0)
    )
    assert 5 <= poller.first_delay(now=5000.0) <= 7


def test_the_first_read_never_waits_past_the_deadline() -> None:
    poller = TaskPoller("task_X", WaitRules(first_poll_delay=5.0, first_read_at=1060.0, end_time=1020.0))
    assert poller.first_delay(now=1000.0) == 20.0


def rate_limited(retry_after: float) -> ApimartRateLimitError:
    return ApimartRateLimitError(
        "slow down", http_status=429, error_type=None, error_code=None, retry_after=retry_after
    )


def test_a_retry_after_of_an_hour_is_waited_out_for_at_most_the_hooks_bound() -> None:
    # One 429 asking for 3600 s used to sleep until the task's timeout, and a render that ended
    # seconds later was reported as "did not finish".
    poller = TaskPoller("task_X", WaitRules(poll_interval=POLL_INTERVAL, end_time=10_000.0))
    step = poller.after_error(rate_limited(3600), now=0.0)
    assert step.delay == MAX_RETRY_AFTER
    assert "Retry-After 3600 s capped at 120 s" in (step.note or "")
    done = TaskStatus.model_validate(
        {"id": "task_X", "status": "completed", "result": {"videos": [{"url": ["https://cdn/v.mp4"]}]}}
    )
    assert poller.after_status(done, now=step.delay).event == completed("task_X")


def test_a_short_retry_after_is_honoured_as_asked() -> None:
    assert TaskPoller("task_X").after_error(rate_limited(3), now=0.0).delay == 3


def test_an_undocumented_status_keeps_the_wait_going_for_the_grace_then_ends_it_for_good() -> None:
    poller = TaskPoller("task_X", WaitRules(poll_interval=POLL_INTERVAL))
    odd = TaskStatus(id="task_X", status="rendering_v2")
    assert poller.after_status(odd, now=0.0).event is None
    assert poller.after_status(odd, now=UNDOCUMENTED_STATUS_GRACE - 1).event is None
    event = poller.after_status(odd, now=UNDOCUMENTED_STATUS_GRACE)
    assert event.event is not None
    error = event.event.error()
    assert isinstance(error, ApimartUndocumentedStatusError)
    assert isinstance(error, AirflowFailException)
    assert "'rendering_v2' for 600 s" in str(error)


def test_a_documented_status_in_between_restarts_the_grace() -> None:
    poller = TaskPoller("task_X", WaitRules(poll_interval=POLL_INTERVAL))
    odd = TaskStatus(id="task_X", status="rendering_v2")
    poller.after_status(odd, now=0.0)
    poller.after_status(TaskStatus(id="task_X", status="processing"), now=500.0)
    assert poller.after_status(odd, now=700.0).event is None
    assert poller.after_status(odd, now=1299.0).event is None
    assert poller.after_status(odd, now=1300.0).event is not None
