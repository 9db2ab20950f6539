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

from airflow_provider_apimart.handover import XCOM_TASK_ID, XCOM_TASK_SUMMARY

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from sqlalchemy import Select
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
    def videos(self) -> int:
        """Videos it made: stored copies, else the source URLs of a render that was not stored."""
        return len(self.outputs) or len(self.video_urls)

    @property
    def limits(self) -> list[dict[str, Any]] | None:
        """The spend limits' figures when this render settled (operators with limits only)."""
        spend = self.summary.get("spend")
        value = spend.get("limits") if isinstance(spend, dict) else None
        return value if isinstance(value, list) else None

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
    keys: Collection[TaskKey] | None = None,
) -> list[Generation]:
    """Every generation of ``dag_ids`` (the DAGs the user may read) that matches, newest first.

    ``keys`` narrows it to those task instances (a page of the APIMart view).
    """
    from airflow.models.xcom import XComModel
    from sqlalchemy import tuple_

    if not dag_ids or (keys is not None and not keys):
        return []
    query = select_recorded(dag_ids, XComModel.value, XComModel.timestamp)
    for column, value in (
        (XComModel.run_id, run_id),
        (XComModel.task_id, task_id),
        (XComModel.map_index, map_index),
    ):
        if value is not None:
            query = query.where(column == value)
    if keys is not None:
        columns = tuple_(XComModel.dag_id, XComModel.run_id, XComModel.task_id, XComModel.map_index)
        query = query.where(columns.in_([(k.dag_id, k.run_id, k.task_id, k.map_index) for k in keys]))
    return merge_rows(session.execute(query).all())


def select_recorded(dag_ids: Collection[str], *columns: Any) -> Select[Any]:
    """Both APIMart XComs of ``dag_ids``, each with its task instance's state and try, and ``columns``."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from sqlalchemy import and_, select

    return (
        select(
            XComModel.dag_id,
            XComModel.run_id,
            XComModel.task_id,
            XComModel.map_index,
            XComModel.key,
            TaskInstance.state,
            TaskInstance.try_number,
            *columns,
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


def merge_rows(rows: Iterable[Any]) -> list[Generation]:
    """One generation per task instance: the summary when there is one, else the submitted id."""
    from airflow.models.xcom import XComModel

    by_key: dict[TaskKey, Generation] = {}
    for row in rows:
        key = TaskKey(row.dag_id, row.run_id, row.task_id, row.map_index)
        # Values the Execution API stored are JSON the column already decoded; others (a tuple,
        # say) are Airflow's serialised form.
        value = row.value if isinstance(row.value, dict) else XComModel.deserialize_value(row)
        if row.key == XCOM_TASK_SUMMARY and isinstance(value, dict):
            by_key[key] = _from_summary(key, value, row)
        elif row.key == XCOM_TASK_ID and isinstance(value, str) and key not in by_key:
            by_key[key] = Generation(
                key, value, unfinished(row.state), row.state, row.try_number, utc(row.timestamp)
            )
    return sorted(by_key.values(), key=lambda generation: generation.recorded_at, reverse=True)


def outcome_of(status: object, error: object) -> Outcome:
    """How a render ended, from its summary's ``status`` and ``error``: the one place that decides."""
    reason = error.get("reason") if isinstance(error, dict) else None
    if reason == "not_stored":
        return Outcome.NOT_STORED
    if reason in MODERATED_REASONS:
        return Outcome.MODERATED
    if status in {"cancelled", "timeout"}:
        return Outcome(status)
    if isinstance(error, dict) or status == "failed":
        return Outcome.FAILED
    return Outcome.COMPLETED


def unfinished(ti_state: str | None) -> Outcome:
    """A submit with no summary: still going, or its task died before it could say (see its log)."""
    return Outcome.FAILED if ti_state in {"failed", "upstream_failed"} else Outcome.RUNNING


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _from_summary(key: TaskKey, summary: dict[str, Any], row: Any) -> Generation:
    return Generation(
        key,
        _text(summary.get("remote_task_id")),
        outcome_of(summary.get("status"), summary.get("error")),
        row.state,
        row.try_number,
        utc(row.timestamp),
        summary,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
