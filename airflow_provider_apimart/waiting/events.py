"""The one event that ends a wait for an APIMart task, wherever the task waits.

The trigger fires it as its payload; the worker loop and the sensor make the same object; one
handler turns it into the task's result or raises :meth:`WaitEvent.error`, which rebuilds the
same exception class on every path from what the event carries (its class, HTTP status, the
API's error type and code, the message). It never holds a result URL or the API key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from airflow_provider_apimart import exceptions
from airflow_provider_apimart.exceptions import (
    ApimartAPIError,
    ApimartAuthenticationError,
    ApimartConfigurationError,
    ApimartConnectionError,
    ApimartError,
    ApimartNotFoundError,
    ApimartPermissionDeniedError,
    ApimartRejectedError,
    ApimartTaskCancelledError,
    ApimartTaskFailedError,
    ApimartTaskRejectedError,
    ApimartTaskTimeoutError,
    ApimartTaskWaitError,
    ApimartUndocumentedStatusError,
)
from airflow_provider_apimart.models.responses import FailureKind, TaskState, TaskStatus


class EventStatus(str, Enum):
    """How the wait ended."""

    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    ERROR = "error"


#: The exception classes an error event may name, by class name (nothing outside the tree).
_ERROR_CLASSES: dict[str, type[ApimartError]] = {
    name: value
    for name in exceptions.__all__
    if isinstance(value := getattr(exceptions, name), type) and issubclass(value, ApimartError)
}
#: Events fired by provider 0.1 named no class; their reasons map to what 0.1 raised.
_LEGACY_ERROR_CLASSES = {
    "authentication_failed": "ApimartConfigurationError",
    "request_rejected": "ApimartConfigurationError",
    "configuration": "ApimartConfigurationError",
}


@dataclass(frozen=True)
class WaitEvent:
    """What ended the wait for ``remote_task_id``; JSON primitives only (see :meth:`to_payload`).

    ``reason`` is machine-readable: ``completed``; for a failed render ``task_failed``,
    ``content_moderation`` or ``invalid_input``; ``cancelled``; ``deadline_exceeded``; for an
    error ``authentication_failed``, ``permission_denied``, ``request_rejected``, ``not_found``,
    ``configuration``, ``api_unreachable`` or ``bad_response``.
    """

    status: EventStatus
    remote_task_id: str
    reason: str
    message: str
    error_class: str | None = None
    http_status: int | None = None
    error_type: str | None = None
    error_code: int | str | None = None
    method: str | None = None
    path: str | None = None

    def to_payload(self) -> dict[str, Any]:
        """The trigger event's payload: the fields that are set, with ``status`` as a string."""
        payload = {key: value for key, value in dataclasses.asdict(self).items() if value is not None}
        payload["status"] = self.status.value
        return payload

    @classmethod
    def from_payload(cls, payload: object) -> WaitEvent:
        """Read a trigger event's payload; anything that is not one fails loudly."""
        statuses = {status.value for status in EventStatus}
        if not isinstance(payload, dict) or payload.get("status") not in statuses:
            raise ApimartTaskWaitError(f"The APIMart trigger sent an unexpected event: {payload!r}")
        known = {field.name for field in dataclasses.fields(cls)} - {"status"}
        values = {key: value for key, value in payload.items() if key in known}
        values.setdefault("remote_task_id", "")
        values.setdefault("reason", "")
        values["message"] = str(values.get("message") or "")
        return cls(status=EventStatus(payload["status"]), **values)

    @property
    def succeeded(self) -> bool:
        return self.status is EventStatus.SUCCESS

    def error(self) -> ApimartError:
        """The exception this event means (the same class on every path); not for a success."""
        if self.status is EventStatus.FAILED:
            kind = FailureKind(self.reason) if self.reason in _FAILURE_KINDS else FailureKind.TASK_FAILED
            failed_class = ApimartTaskRejectedError if kind.is_permanent else ApimartTaskFailedError
            return failed_class(
                f"{self.message.rstrip()} {kind.advice}",
                remote_task_id=self.remote_task_id,
                error_code=self.error_code,
                kind=kind.value,
            )
        if self.status is EventStatus.CANCELLED:
            return ApimartTaskCancelledError(self._naming_the_task())
        if self.status is EventStatus.TIMEOUT:
            return ApimartTaskTimeoutError(self._naming_the_task())
        if self.status is EventStatus.SUCCESS:
            raise ValueError("a success event has no error")
        name = self.error_class or _LEGACY_ERROR_CLASSES.get(self.reason, "ApimartTaskWaitError")
        error_class = _ERROR_CLASSES.get(name, ApimartTaskWaitError)
        if issubclass(error_class, ApimartAPIError):
            return error_class(
                self.message,
                http_status=self.http_status or 0,
                error_type=self.error_type,
                error_code=self.error_code,
                method=self.method,
                path=self.path,
            )
        if issubclass(error_class, ApimartConnectionError):
            return error_class(self._naming_the_task(), request_sent=True)
        return error_class(self._naming_the_task())

    def _naming_the_task(self) -> str:
        """The message, naming the remote task if it does not already (events of provider 0.1)."""
        if not self.remote_task_id or self.remote_task_id in self.message:
            return self.message
        return f"APIMart task {self.remote_task_id}: {self.message}"


