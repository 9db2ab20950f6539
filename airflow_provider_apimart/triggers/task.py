"""ApimartTaskTrigger: wait for an APIMart task in the triggerer, without holding a worker slot."""

from __future__ import annotations

import asyncio
import random
import time
from enum import Enum
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_apimart.exceptions import (
    ApimartAuthenticationError,
    ApimartConfigurationError,
    ApimartConnectionError,
    ApimartError,
    ApimartNotFoundError,
    ApimartRejectedError,
    ApimartResponseError,
    ApimartTransientAPIError,
)
from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.models.responses import TaskState, TaskStatus

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

#: The docs advise polling every 5-10 s (Omni-Flash-Ext page).
DEFAULT_POLL_INTERVAL = 10.0
#: Consecutive failed polls (network, 429, 5xx) tolerated before giving up with an error event.
DEFAULT_MAX_FAILING_POLLS = 10
#: Ceiling of the wait between failed polls, in seconds.
MAX_BACKOFF = 120.0
#: The first poll waits up to this long, at random, so a fan-out does not poll in lockstep.
MAX_FIRST_POLL_JITTER = 2.0
#: Idle pooled connections outlive the poll interval by this much, so each poll reuses its
#: connection (no new TLS handshake) - PERFORMANCE.md.
KEEPALIVE_MARGIN = 60.0


class EventStatus(str, Enum):
    """The ``status`` of the one event an ApimartTaskTrigger fires."""

    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    ERROR = "error"


