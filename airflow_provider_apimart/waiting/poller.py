"""When to read an APIMart task's status next, and when the wait is over: one decision for all.

:class:`TaskPoller` does no I/O. Given the status a read returned, or the error it raised, it says how long to
wait before the next read, or which :class:`~airflow_provider_apimart.waiting.events.WaitEvent` ends the wait.
The triggerer's async loop, the worker's sync loop and the sensor's pokes all feed it, so a given situation
ends the same way wherever the task waits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_provider_apimart.backoff import MAX_RETRY_AFTER, backoff_delay, is_transient, retry_after_of
from airflow_provider_apimart.exceptions import ApimartError, ApimartResponseError
from airflow_provider_apimart.models.responses import TaskState, TaskStatus
from airflow_provider_apimart.waiting import events
from airflow_provider_apimart.waiting.defaults import MAX_FIRST_POLL_JITTER, UNDOCUMENTED_STATUS_GRACE
from airflow_provider_apimart.waiting.rules import DEFAULT_RULES, WaitRules

if TYPE_CHECKING:
    from airflow_provider_apimart.waiting.events import WaitEvent


_STATE_WORDS = {
    TaskState.SUBMITTED: "queued",
    TaskState.PENDING: "waiting to start",
    TaskState.PROCESSING: "rendering",
}


@dataclass(frozen=True)
class Step:
    """After one status read: wait ``delay`` seconds and read again, or end with ``event``.

    ``note`` is a line for the task log when there is news; ``warning`` says how loud it is.
    """

    delay: float = 0.0
    event: WaitEvent | None = None
    status: TaskStatus | None = None
    note: str | None = None
    warning: bool = False


@dataclass(slots=True)
class TaskPoller:
    """One remote task's wait under its :class:`WaitRules`; keeps only the failure streak and the
    last news.

    Slotted: a triggerer holds thousands of these at once (docs/performance.md).
    """

    remote_task_id: str
    rules: WaitRules = DEFAULT_RULES
    failing_polls: int = field(default=0, init=False)
    _last_news: tuple[TaskState, int | None] | None = field(default=None, init=False)
    #: When the task was first seen in a status the docs do not name (this loop), if it is in one.
    _undocumented_since: float | None = field(default=None, init=False)

    def first_delay(self, now: float) -> float:
        """The wait before the first read of a loop (a deferral, or the worker's loop).

        The rules' ``first_read_at`` (unix seconds) is when the read before the loop (the one right after
        the submit) said to read next: a render estimated at 300 s is not read again 5 s after
        its deferral. The read comes at a random point of the later half of that wait: a fan-out
        defers hundreds of tasks at once, and their first reads (each opening a connection)
        would otherwise reach the event loop and the API together. Early costs at most one read;
        late would notice the end late. As an absolute time it survives a triggerer restart.

        Without it, or once it has passed: ``first_poll_delay`` plus up to 2 s of jitter.
        """
        rules = self.rules
        planned = None if rules.first_read_at is None else rules.first_read_at - now
        if planned is not None and planned > rules.first_poll_delay:
            return self._capped(random.uniform(max(rules.first_poll_delay, planned / 2), planned), now)  # noqa: S311
        jitter = random.uniform(0, min(MAX_FIRST_POLL_JITTER, rules.first_poll_delay))  # noqa: S311
        return self._capped(rules.first_poll_delay + jitter, now)

    def plan_first_read(self, step: Step, now: float) -> None:
        """Let the loop that follows ``step`` (a read before it) start when that read said."""
        self.rules = self.rules.reading_first_at(now + step.delay)

    def before_read(self, now: float) -> Step | None:
        """The timeout, once the rules' ``end_time`` has passed; checked before every read."""
        end_time = self.rules.end_time
        if end_time is not None and now >= end_time:
            return Step(event=events.timed_out(self.remote_task_id, end_time))
        return None

    def after_status(self, status: TaskStatus, now: float) -> Step:
        self.failing_polls = 0
        if status.is_terminal:
            return Step(event=events.for_terminal_status(status), status=status)
        if status.state is TaskState.UNKNOWN:
            if self._undocumented_since is None:
                self._undocumented_since = now
            elif now - self._undocumented_since >= UNDOCUMENTED_STATUS_GRACE:
                seconds = now - self._undocumented_since
                return Step(event=events.undocumented_status(status.id, status.status, seconds))
        else:
            self._undocumented_since = None
        news = (status.state, progress_quarter(status.progress))
        note = describe_progress(status) if news != self._last_news else None
        self._last_news = news
        return Step(delay=self._capped(self.interval_for(status, now), now), status=status, note=note)

    def interval_for(self, status: TaskStatus, now: float) -> float:
        """The wait before the next read of a running task: until its estimated end while that is
        far (at most ``max_poll_interval``), every ``poll_interval`` once it is near or overdue.

        A render that meets its estimate costs a handful of reads instead of one per
        ``poll_interval``, and its end is still noticed within ``poll_interval``.
        """
        rules = self.rules
        remaining = estimated_remaining(status, now)
        if remaining is None or remaining <= rules.poll_interval:
            return rules.poll_interval
        return max(rules.poll_interval, min(rules.max_poll_interval, remaining))

    def after_error(self, error: ApimartError, now: float) -> Step:
        if not tolerated(error):
            return Step(event=events.for_error(self.remote_task_id, error))
        self.failing_polls += 1
        if self.failing_polls > self.rules.max_failing_polls:
            return Step(event=events.gave_up(self.remote_task_id, self.failing_polls, error))
        retry_after = retry_after_of(error)
        # A Retry-After is honoured up to the hook's own bound: a wish for an hour must not
        # outlast the render (reads are free, and the next one may find it finished).
        wait = (
            min(retry_after, MAX_RETRY_AFTER)
            if retry_after is not None
            else max(self.rules.poll_interval, backoff_delay(self.failing_polls))
        )
        asked = (
            f", Retry-After {retry_after:.0f} s capped at {MAX_RETRY_AFTER:.0f} s"
            if retry_after is not None and retry_after > MAX_RETRY_AFTER
            else ""
        )
        note = (
            f"Reading APIMart task {self.remote_task_id} failed ({error}); trying again in {wait:.1f} s "
            f"(failure {self.failing_polls} of {self.rules.max_failing_polls} tolerated{asked})."
        )
        return Step(delay=self._capped(wait, now), note=note, warning=True)

    def _capped(self, seconds: float, now: float) -> float:
        """Never sleep past the deadline: the timeout is noticed on time."""
        end_time = self.rules.end_time
        if end_time is None:
            return seconds
        return max(0.0, min(seconds, end_time - now))


