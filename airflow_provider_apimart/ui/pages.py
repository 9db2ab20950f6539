"""HTML of the APIMart views, rendered on the server from Jinja templates (autoescaped: prompts
are user text), and the JSON twin of the APIMart page. No script or style is fetched from
elsewhere: the pages work on an API server with no internet."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from airflow_provider_apimart.ui import cards, routes
from airflow_provider_apimart.ui.generations import Outcome

if TYPE_CHECKING:
    import jinja2
    from fastapi import Request

    from airflow_provider_apimart.ui.cards import GenerationCard
    from airflow_provider_apimart.ui.generations import Generation
    from airflow_provider_apimart.ui.listing import Listing

#: Size of the spend chart, in SVG user units.
CHART_WIDTH, CHART_HEIGHT = 720, 160
#: The widest bar: a chart of one day stays a bar, not a block.
MAX_BAR_WIDTH = 56.0
#: Runs shown in the spend-per-run chart (the dearest first).
RUNS_CHARTED = 12


@cache
def _templates() -> jinja2.Environment:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("airflow_provider_apimart.ui", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["money"] = cards.money
    environment.filters["utc"] = cards.utc_text
    environment.filters["pretty_json"] = lambda value: json.dumps(value, indent=1, ensure_ascii=False)
    environment.filters["source_text"] = cards.shown_source
    return environment


def videos(
    request: Request, dag_id: str, run_id: str, task_id: str | None, shown: list[GenerationCard]
) -> str:
    """The Videos tab of a run (``task_id`` None) or of one task instance."""
    total = sum(item.generation.cost for item in shown)
    return (
        _templates()
        .get_template("videos.html")
        .render(
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            cards=shown,
            total_cost=total,
            failed=sum(item.generation.outcome not in _FINE for item in shown),
            overview_url=str(request.url_for("overview")),
        )
    )


_FINE = frozenset({Outcome.COMPLETED, Outcome.RUNNING})


def overview(request: Request, listing: Listing) -> str:
    """The APIMart page: filters, totals, the spend charts and one page of generations."""
    base = str(request.url_for("overview"))
    kept = {name: value for name, value in listing.filters.items() if value}
    page = listing.page

    def page_url(number: int) -> str:
        return base + "?" + urlencode({**kept, "page": number})

    return (
        _templates()
        .get_template("overview.html")
        .render(
            filters=listing.filters,
            totals=listing.totals,
            choices=listing.choices,
            outcomes=[(outcome.value, cards.OUTCOME_WORDS[outcome]) for outcome in Outcome],
            rows=[_row(generation) for generation in page.rows],
            page=page,
            previous_url=page_url(page.number - 1) if page.number > 1 else None,
            next_url=page_url(page.number + 1) if page.number < page.pages else None,
            day_bars=bars(list(listing.totals.per_day.items())),
            run_bars=bars([(run, spend) for _dag, run, spend in listing.totals.per_run[:RUNS_CHARTED]]),
            json_url=str(request.url_for("generations")) + ("?" + urlencode(kept) if kept else ""),
        )
    )


def _row(generation: Generation) -> dict[str, Any]:
    key = generation.key
    return {
        "generation": generation,
        "words": cards.OUTCOME_WORDS[generation.outcome],
        "tab_url": routes.run_tab_url(key.dag_id, key.run_id),
        "log_url": cards.task_log_url(key, generation.try_number),
    }


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    width: float
    height: float


def bars(values: list[tuple[str, float]]) -> list[Bar]:
    """Bars of a column chart of ``values`` scaled to the chart's size (the largest fills it)."""
    if not values:
        return []
    top = max(value for _, value in values) or 1.0
    slot = CHART_WIDTH / len(values)
    width = min(MAX_BAR_WIDTH, max(1.0, slot * 0.8))
    return [
        Bar(label, value, index * slot + (slot - width) / 2, width, CHART_HEIGHT * value / top)
        for index, (label, value) in enumerate(values)
    ]


def listing_json(listing: Listing) -> dict[str, Any]:
    """The APIMart page as JSON: the same figures and rows, for scripts and dashboards."""
    page = listing.page
    return {
        "filters": listing.filters,
        "totals": listing.totals.to_json(),
        "page": page.number,
        "pages": page.pages,
        "page_size": page.size,
        "matched": page.matched,
        "generations": [generation_json(generation) for generation in page.rows],
    }


def generation_json(generation: Generation) -> dict[str, Any]:
    key = generation.key
    return {
        "dag_id": key.dag_id,
        "run_id": key.run_id,
        "task_id": key.task_id,
        "map_index": key.map_index,
        "try_number": generation.try_number,
        "task_state": generation.ti_state,
        "outcome": generation.outcome.value,
        "remote_task_id": generation.remote_task_id,
        "model": generation.model,
        "cost": generation.summary.get("cost"),
        "render_seconds": generation.render_seconds,
        "recorded_at": generation.recorded_at.isoformat(),
        "expires_at": generation.expires_at,
        "prompt": generation.prompt,
        "videos": len(generation.outputs) or len(generation.video_urls),
        "stored": [output.get("uri") for output in generation.outputs],
        "reason": generation.reason,
    }
