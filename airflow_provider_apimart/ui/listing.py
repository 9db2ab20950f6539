"""The APIMart page at scale: every match read in brief, only the page's own rows in full.

The totals and the filters need five facts per generation (when, model, cost, how it ended, how
many videos), not its whole summary with the prompt and the request. The database hands those
back as JSON paths of the summary XCom, so a page over 10,000 generations decodes 10,000 small
values instead of 10,000 summaries, and reads the 50 rows it shows in full afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from airflow_provider_apimart.handover import XCOM_TASK_SUMMARY
from airflow_provider_apimart.ui import accounts
from airflow_provider_apimart.ui.generations import (
    Generation,
    TaskKey,
    outcome_of,
    read_generations,
    select_recorded,
    unfinished,
    utc,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from sqlalchemy.orm import Session

    from airflow_provider_apimart.ui.accounts import Filters, Page, Totals
    from airflow_provider_apimart.ui.generations import Outcome


@dataclass(frozen=True, slots=True)
class Brief:
    """What the totals and the filters read of one generation."""

    key: TaskKey
    recorded_at: datetime
    outcome: Outcome
    model: str | None
    cost: float
    cost_reported: bool
    videos: int
    #: The spend limits' figures this render's summary recorded (operators with limits only).
    limits: list[dict[str, Any]] | None = None

    @property
    def day(self) -> str:
        return self.recorded_at.astimezone(timezone.utc).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Listing:
    """What the APIMart page shows: the filters as given, figures over all matches, one page."""

    filters: dict[str, str | None]
    totals: Totals
    page: Page[Generation]
    #: Figures over the rows before the model and state filters: what the filter menus offer.
    choices: Totals


def read_listing(
    session: Session,
    dag_ids: Collection[str],
    filters: Filters,
    *,
    since: datetime | None,
    until: datetime | None,
    page: int,
    page_size: int,
    shown_filters: dict[str, str | None],
) -> Listing:
    """Totals of every generation of ``dag_ids`` that matches, and page ``page`` of them in full.

    A generation belongs to the moment it was last recorded (its summary, else its submit), so
    a render that crosses ``until`` counts on the day it ended, never as still going.
    """
    found = [
        brief
        for brief in read_briefs(session, dag_ids, since=since)
        if until is None or brief.recorded_at < until
    ]
    matched = [brief for brief in found if filters.keep(brief)]
    figures = accounts.totals(matched)
    briefs = accounts.page_of(matched, page, page_size)
    full = {item.key: item for item in read_generations(session, dag_ids, keys=[b.key for b in briefs.rows])}
    return Listing(
        filters=shown_filters,
        totals=figures,
        page=accounts.Page(
            [full[brief.key] for brief in briefs.rows if brief.key in full],
            briefs.number,
            briefs.size,
            briefs.matched,
        ),
        # Unfiltered by model and state, the menus' figures are the totals: sum once.
        choices=figures if len(matched) == len(found) else accounts.totals(found),
    )


def read_briefs(session: Session, dag_ids: Collection[str], *, since: datetime | None) -> list[Brief]:
    """Every generation of ``dag_ids`` last recorded at or after ``since``, newest first, in brief.

    ``since`` can narrow the query itself: a summary is never recorded before its submit.
    """
    from airflow.models.xcom import XComModel

    if not dag_ids:
        return []
    value = XComModel.value
    query = select_recorded(
        dag_ids,
        XComModel.timestamp,
        value["model"].as_string().label("model"),
        value["cost"].as_float().label("cost"),
        value["status"].as_string().label("status"),
        value[("error", "reason")].as_string().label("reason"),
        json_array_length(value, "outputs").label("outputs"),
        json_array_length(value, "video_urls").label("video_urls"),
        value[("spend", "limits")].label("limits"),
    )
    if since is not None:
        query = query.where(XComModel.timestamp >= since)
    return merge_briefs(session.execute(query))


def merge_briefs(rows: Iterable[Any]) -> list[Brief]:
    """One brief per task instance: its summary when there is one, else its submit.

    Rows are unpacked by position (the columns of :func:`read_briefs`): at 20,000 rows, looking
    each column up by name costs more than the query.
    """
    by_key: dict[TaskKey, Brief] = {}
    for (
        dag_id,
        run_id,
        task_id,
        map_index,
        name,
        state,
        _try,
        moment,
        model,
        cost,
        status,
        reason,
        *rest,
    ) in rows:
        key = TaskKey(dag_id, run_id, task_id, map_index)
        if name == XCOM_TASK_SUMMARY:
            error = {"reason": reason} if reason is not None else None
            outputs, video_urls, limits = rest
            by_key[key] = Brief(
                key,
                utc(moment),
                outcome_of(status, error),
                model,
                cost or 0.0,
                cost is not None,
                outputs or video_urls or 0,
                limits if isinstance(limits, list) else None,
            )
        elif key not in by_key:
            by_key[key] = Brief(key, utc(moment), unfinished(state), None, 0.0, False, 0)
    return sorted(by_key.values(), key=lambda brief: brief.recorded_at, reverse=True)


class json_array_length(FunctionElement[int]):  # noqa: N801 - named as SQL functions are
    """The length of the array at ``value[name]``; NULL where there is none (any JSON at all).

    SQLAlchemy has no portable spelling, so each metadata database Airflow supports gets its own.
    """

    type = Integer()
    inherit_cache = True
    name = "json_array_length"

    def __init__(self, value: Any, name: str) -> None:
        super().__init__(value, literal_column(f"'{_json_key(name)}'"))


def _json_key(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"{name!r} is not a plain JSON key")
    return name


@compiles(json_array_length)
def _sqlite_length(element: json_array_length, compiler: Any, **kw: Any) -> str:
    value, name = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"json_array_length({value}, '$.' || {name})"


@compiles(json_array_length, "postgresql")
def _postgres_length(element: json_array_length, compiler: Any, **kw: Any) -> str:
    value, name = (compiler.process(clause, **kw) for clause in element.clauses)
    item = f"(CAST({value} AS JSONB) -> {name})"
    return f"CASE WHEN jsonb_typeof({item}) = 'array' THEN jsonb_array_length({item}) END"


@compiles(json_array_length, "mysql")
def _mysql_length(element: json_array_length, compiler: Any, **kw: Any) -> str:
    value, name = (compiler.process(clause, **kw) for clause in element.clauses)
    item = f"JSON_EXTRACT({value}, CONCAT('$.', {name}))"
    return f"CASE WHEN JSON_TYPE({item}) = 'ARRAY' THEN JSON_LENGTH({item}) END"
