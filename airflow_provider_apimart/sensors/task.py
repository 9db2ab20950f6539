"""ApimartTaskSensor: wait for an APIMart task made elsewhere (another DAG, a script, a webhook)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.links.video import ApimartVideoLink
from airflow_provider_apimart.operators.video import finish, resume_from_event
from airflow_provider_apimart.triggers.task import DEFAULT_POLL_INTERVAL, ApimartTaskTrigger
from airflow_provider_apimart.version_compat import conf

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context


class ApimartTaskSensor(BaseSensorOperator):
    """Wait until ``remote_task_id`` ends; same XComs as the operators, and it fails fast.

    ``return_value`` is the list of video URLs and ``apimart_task`` the summary. A failed task
    raises at once (moderation and invalid input without retries) instead of poking until
    ``timeout``. Deferrable by default when ``[operators] default_deferrable`` is set.

    :param remote_task_id: the APIMart task id (templated, e.g. from an upstream XCom).
    :param apimart_conn_id: the ``apimart`` connection.
    :param poll_interval: seconds between checks (sets ``poke_interval``).
    :param deferrable: wait in the triggerer instead of poking on a worker.
    """

    template_fields: Sequence[str] = ("remote_task_id",)
    operator_extra_links = (ApimartVideoLink(),)
    ui_color = "#f3e8ff"

    def __init__(
        self,
        *,
        remote_task_id: str,
        apimart_conn_id: str = ApimartHook.default_conn_name,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poll_interval, **kwargs)
        self.remote_task_id = remote_task_id
        self.apimart_conn_id = apimart_conn_id
        self.poll_interval = float(poll_interval)
        self.deferrable = deferrable

    def execute(self, context: Context) -> Any:  # noqa: RET503 - defer() raises TaskDeferred
        if not self.deferrable:
            return super().execute(context)
        # One check on the worker first: a task that is already over needs no trigger.
        result = self.poke(context)
        if isinstance(result, PokeReturnValue) and result.is_done:
            return result.xcom_value
        self.defer(
            trigger=ApimartTaskTrigger(
                remote_task_id=self.remote_task_id,
                apimart_conn_id=self.apimart_conn_id,
                poll_interval=self.poll_interval,
                end_time=time.time() + float(self.timeout),
            ),
            method_name="execute_complete",
        )

    def poke(self, context: Context) -> PokeReturnValue | bool:
        status = ApimartHook(self.apimart_conn_id).get_task(self.remote_task_id)
        if not status.is_terminal:
            self.log.info("APIMart task %s is %s (%s%% done).", status.id, status.status, status.progress)
            return False
        return PokeReturnValue(is_done=True, xcom_value=finish(self, context, status, model=None))

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> list[str]:
        return resume_from_event(self, context, event, self.apimart_conn_id, float(self.timeout), model=None)
