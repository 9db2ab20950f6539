"""A task-status read: the path asked for, and an answer checked to be about that task."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow_provider_apimart.exceptions import ApimartResponseError
from airflow_provider_apimart.hooks._answers import data_of, parse_answer
from airflow_provider_apimart.models.responses import TaskStatus

TASK_PATH = "/v1/tasks/{remote_task_id}"


def task_path(remote_task_id: str) -> str:
    if not remote_task_id or not remote_task_id.strip():
        raise ValueError("remote_task_id must be a non-empty APIMart task id")
    return TASK_PATH.format(remote_task_id=quote(remote_task_id.strip(), safe=""))


def status_of(remote_task_id: str, payload: Any) -> TaskStatus:
    """The status in ``payload``, which must be the one asked for: another task's "completed"
    would hand on, store and bill the wrong video."""
    status = parse_answer(TaskStatus, data_of(payload), what="task status")
    if status.id != remote_task_id.strip():
        raise ApimartResponseError(
            f"APIMart answered a status read of task {remote_task_id} with the status of task "
            f"{status.id!r}; the answer was ignored."
        )
    return status
