"""Operators that generate videos with APIMart: one per model, plus a generic one, over one base.

Every operator submits one job, waits for it (in the triggerer by default when deferrable, on
the worker otherwise, or not at all), and returns the list of video URLs as ``return_value``.
A retry or a clear of the same logical task does not pay twice: see :class:`ApimartBaseVideoOperator`.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

from airflow_provider_apimart.exceptions import (
    ApimartConfigurationError,
    ApimartNotFoundError,
    ApimartResponseError,
    ApimartTaskCancelledError,
    ApimartTaskFailedError,
    ApimartTaskRejectedError,
    ApimartTaskTimeoutError,
    ApimartTaskWaitError,
)
from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.links.video import VIDEO_URL_ATTRIBUTE, ApimartVideoLink
from airflow_provider_apimart.models.generic import GenericVideoRequest
from airflow_provider_apimart.models.kling import KlingV26Request
from airflow_provider_apimart.models.omni import OmniFlashExtRequest
from airflow_provider_apimart.models.requests import build_request
from airflow_provider_apimart.models.responses import FailureKind, TaskState, TaskStatus
from airflow_provider_apimart.models.wan26 import Wan26I2VFlashRequest
from airflow_provider_apimart.models.wan27 import Wan27Request
from airflow_provider_apimart.triggers.task import DEFAULT_POLL_INTERVAL, ApimartTaskTrigger, EventStatus
from airflow_provider_apimart.version_compat import AIRFLOW_V_3_3_PLUS, conf

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

    from airflow_provider_apimart.models.base import VideoGenerationRequest

#: XCom keys of the public contract.
XCOM_TASK_ID = "apimart_task_id"
XCOM_TASK_SUMMARY = "apimart_task"
#: The task_state_store key (Airflow 3.3+) that remembers the remote task across tries.
STATE_KEY = "apimart_remote_task"
#: The longest wait for one render unless ``timeout`` says otherwise (renders take minutes).
DEFAULT_TIMEOUT = timedelta(hours=1)

#: How a task ends when there is no video to return: a new try submits afresh.
ENDED_WITHOUT_VIDEO = frozenset({TaskState.FAILED, TaskState.CANCELLED})

_PERMANENT_WAIT_REASONS = frozenset({"authentication_failed", "request_rejected", "configuration"})


class ApimartBaseVideoOperator(BaseOperator):
    """Submit one APIMart video job and hand its video URLs downstream.

    **What a retry or a clear does.** The POST carries an ``Idempotency-Key`` made from dag_id,
    run_id, task_id, map_index and the request (never the try number). On Airflow 3.3+ the remote
    task id is also kept in ``task_state_store`` as soon as the POST returns, so a new try of the
    same logical task reattaches instead of submitting: still rendering, it waits again;
    completed, it returns the URLs without any POST; failed, cancelled or unknown to the API, it
    submits afresh (a new key, since the old job is over). On Airflow 3.1-3.2 there is no state
    store: a new try POSTs again with the same key, and only APIMart's handling of the key keeps
    it from paying twice. ``force_new_generation=True`` makes every try a new, paid job.

    :param apimart_conn_id: the ``apimart`` connection (API key, optional base URL).
    :param deferrable: wait in the triggerer and free the worker slot (default:
        ``[operators] default_deferrable``).
    :param wait_for_completion: False submits, pushes ``apimart_task_id`` and returns None.
    :param poll_interval: seconds between status checks; any positive number.
    :param timeout: longest wait for the render, in seconds or as a timedelta (default 1 h).
    :param force_new_generation: pay for a fresh video on every try instead of reattaching.
    """

    #: The request model of this operator's APIMart model (the generic operator picks by name).
    request_model: ClassVar[type[VideoGenerationRequest]] = GenericVideoRequest
    #: The API parameters this operator takes, by the API's own names.
    request_fields: ClassVar[tuple[str, ...]] = ()

    operator_extra_links = (ApimartVideoLink(),)
    ui_color = "#f3e8ff"

    def __init__(
        self,
        *,
        apimart_conn_id: str = ApimartHook.default_conn_name,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        wait_for_completion: bool = True,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | timedelta = DEFAULT_TIMEOUT,
        force_new_generation: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be a positive number of seconds, got {poll_interval!r}")
        self.apimart_conn_id = apimart_conn_id
        self.deferrable = deferrable
        self.wait_for_completion = wait_for_completion
        self.poll_interval = float(poll_interval)
        self.timeout_seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
        self.force_new_generation = force_new_generation

    # ------------------------------------------------------------------ the request

    def request_body(self) -> dict[str, Any]:
        """The wire body from the (rendered) parameters that were set."""
        body = {name: getattr(self, name) for name in self.request_fields if getattr(self, name) is not None}
        return {"model": self.request_model.MODEL_NAME, **body}

    def build_request(self) -> VideoGenerationRequest:
        """Validate the body with its model; an invalid one fails here, before any request."""
        return build_request(self.request_body())

    def _check_literal_request(self) -> None:
        """At DAG parse: a request made only of literal values is validated now."""
        if all(_is_literal(getattr(self, name)) for name in (*self.request_fields, *self.template_fields)):
            self.build_request()

    # ------------------------------------------------------------------ execute

    def execute(self, context: Context) -> list[str] | None:
        request = self.build_request()
        hook = ApimartHook(self.apimart_conn_id)
        fingerprint = _fingerprint(request.to_body())
        previous_task_id = self._previous_task_id(context, fingerprint)
        status = self._reattach(hook, previous_task_id) if previous_task_id else None
        if status is None:
            status = self._submit(context, hook, request, fingerprint, previous_task_id)
        context["ti"].xcom_push(key=XCOM_TASK_ID, value=status.id)
        if not self.wait_for_completion:
            self.log.info(
                "Submitted APIMart task %s; not waiting for it (wait_for_completion=False).", status.id
            )
            return None
        if status.is_terminal:
            return self._finish(context, status)
        end_time = time.time() + self.timeout_seconds
        if self.deferrable:
            self.log.info(
                "Waiting for APIMart task %s in the triggerer (polling every %g s, at most %g s); "
                "the worker slot is free meanwhile.",
                status.id,
                self.poll_interval,
                self.timeout_seconds,
            )
            self.defer(
                trigger=ApimartTaskTrigger(
                    remote_task_id=status.id,
                    apimart_conn_id=self.apimart_conn_id,
                    poll_interval=self.poll_interval,
                    end_time=end_time,
                ),
                method_name="execute_complete",
            )
        return self._finish(context, self._poll_on_worker(hook, status, end_time))

    def _submit(
        self,
        context: Context,
        hook: ApimartHook,
        request: VideoGenerationRequest,
        fingerprint: str,
        superseded: str | None,
    ) -> TaskStatus:
        """POST the job under a key of this logical task (and of the job it replaces, if any)."""
        for attempt in range(2):
            key = self._idempotency_key(context, fingerprint, superseded)
            remote_task_id = hook.submit_video(request, idempotency_key=key).task_id
            self._remember(context, remote_task_id, fingerprint)
            status = hook.get_task(remote_task_id)
            if attempt == 1 or status.state not in ENDED_WITHOUT_VIDEO:
                return status
            # A render cannot fail within a second of its submit: this is an earlier job that
            # APIMart replayed for the same key. Submit once more under a key of its own.
            self.log.warning(
                "APIMart returned the earlier %s task %s for this request; submitting a new one.",
                status.status,
                remote_task_id,
            )
            superseded = remote_task_id
        raise AssertionError("unreachable: the second attempt always returns")  # pragma: no cover

    def _previous_task_id(self, context: Context, fingerprint: str) -> str | None:
        """The remote task an earlier try of this same request made (Airflow 3.3+), if any."""
        store = _state_store(context)
        if store is None or self.force_new_generation:
            return None
        saved = store.get(STATE_KEY)
        if not isinstance(saved, dict) or saved.get("request_fingerprint") != fingerprint:
            return None
        return str(saved["remote_task_id"])

    def _reattach(self, hook: ApimartHook, remote_task_id: str) -> TaskStatus | None:
        """The earlier try's task if it can still give videos; None means submit afresh."""
        try:
            status = hook.get_task(remote_task_id)
        except ApimartNotFoundError:
            self.log.warning(
                "APIMart no longer knows task %s from a previous try: submitting afresh.", remote_task_id
            )
            return None
        if status.state in ENDED_WITHOUT_VIDEO:
            self.log.info(
                "APIMart task %s from a previous try %s: submitting afresh.", remote_task_id, status.status
            )
            return None
        self.log.info(
            "Reattached to APIMart task %s from a previous try (%s): no new charge.",
            remote_task_id,
            status.status,
        )
        return status

    def _remember(self, context: Context, remote_task_id: str, fingerprint: str) -> None:
        store = _state_store(context)
        if store is not None:
            store.set(STATE_KEY, {"remote_task_id": remote_task_id, "request_fingerprint": fingerprint})

    def _idempotency_key(self, context: Context, fingerprint: str, superseded: str | None) -> str:
        """dag_id, run_id, task_id, map_index and the request; never the try number, unless a
        fresh generation is forced. A job that is over without a video (``superseded``) gets a
        new key, or the API would hand that job back."""
        ti = context["ti"]
        parts: list[object] = [ti.dag_id, ti.run_id, ti.task_id, ti.map_index, fingerprint]
        if superseded is not None:
            parts.append(superseded)
        if self.force_new_generation:
            parts.append(f"try-{ti.try_number}")
        return "airflow-" + hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:48]

    def _poll_on_worker(self, hook: ApimartHook, status: TaskStatus, end_time: float) -> TaskStatus:
        self.log.info(
            "Waiting for APIMart task %s on this worker (polling every %g s).", status.id, self.poll_interval
        )
        last_progress = status.progress
        while not status.is_terminal:
            if time.time() >= end_time:
                raise _timeout_error(status.id, self.timeout_seconds)
            time.sleep(min(self.poll_interval, max(0.0, end_time - time.time())))
            status = hook.get_task(status.id)
            if status.progress != last_progress:
                last_progress = status.progress
                self.log.info("APIMart task %s is %s: %s%% done.", status.id, status.status, status.progress)
        return status

    # ------------------------------------------------------------------ resume and finish

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> list[str]:
        """Resume after the trigger fired: check the event, then finish or raise what it means."""
        return resume_from_event(
            self, context, event, self.apimart_conn_id, self.timeout_seconds, self._model_name()
        )

    def _finish(self, context: Context, status: TaskStatus) -> list[str]:
        return finish(self, context, status, self._model_name())

    def _model_name(self) -> str:
        return self.request_model.MODEL_NAME