class ApimartTaskTrigger(BaseTrigger):
    """Poll ``GET /v1/tasks/{remote_task_id}`` until the task ends, then fire exactly one event.

    The event is ``{"status", "reason", "remote_task_id", "message"}`` (plus ``error_code`` for a
    failed render), JSON only, without the result URLs: those are signed, so the operator
    fetches them once it resumes.

    =========== ===================================================================
    status      reason
    =========== ===================================================================
    success     ``completed``
    failed      ``content_moderation``, ``invalid_input`` or ``task_failed``
    cancelled   ``cancelled``
    timeout     ``deadline_exceeded`` (``end_time`` passed)
    error       ``authentication_failed``, ``request_rejected``, ``not_found``,
                ``api_unreachable`` (too many failed polls in a row), ``configuration``,
                ``bad_response``
    =========== ===================================================================

    :param remote_task_id: the APIMart task id (named so because the triggerer overwrites
        ``task_id`` with the Airflow task's id).
    :param apimart_conn_id: the Airflow connection; looked up once per run.
    :param poll_interval: seconds between polls; any positive number.
    :param end_time: absolute deadline, unix epoch seconds (survives triggerer restarts).
    :param max_failing_polls: failed polls in a row before giving up.
    """

    def __init__(
        self,
        remote_task_id: str,
        apimart_conn_id: str = ApimartHook.default_conn_name,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        end_time: float | None = None,
        max_failing_polls: int = DEFAULT_MAX_FAILING_POLLS,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be a positive number of seconds, got {poll_interval!r}")
        self.remote_task_id = remote_task_id
        self.apimart_conn_id = apimart_conn_id
        self.poll_interval = float(poll_interval)
        self.end_time = end_time
        self.max_failing_polls = max_failing_polls

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "remote_task_id": self.remote_task_id,
                "apimart_conn_id": self.apimart_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "max_failing_polls": self.max_failing_polls,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        yield TriggerEvent(await self._wait_for_end())  # type: ignore[no-untyped-call]

    async def on_kill(self) -> None:
        """Called by Airflow 3.3+ when a user kills the deferred task."""
        self.log.warning(
            "APIMart offers no endpoint to cancel a task: %s keeps rendering and is billed as usual; "
            "this only stops waiting for it.",
            self.remote_task_id,
        )

    # ------------------------------------------------------------------ the loop

    async def _wait_for_end(self) -> dict[str, Any]:
        hook = ApimartHook(
            self.apimart_conn_id, max_retries=0, keepalive_expiry=self.poll_interval + KEEPALIVE_MARGIN
        )
        async with hook:
            try:
                await hook.aget_settings()
            except ApimartError as error:
                return self._event(EventStatus.ERROR, "configuration", str(error))
            await asyncio.sleep(random.uniform(0, min(self.poll_interval, MAX_FIRST_POLL_JITTER)))  # noqa: S311
            failing_polls = 0
            last_progress: object = None
            while True:
                if self._deadline_passed():
                    return self._event(
                        EventStatus.TIMEOUT,
                        "deadline_exceeded",
                        f"APIMart task {self.remote_task_id} did not finish before the deadline; it may "
                        "still be rendering (and billed).",
                    )
                try:
                    status = await hook.aget_task(self.remote_task_id)
                except (ApimartConnectionError, ApimartTransientAPIError, ApimartResponseError) as error:
                    failing_polls += 1
                    if failing_polls > self.max_failing_polls:
                        return self._event(
                            EventStatus.ERROR,
                            "api_unreachable",
                            f"{failing_polls} polls in a row failed; the last: {error}",
                        )
                    wait = _backoff(self.poll_interval, failing_polls, getattr(error, "retry_after", None))
                    self.log.warning(
                        "Polling APIMart task %s failed (%s); retrying in %.1f s (failure %d of %d allowed).",
                        self.remote_task_id,
                        error,
                        wait,
                        failing_polls,
                        self.max_failing_polls,
                    )
                    await self._sleep(wait)
                    continue
                except ApimartError as error:
                    return self._event(EventStatus.ERROR, _reason_for(error), str(error))
                failing_polls = 0
                if status.progress != last_progress:
                    last_progress = status.progress
                    self._log_progress(status)
                if status.is_terminal:
                    return self._terminal_event(status)
                await self._sleep(self.poll_interval)

    def _deadline_passed(self) -> bool:
        return self.end_time is not None and time.time() >= self.end_time

    async def _sleep(self, seconds: float) -> None:
        if self.end_time is not None:
            seconds = max(0.0, min(seconds, self.end_time - time.time()))
        await asyncio.sleep(seconds)

    def _log_progress(self, status: TaskStatus) -> None:
        estimate = f" (estimated {status.estimated_time:g} s)" if status.estimated_time is not None else ""
        progress = f"{status.progress:g}% done" if status.progress is not None else status.status
        self.log.info("APIMart task %s is %s: %s%s.", self.remote_task_id, status.status, progress, estimate)

    def _terminal_event(self, status: TaskStatus) -> dict[str, Any]:
        if status.state is TaskState.COMPLETED:
            return self._event(
                EventStatus.SUCCESS, "completed", f"APIMart task {self.remote_task_id} completed."
            )
        if status.state is TaskState.CANCELLED:
            return self._event(
                EventStatus.CANCELLED, "cancelled", f"APIMart task {self.remote_task_id} was cancelled."
            )
        error = status.error
        message = (error.message if error else None) or "no error message"
        kind = error.kind.value if error else "task_failed"
        event = self._event(EventStatus.FAILED, kind, message)
        event["error_code"] = error.code if error else None
        return event

    def _event(self, status: EventStatus, reason: str, message: str) -> dict[str, Any]:
        return {
            "status": status.value,
            "reason": reason,
            "remote_task_id": self.remote_task_id,
            "message": message,
        }


def _backoff(poll_interval: float, failing_polls: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return retry_after
    return min(MAX_BACKOFF, poll_interval * 2.0 ** (failing_polls - 1)) * random.uniform(0.8, 1.2)  # noqa: S311


def _reason_for(error: ApimartError) -> str:
    if isinstance(error, ApimartAuthenticationError):
        return "authentication_failed"
    if isinstance(error, ApimartNotFoundError):
        return "not_found"
    if isinstance(error, ApimartRejectedError):
        return "request_rejected"
    if isinstance(error, ApimartConfigurationError):
        return "configuration"
    return "bad_response"