def estimated_remaining(status: TaskStatus, now: float) -> float | None:
    """Seconds until the render should end, from ``estimated_time`` and ``progress`` (or, without
    progress, the time since ``created``); None when the API gives no estimate."""
    if not status.estimated_time:
        return None
    if status.progress is not None:
        return max(0.0, status.estimated_time * (1 - min(100.0, status.progress) / 100))
    if status.created is not None:
        return max(0.0, status.estimated_time - (now - status.created))
    return None


def tolerated(error: ApimartError) -> bool:
    """Failures a later read may not meet: network, 408/429/5xx, an unreadable answer."""
    return is_transient(error) or isinstance(error, ApimartResponseError)


def progress_quarter(progress: float | None) -> int | None:
    """Which quarter of the render ``progress`` is in: the log says each state and each quarter
    once, so a long render polled often writes a handful of lines, not one per read."""
    return None if progress is None else int(min(100.0, max(0.0, progress)) // 25)


def describe_progress(status: TaskStatus) -> str:
    """A running task in words: "APIMart task task_01J... is rendering: 40% done (estimated 300 s)"."""
    words = _STATE_WORDS.get(status.state, f"in an undocumented state {status.status!r}")
    progress = f": {status.progress:g}% done" if status.progress is not None else ""
    estimate = f" (estimated {status.estimated_time:g} s)" if status.estimated_time is not None else ""
    return f"APIMart task {status.id} is {words}{progress}{estimate}."