def resume_from_event(
    task: BaseOperator,
    context: Context,
    event: dict[str, Any] | None,
    apimart_conn_id: str,
    timeout_seconds: float,
    model: str | None,
) -> list[str]:
    """What an ApimartTaskTrigger event means for the task: the URLs, or the typed error."""
    if not isinstance(event, dict) or event.get("status") not in {status.value for status in EventStatus}:
        raise ApimartTaskWaitError(f"The APIMart trigger sent an unexpected event: {event!r}")
    remote_task_id = str(event.get("remote_task_id") or "")
    message = str(event.get("message") or "")
    reason = str(event.get("reason") or "")
    status = EventStatus(event["status"])
    if status is EventStatus.SUCCESS:
        return finish(task, context, ApimartHook(apimart_conn_id).get_task(remote_task_id), model)
    if status is EventStatus.FAILED:
        kind = FailureKind(reason) if reason in {k.value for k in FailureKind} else FailureKind.TASK_FAILED
        raise _failed_error(kind, message, remote_task_id, event.get("error_code"))
    if status is EventStatus.CANCELLED:
        raise _cancelled_error(remote_task_id)
    if status is EventStatus.TIMEOUT:
        raise _timeout_error(remote_task_id, timeout_seconds)
    if reason in _PERMANENT_WAIT_REASONS:
        raise ApimartConfigurationError(
            f"Waiting for APIMart task {remote_task_id} failed ({reason}): {message}"
        )
    raise ApimartTaskWaitError(f"Waiting for APIMart task {remote_task_id} failed ({reason}): {message}")


