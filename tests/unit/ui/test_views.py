"""What the views say and count, from generations as the XComs record them (no server)."""

from __future__ import annotations

import importlib
from datetime import datetime, timezone
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from airflow_provider_apimart.ui import accounts, cards, pages
from airflow_provider_apimart.ui.generations import Generation, Outcome, TaskKey, merge_rows
from airflow_provider_apimart.ui.listing import merge_briefs

NOW = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)


class Row:
    """A row as read_generations selects it: the XCom joined with its task instance."""

    def __init__(
        self, task_id: str, key: str, value: Any, *, map_index: int = -1, state: str = "success"
    ) -> None:
        self.dag_id, self.run_id, self.task_id, self.map_index = "dag", "run", task_id, map_index
        self.key, self.value, self.timestamp, self.state, self.try_number = key, value, NOW, state, 1


def completed(cost: float | None, **extra: Any) -> dict[str, Any]:
    return {"remote_task_id": "task_1", "model": "wan2.7", "status": "completed", "cost": cost, **extra}


def test_each_task_instance_is_one_generation_its_summary_winning_over_its_submitted_id() -> None:
    rows = [
        Row("a", "apimart_task_id", "task_1"),
        Row("a", "apimart_task", completed(0.4)),
        Row("b", "apimart_task_id", "task_2", state="deferred"),
        Row("c", "apimart_task_id", "task_3", state="failed"),
        Row(
            "d",
            "apimart_task",
            {**completed(None), "status": "failed", "error": {"reason": "content_moderation"}},
        ),
        Row(
            "e", "apimart_task", {**completed(0.4), "error": {"reason": "not_stored", "message": "disk full"}}
        ),
    ]
    outcomes = {generation.key.task_id: generation.outcome for generation in merge_rows(rows)}
    assert outcomes == {
        "a": Outcome.COMPLETED,
        "b": Outcome.RUNNING,
        "c": Outcome.FAILED,
        "d": Outcome.MODERATED,
        "e": Outcome.NOT_STORED,
    }


SPEND = {"limits": [{"scope": "run", "name": "run_spend_limit of DAG run 'run'", "limit": 2.0, "spent": 0.9}]}


def brief_row(row: Row) -> tuple[Any, ...]:
    """The columns read_briefs selects of ``row``: the JSON paths the database extracts."""
    value = row.value if isinstance(row.value, dict) else {}
    error = value.get("error")
    lengths = [
        len(value[name]) if isinstance(value.get(name), list) else None for name in ("outputs", "video_urls")
    ]
    return (
        row.dag_id, row.run_id, row.task_id, row.map_index, row.key, row.state, row.try_number,
        row.timestamp, value.get("model"), value.get("cost"), value.get("status"),
        error.get("reason") if isinstance(error, dict) else None, *lengths,
        value.get("spend", {}).get("limits"),
    )  # fmt: skip


def test_a_brief_counts_what_the_whole_generation_counts() -> None:
    """The page's totals (briefs) and the Videos tab (whole summaries) decide alike."""
    rows = [
        Row("a", "apimart_task_id", "task_1"),
        Row(
            "a", "apimart_task", completed(0.4, outputs=[{"uri": "file:///a.mp4"}, {"uri": "file:///b.mp4"}])
        ),
        Row("b", "apimart_task_id", "task_2", state="deferred"),
        Row("c", "apimart_task_id", "task_3", state="failed"),
        Row(
            "d",
            "apimart_task",
            {**completed(None), "status": "failed", "error": {"reason": "content_moderation"}},
        ),
        Row("e", "apimart_task", {**completed(0.5), "video_urls": ["https://cdn/e.mp4"], "spend": SPEND}),
        Row("f", "apimart_task", {**completed(0.4), "status": "timeout", "error": {"reason": "timeout"}}),
    ]
    briefs = {brief.key: brief for brief in merge_briefs(brief_row(row) for row in rows)}
    whole = {item.key: item for item in merge_rows(rows)}
    assert briefs.keys() == whole.keys()
    facts = ("outcome", "model", "cost", "cost_reported", "videos", "day", "limits")
    for key, brief in briefs.items():
        assert [getattr(brief, name) for name in facts] == [getattr(whole[key], name) for name in facts]
    assert accounts.totals(list(briefs.values())) == accounts.totals(list(whole.values()))
    assert accounts.totals(list(briefs.values())).limits == [{**SPEND["limits"][0], "as_of": NOW.isoformat()}]


