"""What the generations cost and how they ended: totals, spend per day and per run, one page of rows.

Pure functions over generations, whole (:class:`~airflow_provider_apimart.ui.generations.Generation`)
or in brief (:class:`~airflow_provider_apimart.ui.listing.Brief`), so the page, the JSON endpoint,
the Videos tab and the benchmark compute the same figures. A cost APIMart did not report counts
as 0 and is counted apart (``unpriced``), never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from airflow_provider_apimart.ui.generations import Outcome

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from airflow_provider_apimart.ui.generations import TaskKey


class Counted(Protocol):
    """What the figures read of a generation."""

    @property
    def key(self) -> TaskKey: ...
    @property
    def outcome(self) -> Outcome: ...
    @property
    def model(self) -> str | None: ...
    @property
    def cost(self) -> float: ...
    @property
    def cost_reported(self) -> bool: ...
    @property
    def videos(self) -> int: ...
    @property
    def day(self) -> str: ...
    @property
    def limits(self) -> list[dict[str, Any]] | None: ...
    @property
    def recorded_at(self) -> datetime: ...


Row = TypeVar("Row")

#: Rows on one page of the APIMart view, and the most a caller may ask for.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Filters:
    """What a person narrows the list to; None means any."""

    model: str | None = None
    outcome: Outcome | None = None

    def keep(self, generation: Counted) -> bool:
        return (self.model is None or generation.model == self.model) and (
            self.outcome is None or generation.outcome is self.outcome
        )


@dataclass(frozen=True)
class Totals:
    """Figures over every row that matched, not only the page shown."""

    generations: int = 0
    spend: float = 0.0
    videos: int = 0
    failures: int = 0
    moderations: int = 0
    running: int = 0
    unpriced: int = 0
    per_day: dict[str, float] = field(default_factory=dict)
    per_run: list[tuple[str, str, float]] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    dag_ids: list[str] = field(default_factory=list)
    #: Each spend limit's newest figures (name, limit, spent, reserved), as the renders settled.
    limits: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "generations": self.generations,
            "spend": round(self.spend, 6),
            "videos": self.videos,
            "failures": self.failures,
            "moderations": self.moderations,
            "running": self.running,
            "unpriced": self.unpriced,
            "spend_per_day": [{"day": day, "spend": round(spend, 6)} for day, spend in self.per_day.items()],
            "spend_per_run": [
                {"dag_id": dag_id, "run_id": run_id, "spend": round(spend, 6)}
                for dag_id, run_id, spend in self.per_run
            ],
            "spend_limits": self.limits,
        }


def totals(generations: Sequence[Counted]) -> Totals:
    """Sum ``generations``: spend per day (oldest first) and per DAG run (dearest first)."""
    per_day: dict[str, float] = defaultdict(float)
    per_run: dict[tuple[str, str], float] = defaultdict(float)
    counts = dict.fromkeys(Outcome, 0)
    spend, videos, unpriced = 0.0, 0, 0
    for generation in generations:
        counts[generation.outcome] += 1
        spend += generation.cost
        videos += generation.videos
        per_day[generation.day] += generation.cost
        per_run[(generation.key.dag_id, generation.key.run_id)] += generation.cost
        if generation.outcome in PAID_OUTCOMES and not generation.cost_reported:
            unpriced += 1
    return Totals(
        generations=len(generations),
        spend=spend,
        videos=videos,
        failures=counts[Outcome.FAILED] + counts[Outcome.CANCELLED] + counts[Outcome.TIMEOUT],
        moderations=counts[Outcome.MODERATED],
        running=counts[Outcome.RUNNING],
        unpriced=unpriced,
        per_day=dict(sorted(per_day.items())),
        per_run=sorted(((dag, run, cost) for (dag, run), cost in per_run.items()), key=lambda row: -row[2]),
        models=sorted({generation.model for generation in generations if generation.model}),
        dag_ids=sorted({generation.key.dag_id for generation in generations}),
        limits=newest_limits(generations),
    )


def newest_limits(generations: Sequence[Counted]) -> list[dict[str, Any]]:
    """Per spend limit, the figures of the newest render that settled against it."""
    newest: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for generation in generations:
        for entry in generation.limits or ():
            name = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(name, str) and (name not in newest or newest[name][0] < generation.recorded_at):
                newest[name] = (
                    generation.recorded_at,
                    {**entry, "as_of": generation.recorded_at.isoformat()},
                )
    return [entry for _, entry in sorted(newest.values(), key=lambda item: item[0], reverse=True)]


#: Outcomes APIMart charges for: a rendered video, stored or not.
PAID_OUTCOMES = frozenset({Outcome.COMPLETED, Outcome.NOT_STORED})


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of rows, with where it sits in the whole."""

    rows: list[Row]
    number: int
    size: int
    matched: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.matched // self.size))


def page_of(generations: Sequence[Row], number: int, size: int = DEFAULT_PAGE_SIZE) -> Page[Row]:
    """Page ``number`` (from 1) of ``generations``; a number past the end gives the last page."""
    size = min(max(1, size), MAX_PAGE_SIZE)
    last = max(1, -(-len(generations) // size))
    number = min(max(1, number), last)
    start = (number - 1) * size
    return Page(list(generations[start : start + size]), number, size, len(generations))