_FAILURE_KINDS = {kind.value for kind in FailureKind}


def completed(remote_task_id: str) -> WaitEvent:
    return WaitEvent(
        EventStatus.SUCCESS, remote_task_id, "completed", f"APIMart task {remote_task_id} completed."
    )


def for_terminal_status(status: TaskStatus) -> WaitEvent:
    """The event of a task that has ended: completed, failed or cancelled."""
    if status.state is TaskState.COMPLETED:
        return completed(status.id)
    if status.state is TaskState.CANCELLED:
        return WaitEvent(
            EventStatus.CANCELLED,
            status.id,
            "cancelled",
            f"APIMart task {status.id} was cancelled: nothing was generated.",
        )
    error = status.error
    return WaitEvent(
        EventStatus.FAILED,
        status.id,
        (error.kind if error else FailureKind.TASK_FAILED).value,
        (error.message if error else None) or "no error message",
        error_code=error.code if error else None,
    )


def for_error(remote_task_id: str, error: ApimartError) -> WaitEvent:
    """The event of a status read that failed in a way no further read can fix (401, 404, ...)."""
    if isinstance(error, ApimartAPIError):
        return WaitEvent(
            EventStatus.ERROR,
            remote_task_id,
            _reason_for(error),
            error.api_message,
            error_class=type(error).__name__,
            http_status=error.http_status,
            error_type=error.error_type,
            error_code=error.error_code,
            method=error.method,
            path=error.path,
        )
    return WaitEvent(
        EventStatus.ERROR, remote_task_id, _reason_for(error), str(error), error_class=type(error).__name__
    )


def gave_up(remote_task_id: str, failing_polls: int, last_error: ApimartError) -> WaitEvent:
    """The event of a streak of failed status reads longer than the poller tolerates."""
    return WaitEvent(
        EventStatus.ERROR,
        remote_task_id,
        "api_unreachable",
        f"Stopped waiting for APIMart task {remote_task_id}: {failing_polls} status reads in a row "
        f"failed; the last: {last_error}. The render may still be running (and billed); a retry "
        "waits for the same task on Airflow 3.3+.",
        error_class=ApimartTaskWaitError.__name__,
    )


def undocumented_status(remote_task_id: str, raw_status: str, seconds: float) -> WaitEvent:
    """The event of a task that stayed in a status the docs do not name past the grace."""
    return WaitEvent(
        EventStatus.ERROR,
        remote_task_id,
        "undocumented_status",
        f"APIMart task {remote_task_id} has reported the undocumented status {raw_status[:40]!r} for "
        f"{seconds:.0f} s, so whether it will end, and how, is unknown. Not retried: check the task in "
        "the APIMart console; a clear waits for the same task again (Airflow 3.3+), without paying.",
        error_class=ApimartUndocumentedStatusError.__name__,
    )


def timed_out(remote_task_id: str, end_time: float) -> WaitEvent:
    when = datetime.fromtimestamp(end_time, tz=timezone.utc)
    return WaitEvent(
        EventStatus.TIMEOUT,
        remote_task_id,
        "deadline_exceeded",
        f"APIMart task {remote_task_id} did not finish by {when:%Y-%m-%d %H:%M:%S} UTC (the task's "
        "timeout); it may still be rendering (and billed). A retry waits for the same task on "
        "Airflow 3.3+.",
    )


def _reason_for(error: ApimartError) -> str:
    if isinstance(error, ApimartAuthenticationError):
        return "authentication_failed"
    if isinstance(error, ApimartPermissionDeniedError):
        return "permission_denied"
    if isinstance(error, ApimartNotFoundError):
        return "not_found"
    if isinstance(error, ApimartRejectedError):
        return "request_rejected"
    if isinstance(error, ApimartConfigurationError):
        return "configuration"
    return "bad_response"