def finish(task: BaseOperator, context: Context, status: TaskStatus, model: str | None) -> list[str]:
    """A finished task's URLs (``return_value``), its summary XCom and the link; or its error."""
    if status.state is not TaskState.COMPLETED:
        raise_for_unsuccessful(status)
    urls = status.video_urls
    if not urls:
        raise ApimartResponseError(f"APIMart task {status.id} is completed but its result has no video URL.")
    setattr(task, VIDEO_URL_ATTRIBUTE, urls[0])
    context["ti"].xcom_push(key=XCOM_TASK_SUMMARY, value=task_summary(status, model))
    task.log.info(
        "APIMart task %s completed: %d video(s), cost %s, rendered in %s s. %s",
        status.id,
        len(urls),
        status.cost if status.cost is not None else "not reported",
        status.actual_time if status.actual_time is not None else "?",
        _expiry_in_words(status.expires_at),
    )
    return urls


def raise_for_unsuccessful(status: TaskStatus) -> None:
    """The typed error for a task that ended failed or cancelled."""
    if status.state is TaskState.CANCELLED:
        raise _cancelled_error(status.id)
    error = status.error
    raise _failed_error(
        error.kind if error else FailureKind.TASK_FAILED,
        (error.message if error else None) or "no error message",
        status.id,
        error.code if error else None,
    )


