"""Generations as the UI shows them, read from what Airflow already stores: no table of our own.

Each APIMart task instance leaves XComs: ``apimart_task_id`` once it has submitted, and
``apimart_task`` (the summary: model, cost, outputs, the request, why it ended) once it has ended.
A row of :class:`Generation` is one task instance's newest word, joined with its state. Nothing
here reads a file or talks to APIMart, and callers pass the DAG ids the user may read: a row of any
other DAG is never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.waiting.outcome import XCOM_TASK_ID, XCOM_TASK_SUMMARY

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from sqlalchemy.orm import Session

#: Failure reasons that mean the content was refused (the render is not retried, and is counted apart).
MODERATED_REASONS = frozenset({"content_moderation"})


class Outcome(str, Enum):
    """Where a generation stands, as a person asks it: done, refused, broken, or still going."""

    COMPLETED = "completed"
    NOT_STORED = "not_stored"
    MODERATED = "moderated"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    RUNNING = "running"


@dataclass(frozen=True)
class TaskKey:
    """One task instance: the identifier the views and the media endpoint take."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1


@dataclass(frozen=True)
class Generation:
    """One APIMart render made by one task instance."""

    key: TaskKey
    remote_task_id: str | None
    outcome: Outcome
    ti_state: str | None
    try_number: int | None
    recorded_at: datetime
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> str | None:
        return _text(self.summary.get("model"))

    @property
    def cost(self) -> float:
        value = self.summary.get("cost")
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0

    @property
    def cost_reported(self) -> bool:
        return isinstance(self.summary.get("cost"), int | float)

    @property
    def render_seconds(self) -> float | None:
        value = self.summary.get("actual_time")
        return float(value) if isinstance(value, int | float) else None

    @property
    def expires_at(self) -> float | None:
        value = self.summary.get("expires_at")
        return float(value) if isinstance(value, int | float) else None

    @property
    def request(self) -> dict[str, Any]:
        value = self.summary.get("request")
        return value if isinstance(value, dict) else {}

    @property
    def prompt(self) -> str | None:
        return _text(self.request.get("prompt"))

    @property
    def outputs(self) -> list[dict[str, Any]]:
        value = self.summary.get("outputs")
        return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []

    @property
    def video_urls(self) -> list[str]:
        value = self.summary.get("video_urls")
        return [url for url in value if isinstance(url, str)] if isinstance(value, list) else []

    @property
    def reason(self) -> str | None:
        """Why it ended without a stored video, in the provider's words; None for a success."""
        error = self.summary.get("error")
        return _text(error.get("message")) if isinstance(error, dict) else None

    @property
    def day(self) -> str:
        return self.recorded_at.astimezone(timezone.utc).strftime("%Y-%m-%d")


def read_generations(
    session: Session,
    dag_ids: Collection[str],
    *,
    run_id: str | None = None,
    task_id: str | None = None,
    map_index: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Generation]:
    """Every generation of ``dag_ids`` (the DAGs the user may read) that matches, newest first."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from sqlalchemy import and_, select

    if not dag_ids:
        return []
    query = (
        select(
            XComModel.dag_id,
            XComModel.run_id,
            XComModel.task_id,
            XComModel.map_index,
            XComModel.key,
            XComModel.value,
            XComModel.timestamp,
            TaskInstance.state,
            TaskInstance.try_number,
        )
        .join(
            TaskInstance,
            and_(
                TaskInstance.dag_id == XComModel.dag_id,
                TaskInstance.run_id == XComModel.run_id,
                TaskInstance.task_id == XComModel.task_id,
                TaskInstance.map_index == XComModel.map_index,
            ),
        )
        .where(XComModel.key.in_((XCOM_TASK_ID, XCOM_TASK_SUMMARY)), XComModel.dag_id.in_(list(dag_ids)))
    )
    for column, value in (
        (XComModel.run_id, run_id),
        (XComModel.task_id, task_id),
        (XComModel.map_index, map_index),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(XComModel.timestamp >= since)
    if until is not None:
        query = query.where(XComModel.timestamp < until)
    return merge_rows(session.execute(query).all())


def merge_rows(rows: Iterable[Any]) -> list[Generation]:
    """One generation per task instance: the summary when there is one, else the submitted id."""
    from airflow.models.xcom import XComModel

    by_key: dict[TaskKey, Generation] = {}
    for row in rows:
        key = TaskKey(row.dag_id, row.run_id, row.task_id, row.map_index)
        value = XComModel.deserialize_value(row)
        if row.key == XCOM_TASK_SUMMARY and isinstance(value, dict):
            by_key[key] = _from_summary(key, value, row)
        elif row.key == XCOM_TASK_ID and isinstance(value, str) and key not in by_key:
            by_key[key] = Generation(
                key, value, _unfinished(row.state), row.state, row.try_number, _utc(row.timestamp)
            )
    return sorted(by_key.values(), key=lambda generation: generation.recorded_at, reverse=True)


def _from_summary(key: TaskKey, summary: dict[str, Any], row: Any) -> Generation:
    error = summary.get("error")
    reason = error.get("reason") if isinstance(error, dict) else None
    status = summary.get("status")
    if reason == "not_stored":
        outcome = Outcome.NOT_STORED
    elif reason in MODERATED_REASONS:
        outcome = Outcome.MODERATED
    elif status in {"cancelled", "timeout"}:
        outcome = Outcome(status)
    elif isinstance(error, dict) or status == "failed":
        outcome = Outcome.FAILED
    else:
        outcome = Outcome.COMPLETED
    return Generation(
        key,
        _text(summary.get("remote_task_id")),
        outcome,
        row.state,
        row.try_number,
        _utc(row.timestamp),
        summary,
    )


def _unfinished(ti_state: str | None) -> Outcome:
    """A submit with no summary: still going, or its task died before it could say (see its log)."""
    return Outcome.FAILED if ti_state in {"failed", "upstream_failed"} else Outcome.RUNNING


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
