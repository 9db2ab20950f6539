"""What the operators and the sensor share: waiting for a remote task, and how the task ends.

:class:`ApimartWaitMixin` checks the status once, then either defers to ApimartTaskTrigger or reads on the
worker; both end in a :class:`~airflow_provider_apimart.waiting.events.WaitEvent`, and
:meth:`ApimartWaitMixin.conclude` turns any event into the task's result (URLs, XComs, link) or raises the
error it means.

A DAG parse imports this module (the operators and the sensor derive from the mixin) but runs
none of it, so what only a running task needs (the hook, the trigger, storage, the answer
models) is imported inside the methods that use it: benchmarks/imports.py measures the saving.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.exceptions import (
    ApimartConfigurationError,
    ApimartError,
    ApimartResponseError,
    ApimartVideoExpiredError,
)
from airflow_provider_apimart.handover import (
    ENDINGS_RECORDED,
    ending_summary,
    error_entry,
    push_summary,
    show_links,
    task_summary,
)
from airflow_provider_apimart.storage_paths import relative_path_problem
from airflow_provider_apimart.templating import is_literal
from airflow_provider_apimart.waiting.rules import WaitRules

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator, Context

    from airflow_provider_apimart.hooks.apimart import ApimartHook
    from airflow_provider_apimart.models.responses import TaskStatus
    from airflow_provider_apimart.outputs.store import StoredVideo
    from airflow_provider_apimart.waiting.events import WaitEvent

    _OperatorBase = BaseOperator
else:
    _OperatorBase = object


class ApimartWaitMixin(_OperatorBase):
    """Waiting and finishing, for a class that also derives from BaseOperator.

    The host calls :meth:`configure_wait` (``apimart_conn_id``, the :class:`WaitRules`,
    ``deferrable``, ``output_path``), and says how long a wait may last
    (:meth:`wait_timeout_seconds`) and which model made the video (:meth:`model_name`).
    """

    apimart_conn_id: str
    wait_rules: WaitRules
    deferrable: bool
    output_path: str | None

    def configure_wait(
        self,
        *,
        apimart_conn_id: str,
        deferrable: bool,
        poll_interval: float,
        first_poll_delay: float,
        max_poll_interval: float | None,
        output_path: str | None,
    ) -> None:
        """Check and keep the waiting arguments that the operators and the sensor share."""
        self.wait_rules = WaitRules.checked(
            where=f"Task {self.task_id!r}",
            poll_interval=poll_interval,
            first_poll_delay=first_poll_delay,
            max_poll_interval=max_poll_interval,
        )
        if output_path is not None and is_literal(output_path):
            problem = relative_path_problem(output_path)
            if problem is not None:  # known at DAG parse: refuse it now, not after a paid render
                raise ApimartConfigurationError(f"Task {self.task_id!r}: {problem}")
        self.apimart_conn_id = apimart_conn_id
        self.deferrable = deferrable
        self.output_path = output_path

    def wait_timeout_seconds(self) -> float:
        raise NotImplementedError

    def model_name(self) -> str | None:
        return None

    def submission_summary(self) -> dict[str, Any]:
        """What the submit said (request id, replay, response version, schema), for the XCom."""
        return {}

    def account_for(
        self, context: Context, hook: ApimartHook, cost: float | None, *, completed: bool
    ) -> dict[str, Any]:
        """Settle the render's spend once its cost is known; the summary's ``spend`` entry (operators
        with limits settle, see operators/spending.py; the sensor pays for nothing)."""
        return {}

    def resume_kwargs(self) -> dict[str, Any]:
        """What the resumed ``execute_complete`` needs beside the event."""
        return {}

    def open_hook(self) -> ApimartHook:
        """A hook on this task's connection, to use as a context manager (it closes its clients)."""
        from airflow_provider_apimart.hooks.apimart import ApimartHook

        return ApimartHook(self.apimart_conn_id)

    def wait_for_task(
        self, context: Context, hook: ApimartHook, remote_task_id: str, status: TaskStatus | None = None
    ) -> list[str]:
        """Check the status once (unless ``status`` is fresh), then defer or read on this worker."""
        from airflow_provider_apimart.triggers.task import ApimartTaskTrigger
        from airflow_provider_apimart.waiting.loops import read_status, wait_on_worker
        from airflow_provider_apimart.waiting.poller import TaskPoller

        rules = self.wait_rules
        poller = TaskPoller(remote_task_id, rules.until(time.time() + self.wait_timeout_seconds()))
        step = poller.after_status(status, time.time()) if status else read_status(hook, poller, self.log)
        if step.event is not None:
            return self.conclude(context, hook, step.event, step.status)
        poller.plan_first_read(step, time.time())  # the next read as this one said, not a fixed 5 s on
        if self.deferrable:
            self.log.info(
                "Waiting for APIMart task %s in the triggerer (polling every %g-%g s as the render "
                "progresses, at most %g s); the worker slot is free meanwhile.",
                remote_task_id,
                rules.poll_interval,
                rules.max_poll_interval,
                self.wait_timeout_seconds(),
            )
            self.defer(
                trigger=ApimartTaskTrigger.for_rules(remote_task_id, self.apimart_conn_id, poller.rules),
                method_name="execute_complete",
                kwargs=self.resume_kwargs() or None,
            )
        self.log.info(
            "Waiting for APIMart task %s on this worker (polling every %g s).",
            remote_task_id,
            rules.poll_interval,
        )
        event, last_status = wait_on_worker(hook, poller, self.log)
        return self.conclude(context, hook, event, last_status)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> list[str]:
        """Resume after the trigger fired: the same handler as on the worker."""
        from airflow_provider_apimart.waiting.events import WaitEvent

        wait_event = WaitEvent.from_payload(event)
        with self.open_hook() as hook:
            return self.conclude(context, hook, wait_event, None)

    def conclude(
        self, context: Context, hook: ApimartHook, event: WaitEvent, status: TaskStatus | None
    ) -> list[str]:
        """The task's result for a success, else the error the event means."""
        from airflow_provider_apimart.models.responses import TaskState

        if not event.succeeded:
            error = event.error()
            self.record_ending(context, event, error, self._account_for_ending(context, hook, event))
            raise error
        if status is None or status.state is not TaskState.COMPLETED:
            # The trigger's event holds no signed URL: read them now, on the worker.
            status = hook.get_task(event.remote_task_id)
        return self.finish(context, hook, status)

    def finish(self, context: Context, hook: ApimartHook, status: TaskStatus) -> list[str]:
        """A completed task's result: its videos stored in ``output_path`` (their URIs) or its
        URLs, the summary XCom, the link and the asset events; or the error of its ending."""
        from airflow_provider_apimart.models.responses import TaskState
        from airflow_provider_apimart.publishing import publish
        from airflow_provider_apimart.waiting import events

        if not status.is_terminal:
            raise ApimartResponseError(f"APIMart task {status.id} is {status.status}, not finished.")
        if status.state is not TaskState.COMPLETED:
            ending = events.for_terminal_status(status)
            error = ending.error()
            self.record_ending(context, ending, error, self._account_for_ending(context, hook, ending))
            raise error
        if not status.video_urls:
            raise ApimartResponseError(
                f"APIMart task {status.id} is completed but its result has no video URL."
            )
        spend = self.account_for(context, hook, status.cost, completed=True)  # paid, stored or not
        stored: list[StoredVideo] = []
        if self.output_path:
            try:
                stored, status = self._store_outputs(context, hook, status, self.output_path)
            except ApimartError as error:
                self.record_unstored(context, status, error, spend)
                raise
        summary = {
            **task_summary(status, self.model_name()),
            **self.submission_summary(),
            "request": self.request_summary(),
            **spend,
        }
        if self.output_path:
            summary["outputs"] = [video.to_xcom() for video in stored]
        result = [video.uri for video in stored] if self.output_path else status.video_urls
        show_links(self, context, [video.uri for video in stored], status.video_urls)
        push_summary(context, summary)
        publish(self.outlets, context, summary, lineage_context=hook)
        self.log.info(
            "APIMart task %s completed: %d video(s), cost %s, rendered in %s s. %s",
            status.id,
            len(status.video_urls),
            status.cost if status.cost is not None else "not reported",
            status.actual_time if status.actual_time is not None else "?",
            f"Stored in {self.output_path}." if self.output_path else _expiry_in_words(status.expires_at),
        )
        return result

    def request_summary(self) -> dict[str, Any] | None:
        """The body that was sent (operators), for a person reviewing the video; None: unknown here."""
        return None

    def _account_for_ending(self, context: Context, hook: ApimartHook, event: WaitEvent) -> dict[str, Any]:
        """A failed or cancelled render releases its reservation; a timed-out one may still render
        and be billed, so it stays held until a later try settles it."""
        if event.status.value not in {"failed", "cancelled"}:
            return {}
        return self.account_for(context, hook, None, completed=False)

    def record_ending(
        self, context: Context, event: WaitEvent, error: Exception, spend: dict[str, Any] | None = None
    ) -> None:
        """Say in the ``apimart_task`` XCom why a render ended without a video (failed, moderated,
        cancelled, timed out), so the UI and downstream tools show the reason, not only the log."""
        if event.status.value not in ENDINGS_RECORDED:
            return  # an error reading the status says nothing of the render
        summary = {
            **ending_summary(event.remote_task_id, self.model_name(), event.status.value),
            **(spend or {}),
        }
        self._push_summary(context, summary, event.reason, error)

    def record_unstored(
        self, context: Context, status: TaskStatus, error: Exception, spend: dict[str, Any] | None = None
    ) -> None:
        """Say in the ``apimart_task`` XCom that a paid video was not stored, and until when its
        source URL lives, so a person can still save it (the UI shows it)."""
        summary = {**task_summary(status, self.model_name()), **(spend or {})}
        self._push_summary(context, summary, "not_stored", error)

    def _push_summary(self, context: Context, summary: dict[str, Any], reason: str, error: Exception) -> None:
        summary = {
            **summary,
            **self.submission_summary(),
            "request": self.request_summary(),
            "error": error_entry(reason, error),
        }
        try:
            push_summary(context, summary)
        except Exception:  # the task's own error matters more than its record
            self.log.warning(
                "Could not record how APIMart task %s ended.", summary["remote_task_id"], exc_info=True
            )

    def provenance(self, context: Context) -> dict[str, Any]:
        """What made the stored videos, for their records (the request is added by operators)."""
        ti = context["ti"]
        return {
            "model": self.model_name(),
            "dag_id": ti.dag_id,
            "run_id": ti.run_id,
            "task_id": ti.task_id,
            "map_index": ti.map_index,
            "try_number": ti.try_number,
        }

    def _store_outputs(
        self, context: Context, hook: ApimartHook, status: TaskStatus, output_path: str
    ) -> tuple[list[StoredVideo], TaskStatus]:
        """Copy the videos into ``output_path``; once, read the task again for fresh URLs if they
        were refused (403/404/410), then give up saying when they expired."""
        from airflow_provider_apimart.outputs.store import store_videos

        provenance = self.provenance(context)
        try:
            return store_videos(output_path, status, provenance=provenance, log=self.log), status
        except ApimartVideoExpiredError as refused:
            self.log.warning("%s Reading APIMart task %s again for fresh URLs.", refused, status.id)
            fresh = hook.get_task(status.id)
            try:
                return store_videos(output_path, fresh, provenance=provenance, log=self.log), fresh
            except ApimartVideoExpiredError as error:
                raise ApimartVideoExpiredError(
                    f"The videos of APIMart task {status.id} expired before they could be copied to "
                    f"{output_path} (expires_at {_when(fresh.expires_at)}); the render was paid "
                    f"for. {error}"
                ) from error


def _when(epoch: float | None) -> str:
    return (
        "unknown" if epoch is None else f"{datetime.fromtimestamp(epoch, tz=timezone.utc):%Y-%m-%d %H:%M} UTC"
    )


def _expiry_in_words(expires_at: float | None) -> str:
    if expires_at is None:
        return "The API gave no expiry for the URLs: copy the videos soon."
    when = datetime.fromtimestamp(expires_at, tz=timezone.utc)
    hours = (expires_at - time.time()) / 3600
    return f"The URLs expire at {when:%Y-%m-%d %H:%M} UTC (in {hours:.1f} h): copy the videos before then."