def _failed_error(
    kind: FailureKind, message: str, remote_task_id: str, error_code: int | str | None
) -> ApimartTaskFailedError:
    """Moderation and invalid input fail without retries; other render failures may retry."""
    error_class = ApimartTaskRejectedError if kind.is_permanent else ApimartTaskFailedError
    return error_class(message, remote_task_id=remote_task_id, error_code=error_code, kind=kind.value)


def _cancelled_error(remote_task_id: str) -> ApimartTaskCancelledError:
    return ApimartTaskCancelledError(f"APIMart task {remote_task_id} was cancelled: nothing was generated.")


def task_summary(status: TaskStatus, model: str | None) -> dict[str, Any]:
    """The ``apimart_task`` XCom: what a downstream task or a person needs to know, JSON only."""
    return {
        "remote_task_id": status.id,
        "model": model,
        "status": status.status,
        "video_urls": status.video_urls,
        "expires_at": status.expires_at,
        "cost": status.cost,
        "actual_time": status.actual_time,
    }


def _state_store(context: Context) -> Any:
    return context.get("task_state_store") if AIRFLOW_V_3_3_PLUS else None


def _fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _timeout_error(remote_task_id: str, timeout_seconds: float) -> ApimartTaskTimeoutError:
    return ApimartTaskTimeoutError(
        f"APIMart task {remote_task_id} did not finish within {timeout_seconds:g} s; it may still be "
        "rendering (and billed). A retry waits for the same task on Airflow 3.3+."
    )


def _expiry_in_words(expires_at: float | None) -> str:
    if expires_at is None:
        return "The API gave no expiry for the URLs: copy the videos soon."
    when = datetime.fromtimestamp(expires_at, tz=timezone.utc)
    hours = (expires_at - time.time()) / 3600
    return f"The URLs expire at {when:%Y-%m-%d %H:%M} UTC (in {hours:.1f} h): copy the videos before then."