def generation(
    task_id: str, outcome: Outcome, summary: dict[str, Any], day: int = 7, run: str = "r1"
) -> Generation:
    moment = NOW.replace(day=day)
    return Generation(TaskKey("dag", run, task_id), "task_1", outcome, "success", 1, moment, summary)


def test_totals_count_spend_per_day_and_run_and_never_guess_a_missing_cost() -> None:
    found = [
        generation("a", Outcome.COMPLETED, completed(0.4, outputs=[{"uri": "file:///v.mp4"}]), day=6),
        generation("b", Outcome.COMPLETED, completed(1.2), day=7, run="r2"),
        generation("c", Outcome.NOT_STORED, completed(None), day=7),
        generation("d", Outcome.MODERATED, {}, day=7),
        generation("e", Outcome.FAILED, {}, day=7),
    ]
    figures = accounts.totals(found)
    assert figures.spend == pytest.approx(1.6)
    assert figures.per_day == {"2026-12-06": pytest.approx(0.4), "2026-12-07": pytest.approx(1.2)}
    assert figures.per_run[0][:2] == ("dag", "r2")
    assert figures.per_run[0][2] == pytest.approx(1.2)
    assert (figures.failures, figures.moderations, figures.unpriced) == (1, 1, 1)


def test_a_page_past_the_end_is_the_last_page_and_a_size_is_capped() -> None:
    found = [generation(str(number), Outcome.COMPLETED, {}) for number in range(120)]
    page = accounts.page_of(found, 99, 50)
    assert (page.number, page.pages, len(page.rows), page.matched) == (3, 3, 20, 120)
    assert accounts.page_of(found, 1, 10_000).size == accounts.MAX_PAGE_SIZE


@pytest.mark.parametrize(
    ("seconds_left", "words"),
    [(23.6 * 3600, "expires in 24 h"), (30 * 60, "expires in 30 min"), (-2 * 3600, "expired 2 h ago")],
)
def test_a_source_url_says_how_long_it_still_works(seconds_left: float, words: str) -> None:
    assert cards.expiry_words(1_000_000 + seconds_left, now=1_000_000) == words


def render_videos(shown: list[Generation]) -> str:
    app = FastAPI()

    @app.get("/overview", name="overview")
    def overview() -> str:
        return ""

    @app.get("/media", name="media")
    def media() -> str:
        return ""

    @app.get("/videos")
    def videos(request: Request) -> HTMLResponse:
        made = [cards.card(item, str(request.url_for("media")), now=NOW.timestamp()) for item in shown]
        return HTMLResponse(pages.videos(request, "dag", "run", None, made))

    html: str = TestClient(app).get("/videos").text
    return html


def test_a_prompt_is_shown_as_text_never_as_markup() -> None:
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    html = render_videos([generation("a", Outcome.COMPLETED, completed(0.4, request={"prompt": hostile}))])
    assert "<script>alert(2)" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_an_unstored_video_gives_its_source_link_and_an_expired_one_says_so() -> None:
    alive = completed(0.4, video_urls=["https://cdn.test/v.mp4?sig=1"], expires_at=NOW.timestamp() + 7200)
    dead = completed(0.4, video_urls=["https://cdn.test/w.mp4?sig=2"], expires_at=NOW.timestamp() - 3600)
    html = render_videos(
        [generation("a", Outcome.COMPLETED, alive), generation("b", Outcome.COMPLETED, dead)]
    )
    assert 'href="https://cdn.test/v.mp4?sig=1"' in html
    assert "expires in 2 h" in html
    assert "expired 1 h ago" in html
    assert "APIMart no longer serves it" in html


def test_the_switch_keeps_the_plugin_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_apimart.ui import plugin

    monkeypatch.setenv("AIRFLOW__APIMART__UI_PLUGIN", "False")
    off = importlib.reload(plugin)
    assert off.ApimartPlugin.external_views == []
    assert off.ApimartPlugin.fastapi_apps == []
    monkeypatch.delenv("AIRFLOW__APIMART__UI_PLUGIN")
    on = importlib.reload(plugin)
    assert [view["destination"] for view in on.ApimartPlugin.external_views] == [
        "nav",
        "dag_run",
        "task_instance",
    ]
    assert on.ApimartPlugin.fastapi_apps[0]["url_prefix"] == "/apimart"
