"""ApimartTaskSensor: wait for an APIMart task made elsewhere (another DAG, a script, a webhook)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_apimart.exceptions import ApimartError
from airflow_provider_apimart.hooks import DEFAULT_CONN_ID
from airflow_provider_apimart.links.video import ApimartVideoLink
from airflow_provider_apimart.version_compat import AirflowSkipException, conf
from airflow_provider_apimart.waiting.defaults import (
    DEFAULT_FIRST_POLL_DELAY,
    DEFAULT_POLL_INTERVAL,
)
from airflow_provider_apimart.waiting.outcome import ApimartWaitMixin
from airflow_provider_apimart.waiting.rules import checked_number

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

    from airflow_provider_apimart.waiting.poller import TaskPoller


class ApimartTaskSensor(ApimartWaitMixin, BaseSensorOperator):
    """Wait until ``remote_task_id`` ends; same XComs and the same errors as the operators.

    ``return_value`` is the list of video URLs and ``apimart_task`` the summary. A failed task raises at once
    (moderation and invalid input without retries) instead of poking until ``timeout``. Deferrable (default
    from ``[operators] default_deferrable``), it checks once and then waits in ApimartTaskTrigger; in ``poke``
    mode it waits on the worker with the operators' own loop (same backoff, same tolerance,
    :class:`~airflow_provider_apimart.exceptions.ApimartTaskTimeoutError` after ``timeout``); in
    ``reschedule`` mode each poke is one status read between reschedules, and Airflow's sensor timeout
    applies.

    :param remote_task_id: the APIMart task id (templated, e.g. from an upstream XCom).
    :param apimart_conn_id: the ``apimart`` connection.
    :param poll_interval: seconds between checks (sets ``poke_interval``).
    :param first_poll_delay: the fewest seconds before the first check after deferring or starting
        to wait (the check before says when, from the render's estimate).
    :param max_poll_interval: the widest gap between checks while the render is far from done.
    :param deferrable: wait in the triggerer instead of on a worker.
    :param output_path: where to keep the videos, as on the operators (templated).
    """

    template_fields: Sequence[str] = ("remote_task_id", "output_path")
    operator_extra_links = (ApimartVideoLink(),)
    ui_color = "#f3e8ff"

    def __init__(
        self,
        *,
        remote_task_id: str,
        apimart_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        first_poll_delay: float = conf.getfloat(
            "apimart", "first_poll_delay", fallback=DEFAULT_FIRST_POLL_DELAY
        ),
        max_poll_interval: float | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        output_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poll_interval, **kwargs)
        self.remote_task_id = remote_task_id
        self.configure_wait(
            apimart_conn_id=apimart_conn_id,
            deferrable=deferrable,
            poll_interval=poll_interval,
            first_poll_delay=first_poll_delay,
            max_poll_interval=max_poll_interval,
            output_path=output_path,
        )
        checked_number("timeout", self.timeout, where=f"Task {self.task_id!r}")
        self._poke_poller: TaskPoller | None = None

    def wait_timeout_seconds(self) -> float:
        return float(self.timeout)

    def execute(self, context: Context) -> Any:
        if self.reschedule and not self.deferrable:
            return super().execute(context)
        try:
            with self.open_hook() as hook:
                return self.wait_for_task(context, hook, self.remote_task_id)
        except ApimartError as error:
            # What BaseSensorOperator does with a failure when the user asked for it.
            if self.soft_fail or getattr(self, "never_fail", False):
                raise AirflowSkipException(f"Skipping: {error}") from error
            raise

    def poke(self, context: Context) -> PokeReturnValue | bool:
        """One status read (reschedule mode): False while it runs, the URLs once completed."""
        from airflow_provider_apimart.waiting.loops import read_status
        from airflow_provider_apimart.waiting.poller import TaskPoller

        if self._poke_poller is None:
            self._poke_poller = TaskPoller(self.remote_task_id, self.wait_rules)  # Airflow's timeout applies
        with self.open_hook() as hook:
            step = read_status(hook, self._poke_poller, self.log)
            if step.event is None:
                return False
            return PokeReturnValue(
                is_done=True, xcom_value=self.conclude(context, hook, step.event, step.status)
            )