def _is_literal(value: Any) -> bool:
    """A value known at DAG parse: no Jinja, no XComArg or other lazy object."""
    if value is None or isinstance(value, bool | int | float):
        return True
    if isinstance(value, str):
        return "{{" not in value and "{%" not in value
    if isinstance(value, list | tuple):
        return all(_is_literal(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_literal(item) for key, item in value.items())
    return False


_LIST_OR_DICT_RENDERERS = {
    "image_urls": "json",
    "image_with_roles": "json",
    "video_urls": "json",
    "body": "json",
}


class _ModelVideoOperator(ApimartBaseVideoOperator):
    """The shared constructor tail of the per-model operators."""

    def _set_request_fields(self, values: dict[str, Any]) -> None:
        for name in self.request_fields:
            setattr(self, name, values[name])
        self._check_literal_request()


class ApimartWan26I2VFlashOperator(_ModelVideoOperator):
    """``wan2.6-i2v-flash``: image-to-video from one first-frame image.

    The API parameters keep their API names; unset ones are not sent (the API's defaults apply).
    See the model page for each: exactly one ``image_urls`` entry, ``duration`` 2-15, and so on.
    """

    request_model = Wan26I2VFlashRequest
    request_fields = (
        "image_urls", "prompt", "negative_prompt", "resolution", "duration", "audio", "audio_url",
        "prompt_extend", "shot_type", "seed", "watermark", "template",
    )  # fmt: skip
    template_fields: Sequence[str] = request_fields
    template_fields_renderers = _LIST_OR_DICT_RENDERERS

    def __init__(
        self,
        *,
        image_urls: list[str] | str,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        resolution: str | None = None,
        duration: int | str | None = None,
        audio: bool | None = None,
        audio_url: str | None = None,
        prompt_extend: bool | None = None,
        shot_type: str | None = None,
        seed: int | str | None = None,
        watermark: bool | None = None,
        template: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_request_fields(locals())


class ApimartWan27Operator(_ModelVideoOperator):
    """``wan2.7``: text-to-video, first(/last)-frame video, or continuation of a video.

    No ``image_urls``, ``image_with_roles`` or ``video_urls`` means text-to-video, where
    ``prompt`` is required.
    """

    request_model = Wan27Request
    request_fields = (
        "prompt", "image_urls", "image_with_roles", "video_urls", "negative_prompt", "resolution",
        "duration", "size", "audio_url", "prompt_extend", "watermark", "seed",
    )  # fmt: skip
    template_fields: Sequence[str] = request_fields
    template_fields_renderers = _LIST_OR_DICT_RENDERERS

    def __init__(
        self,
        *,
        prompt: str | None = None,
        image_urls: list[str] | str | None = None,
        image_with_roles: list[dict[str, str]] | str | None = None,
        video_urls: list[str] | str | None = None,
        negative_prompt: str | None = None,
        resolution: str | None = None,
        duration: int | str | None = None,
        size: str | None = None,
        audio_url: str | None = None,
        prompt_extend: bool | None = None,
        watermark: bool | None = None,
        seed: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_request_fields(locals())


class ApimartOmniFlashExtOperator(_ModelVideoOperator):
    """``Omni-Flash-Ext``: text-to-video, one-image video, or 3-image fusion (never 2 images)."""

    request_model = OmniFlashExtRequest
    request_fields = ("prompt", "duration", "resolution", "aspect_ratio", "size", "image_urls", "video_urls")
    template_fields: Sequence[str] = request_fields
    template_fields_renderers = _LIST_OR_DICT_RENDERERS

    def __init__(
        self,
        *,
        prompt: str,
        duration: int | str | None = None,
        resolution: str | None = None,
        aspect_ratio: str | None = None,
        size: str | None = None,
        image_urls: list[str] | str | None = None,
        video_urls: list[str] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_request_fields(locals())


class ApimartKlingV26Operator(_ModelVideoOperator):
    """``kling-v2-6``: text- or image-to-video; ``mode="pro"`` for 1080P, audio, or a last frame."""

    request_model = KlingV26Request
    request_fields = (
        "prompt", "mode", "duration", "aspect_ratio", "negative_prompt", "image_urls", "audio", "watermark",
    )  # fmt: skip
    template_fields: Sequence[str] = request_fields
    template_fields_renderers = _LIST_OR_DICT_RENDERERS

    def __init__(
        self,
        *,
        prompt: str,
        mode: str | None = None,
        duration: int | str | None = None,
        aspect_ratio: str | None = None,
        negative_prompt: str | None = None,
        image_urls: list[str] | str | None = None,
        audio: bool | None = None,
        watermark: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_request_fields(locals())


class ApimartVideoGenerationOperator(ApimartBaseVideoOperator):
    """Any APIMart video model: ``model`` and the rest of the request ``body`` as the API takes it.

    Bodies for the four documented models are still checked with their rules; for other models
    only ``model`` is checked and the body is sent as given.
    """

    template_fields: Sequence[str] = ("model", "body")
    template_fields_renderers = _LIST_OR_DICT_RENDERERS

    def __init__(self, *, model: str, body: dict[str, Any] | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.body = body if body is not None else {}
        self._check_literal_request()

    def request_body(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise ApimartConfigurationError(
                f"body must render to a dict of API parameters, got {self.body!r}"
            )
        return {**self.body, "model": self.model}

    def _model_name(self) -> str:
        return str(self.model)
