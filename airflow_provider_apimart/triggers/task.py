"""ApimartTaskTrigger: wait for an APIMart task in the triggerer, without holding a worker slot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_apimart.hooks import DEFAULT_CONN_ID
from airflow_provider_apimart.waiting.defaults import (
    DEFAULT_FIRST_POLL_DELAY,
    DEFAULT_MAX_FAILING_POLLS,
    DEFAULT_POLL_INTERVAL,
)
from airflow_provider_apimart.waiting.events import EventStatus
from airflow_provider_apimart.waiting.poller import TaskPoller
from airflow_provider_apimart.waiting.rules import WaitRules

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ["DEFAULT_POLL_INTERVAL", "ApimartTaskTrigger", "EventStatus"]

#: Idle pooled connections outlive the widest poll interval by this much, so each poll reuses its
#: connection instead of a new TLS handshake (docs/performance.md).
KEEPALIVE_MARGIN = 60.0


class ApimartTaskTrigger(BaseTrigger):
    """Poll ``GET /v1/tasks/{remote_task_id}`` until the task ends, then fire exactly one event.

    The event's payload is a :class:`~airflow_provider_apimart.waiting.events.WaitEvent`: status
    ``success``, ``failed``, ``cancelled``, ``timeout`` or ``error``, a machine-readable
    ``reason``, the message, and for errors what rebuilds the same exception on resume. It holds
    no result URL (they are signed: the operator reads them once it resumes) and no key. The
    waiting rules (first-read delay, tolerated failures, backoff, deadline) are the
    :class:`~airflow_provider_apimart.waiting.poller.TaskPoller`'s, the same as on a worker.

    :param remote_task_id: the APIMart task id (named so because the triggerer overwrites
        ``task_id`` with the Airflow task's id).
    :param apimart_conn_id: the Airflow connection; looked up once per run.
    :param poll_interval: seconds between reads; any positive, finite number.
    :param end_time: absolute deadline, unix epoch seconds (survives triggerer restarts).
    :param max_failing_polls: failed reads in a row tolerated before giving up.
    :param first_poll_delay: the fewest seconds before the first read (plus up to 2 s of jitter
        when there is no ``first_read_at`` to go by).
    :param max_poll_interval: the widest gap between reads while the render is far from its
        estimated end (at least ``poll_interval``; default 60 s, or ``poll_interval`` if larger);
        near it, reads come every ``poll_interval``.
    :param first_read_at: unix seconds by which to read first: when the operator's read before
        the deferral said to read next, from the render's estimate. The first read comes at a
        random point of the later half of the wait until then (a fan-out's first reads spread
        out), never sooner than ``first_poll_delay`` after the run starts.

    The six numbers are one :class:`~airflow_provider_apimart.waiting.rules.WaitRules`
    (``rules``), checked here by the same rules as on the operators; the kwargs keep their names,
    so a trigger stored by an earlier release loads.
    """

    def __init__(
        self,
        remote_task_id: str,
        apimart_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        end_time: float | None = None,
        max_failing_polls: int = DEFAULT_MAX_FAILING_POLLS,
        first_poll_delay: float = DEFAULT_FIRST_POLL_DELAY,
        max_poll_interval: float | None = None,
        first_read_at: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.remote_task_id = remote_task_id
        self.apimart_conn_id = apimart_conn_id
        self.rules = WaitRules.checked(
            where=f"ApimartTaskTrigger for {remote_task_id}",
            poll_interval=poll_interval,
            end_time=end_time,
            max_failing_polls=max_failing_polls,
            first_poll_delay=first_poll_delay,
            max_poll_interval=max_poll_interval,
            first_read_at=first_read_at,
        )

    @classmethod
    def for_rules(cls, remote_task_id: str, apimart_conn_id: str, rules: WaitRules) -> ApimartTaskTrigger:
        """The trigger of a wait whose rules are already checked (the operators', the sensor's)."""
        return cls(remote_task_id, apimart_conn_id, **rules.to_kwargs())

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "remote_task_id": self.remote_task_id,
                "apimart_conn_id": self.apimart_conn_id,
                **self.rules.to_kwargs(),
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # Here, not at the top: the triggerer runs this, a DAG parse that imports the module does not.
        from airflow_provider_apimart.hooks.apimart import ApimartHook
        from airflow_provider_apimart.waiting.loops import wait_in_triggerer

        poller = TaskPoller(self.remote_task_id, self.rules)
        hook = ApimartHook(
            self.apimart_conn_id,
            keepalive_expiry=self.rules.max_poll_interval + KEEPALIVE_MARGIN,
            share_connection_lookup=True,  # a burst of trigger starts looks the connection up once
        )
        async with hook:
            # The class's logger, not one per trigger (about 1 KB each): the triggerer routes each
            # line to its trigger's log by context, not by logger.
            event = await wait_in_triggerer(hook, poller, type(self).logger())
        yield TriggerEvent(event.to_payload())  # type: ignore[no-untyped-call]

    async def on_kill(self) -> None:
        """Called by Airflow 3.3+ when a user kills the deferred task."""
        self.log.warning(
            "APIMart offers no endpoint to cancel a task: %s keeps rendering and is billed as usual; "
            "this only stops waiting for it.",
            self.remote_task_id,
        )
