"""What the provider keeps in Airflow's ``task_state_store`` (3.3+), and under which keys.

A later try of the same logical task reads these, so a retry or a clear reattaches to the job
already paid for, reuses its uploads and, for ``@task.apimart_video``, resumes with the request
it deferred with. Before Airflow 3.3 there is no store: :func:`state_store` is None and each try
starts from what the API says (docs: Retries and cost). The keys and the shape of what is stored
under them are a contract with earlier releases: a retry after an upgrade still reads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_apimart.version_compat import AIRFLOW_V_3_3_PLUS

if TYPE_CHECKING:
    from airflow.sdk import Context

#: The submit's record (``SubmitRecord``, in ``operators/submission.py``): which remote task this
#: request already made.
SUBMIT_RECORD_STATE_KEY = "apimart_remote_task"
#: The uploads this task made, by the sha256 of their content: ``{sha256: {"url", "expires_at"}}``.
UPLOADS_STATE_KEY = "apimart_uploads"
#: The request a ``@task.apimart_video`` function returned, for the resumed task: ``dag.test()``
#: drops the deferral's kwargs when its inline trigger fires (before apache/airflow#69942).
TASKFLOW_REQUEST_STATE_KEY = "apimart_taskflow_request"


class StateStore(Protocol):
    """What this provider uses of ``context["task_state_store"]``."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


def state_store(context: Context) -> StateStore | None:
    """``task_state_store`` where the running Airflow has it (3.3+), else None."""
    store: StateStore | None = context.get("task_state_store") if AIRFLOW_V_3_3_PLUS else None
    return store
