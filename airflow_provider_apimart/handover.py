"""What a task hands to the tasks, people and tools after it: its XComs and its links.

``return_value`` is the task's result (URLs, or stored URIs). ``apimart_task_id`` is the remote
id, pushed as soon as the submit answers; ``apimart_task`` is the summary of how the render
ended (the UI, downstream tasks and reviewers read it). The asset events of the task's outlets
are :mod:`airflow_provider_apimart.publishing`'s. JSON only; never a key.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.links.video import STORED_VIDEO_URL_ATTRIBUTE, VIDEO_URL_ATTRIBUTE, links_for

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator, Context

    from airflow_provider_apimart.models.responses import TaskStatus

#: XCom keys of the public contract.
XCOM_TASK_ID = "apimart_task_id"
XCOM_TASK_SUMMARY = "apimart_task"
#: Endings of a render that the ``apimart_task`` XCom records (an unreadable status is not one).
ENDINGS_RECORDED = frozenset({"failed", "cancelled", "timeout"})


def task_summary(status: TaskStatus, model: str | None) -> dict[str, Any]:
    """The ``apimart_task`` XCom: what a downstream task or a person needs to know, JSON only."""
    return {
        "remote_task_id": status.id,
        "model": model,
        "status": status.status,
        "video_urls": status.video_urls,
        "expires_at": status.expires_at,
        # The same instant for a person reading the XCom tab (the number is the contract).
        "expires_at_iso": _iso(status.expires_at),
        "cost": status.cost,
        "actual_time": status.actual_time,
    }


def ending_summary(remote_task_id: str, model: str | None, ending: str) -> dict[str, Any]:
    """The ``apimart_task`` XCom of a render that ended without a video (one of ``ENDINGS_RECORDED``)."""
    return {
        "remote_task_id": remote_task_id,
        "model": model,
        "status": ending,
        "video_urls": [],
        "cost": None,
    }


def error_entry(reason: str, error: Exception) -> dict[str, Any]:
    """The summary's ``error``: why the task failed, as the UI shows it."""
    return {"reason": reason, "class": type(error).__name__, "message": str(error)}


def push_task_id(context: Context, remote_task_id: str) -> None:
    context["ti"].xcom_push(key=XCOM_TASK_ID, value=remote_task_id)


def push_summary(context: Context, summary: dict[str, Any]) -> None:
    context["ti"].xcom_push(key=XCOM_TASK_SUMMARY, value=summary)


def show_links(
    operator: BaseOperator, context: Context, stored_uris: list[str], video_urls: list[str]
) -> None:
    """Record on the operator what its extra links open (Airflow reads them when the try ends)."""
    ti = context["ti"]
    source_link, stored_link = links_for(
        stored_uris,
        video_urls,
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        task_id=ti.task_id,
        map_index=ti.map_index if ti.map_index is not None else -1,
    )
    setattr(operator, VIDEO_URL_ATTRIBUTE, source_link)
    setattr(operator, STORED_VIDEO_URL_ATTRIBUTE, stored_link)


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat()
