"""The UI plugin in a real API server: who sees what, what the views say, how media is served.

One module-wide world (tests/ui_airflow.py): a run of the showcase DAG recorded by ``airflow dags
test``, then ``airflow api-server`` with the simple auth manager and two users. Costs are checked
against the XComs as Airflow's own REST API returns them.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_apimart.version_compat import AIRFLOW_V_3_3_PLUS
from tests.ui_airflow import SHOWCASE_DAG, SHOWCASE_PROMPTS, SHOWCASE_TASKS, TEAMS, UiAirflow

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def world(ui_world: UiAirflow) -> UiAirflow:
    return ui_world


def run_params(world: UiAirflow, **extra: Any) -> dict[str, Any]:
    return {"dag_id": SHOWCASE_DAG, "run_id": world.run_id, **extra}


def media_params(world: UiAirflow, task_id: str = "clips", map_index: int = 0, n: int = 1) -> dict[str, Any]:
    return run_params(world, task_id=task_id, map_index=map_index, n=n)


def stored_file(world: UiAirflow, map_index: int = 0) -> Path:
    (output,) = world.summary("clips", map_index)["outputs"]
    return Path(str(output["uri"]).removeprefix("file://"))


@pytest.mark.parametrize(
    "path", ["/apimart/", "/apimart/api/generations", "/apimart/videos", "/apimart/media"]
)
def test_an_anonymous_request_gets_401_from_every_view_and_endpoint(world: UiAirflow, path: str) -> None:
    with world.client(None) as client:
        answer = client.get(path, params=media_params(world))
    assert answer.status_code == 401


@pytest.mark.skipif(not TEAMS, reason="Airflow 3.1 has no multi-team mode: every user reads every DAG")
def test_a_user_who_may_not_read_the_dag_sees_none_of_its_videos_prompts_or_costs(
    world: UiAirflow,
) -> None:
    with world.client("outsider") as client:
        listing = client.get("/apimart/api/generations").json()
        page = client.get("/apimart/").text
        tab = client.get("/apimart/videos", params=run_params(world))
        task_tab = client.get("/apimart/videos", params=run_params(world, task_id="clips", map_index=0))
        video = client.get("/apimart/media", params=media_params(world))
        dag_filter = client.get("/apimart/api/generations", params={"dag_id": SHOWCASE_DAG}).json()
    assert listing["generations"] == []
    assert listing["totals"]["spend"] == 0
    assert dag_filter["generations"] == []
    assert dag_filter["matched"] == 0
    assert not any(prompt in page for prompt in SHOWCASE_PROMPTS)
    assert (tab.status_code, task_tab.status_code, video.status_code) == (403, 403, 403)
    assert not any(prompt in tab.text + video.text for prompt in SHOWCASE_PROMPTS)


def test_the_run_tab_shows_every_generation_and_a_cost_that_sums_the_tasks_xcoms(world: UiAirflow) -> None:
    with world.client("reviewer") as client:
        tab = client.get("/apimart/videos", params=run_params(world))
    assert tab.status_code == 200
    total = world.total_cost()
    shown = re.search(r'data-testid="total-cost">([^<]+)<', tab.text)
    assert shown is not None
    assert float(shown.group(1)) == pytest.approx(total)
    assert total > 0
    assert tab.text.count('data-testid="video-card"') == len(SHOWCASE_TASKS)
    assert tab.text.count('data-testid="player"') == 3, "one player per stored clip"
    assert all(prompt in tab.text for prompt in SHOWCASE_PROMPTS)
    assert "content moderation" in tab.text
    assert "refused by moderation" in tab.text
    assert re.search(r'data-testid="expiry">expires in 2[34] h<', tab.text), "the unstored clip's source URL"


def test_the_apimart_page_counts_spend_failures_and_moderations(world: UiAirflow) -> None:
    with world.client("reviewer") as client:
        every = client.get("/apimart/api/generations").json()
        refused = client.get("/apimart/api/generations", params={"state": "moderated"}).json()
        other_model = client.get("/apimart/api/generations", params={"model": "kling-v2-6"}).json()
        page = client.get("/apimart/", params={"dag_id": SHOWCASE_DAG})
        bad_state = client.get("/apimart/api/generations", params={"state": "lost"})
    total = world.total_cost()
    assert every["totals"]["spend"] == pytest.approx(total)
    assert (every["totals"]["generations"], every["totals"]["moderations"], every["totals"]["videos"]) == (
        5,
        1,
        4,
    )
    assert [row["task_id"] for row in refused["generations"]] == ["refused"]
    if AIRFLOW_V_3_3_PLUS:
        assert 'data-testid="spend-limits"' in page.text
        # The run's spend limit, as its newest render settled: what the XComs cost, nothing still held.
        (limit,) = every["totals"]["spend_limits"]
        assert (limit["scope"], limit["limit"], limit["reserved"]) == ("run", 10.0, 0.0)
        assert limit["spent"] == pytest.approx(total)
    else:
        # `airflow dags test` before 3.3 resumes a deferred task without its submit's record (no
        # state store; next_kwargs dropped), so nothing settles and each job stays held at its
        # estimate: the safe side, and the ledger shows it.
        ledger = sqlite3.connect(world.home / "apimart_spend.sqlite3")
        held = ledger.execute("SELECT count(*), sum(amount) FROM apimart_spend_ledger WHERE state = 'held'")
        assert held.fetchone() == (len(SHOWCASE_TASKS), pytest.approx(0.4 * len(SHOWCASE_TASKS)))
        ledger.close()
    assert other_model["matched"] == 0
    assert page.status_code == 200
    assert 'data-testid="spend">' in page.text
    assert "<svg" in page.text
    assert bad_state.status_code == 400
    assert "state='lost'" in bad_state.text


def test_a_task_instance_tab_of_an_unmapped_task_takes_the_placeholder_the_ui_leaves(
    world: UiAirflow,
) -> None:
    with world.client("reviewer") as client:
        tab = client.get(
            "/apimart/videos", params=run_params(world, task_id="unstored", map_index="{MAP_INDEX}")
        )
    assert tab.status_code == 200
    assert tab.text.count('data-testid="video-card"') == 1
    assert "A paper boat" in tab.text


def test_a_stored_video_streams_whole_or_by_range_with_its_content_type(world: UiAirflow) -> None:
    on_disk = stored_file(world).read_bytes()
    size = len(on_disk)
    with world.client("reviewer") as client:
        whole = client.get("/apimart/media", params=media_params(world))
        middle = client.get("/apimart/media", params=media_params(world), headers={"Range": "bytes=100-199"})
        tail = client.get("/apimart/media", params=media_params(world), headers={"Range": "bytes=-10"})
        past = client.get("/apimart/media", params=media_params(world), headers={"Range": f"bytes={size}-"})
    assert (whole.status_code, whole.headers["content-type"], whole.content) == (200, "video/mp4", on_disk)
    assert whole.headers["accept-ranges"] == "bytes"
    assert (middle.status_code, middle.headers["content-range"]) == (206, f"bytes 100-199/{size}")
    assert middle.content == on_disk[100:200]
    assert (tail.status_code, tail.content) == (206, on_disk[-10:])
    assert (past.status_code, past.headers["content-range"]) == (416, f"bytes */{size}")


def test_media_serves_only_a_file_its_record_vouches_for(world: UiAirflow) -> None:
    video = stored_file(world, map_index=1)
    record = next(video.parent.glob(f"{video.stem}.json"))
    original = record.read_text()
    params = media_params(world, map_index=1)
    with world.client("reviewer") as client:
        try:
            record.write_text(json.dumps({**json.loads(original), "file": "../../etc/passwd"}))
            forged = client.get("/apimart/media", params=params)
        finally:
            record.write_text(original)
        restored = client.get("/apimart/media", params=params)
        beyond = client.get("/apimart/media", params=media_params(world, map_index=1, n=2))
        unstored = client.get("/apimart/media", params=media_params(world, task_id="unstored", map_index=-1))
        unknown = client.get("/apimart/media", params=media_params(world, task_id="no_such_task"))
    assert forged.status_code == 404
    assert "passwd" not in forged.text
    assert restored.status_code == 200
    assert (beyond.status_code, unstored.status_code, unknown.status_code) == (404, 404, 404)


def test_the_stored_video_link_opens_the_task_tab_and_the_source_link_is_for_unstored_videos(
    world: UiAirflow,
) -> None:
    def links(task_id: str, map_index: int) -> dict[str, Any]:
        with world.client("reviewer") as client:
            answer = client.get(
                f"/api/v2/dags/{SHOWCASE_DAG}/dagRuns/{world.run_id}/taskInstances/{task_id}/links",
                params={"map_index": map_index},
            )
        answer.raise_for_status()
        found: dict[str, Any] = answer.json()["extra_links"]
        return found

    stored, unstored = links("clips", 2), links("unstored", -1)
    assert stored["Stored video (APIMart tab)"].endswith("/tasks/clips/mapped/2/plugin/apimart-task-videos")
    assert not stored["Source video (APIMart URL, expires)"]
    assert not unstored["Stored video (APIMart tab)"]
    assert unstored["Source video (APIMart URL, expires)"].startswith("http")


def test_no_view_shows_the_api_key(world: UiAirflow) -> None:
    key = json.loads(world.env["AIRFLOW_CONN_APIMART_DEFAULT"])["password"]
    with world.client("reviewer") as client:
        bodies = [
            client.get("/apimart/").text,
            client.get("/apimart/api/generations").text,
            client.get("/apimart/videos", params=run_params(world)).text,
        ]
    assert key
    assert not any(key in body for body in bodies)


def test_a_render_that_ends_after_midnight_counts_on_the_day_it_ended_never_as_running(
    world: UiAirflow,
) -> None:
    """The submit at 23:50 and the summary at 00:10: the date filters see one generation, finished."""
    read = "SELECT timestamp FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = 'unstored' AND key = ?"
    move = (
        "UPDATE xcom SET timestamp = ? WHERE dag_id = ? AND run_id = ? AND task_id = 'unstored' AND key = ?"
    )
    moments = {"apimart_task_id": "2026-01-01 23:50:00.000000", "apimart_task": "2026-01-02 00:10:00.000000"}
    database = sqlite3.connect(world.home / "airflow.db")
    saved = {key: database.execute(read, (SHOWCASE_DAG, world.run_id, key)).fetchone()[0] for key in moments}
    try:
        for key, moment in moments.items():
            database.execute(move, (moment, SHOWCASE_DAG, world.run_id, key))
        database.commit()
        with world.client("reviewer") as client:
            first_day = client.get("/apimart/api/generations", params={"until": "2026-01-01"}).json()
            second_day = client.get(
                "/apimart/api/generations", params={"since": "2026-01-02", "until": "2026-01-02"}
            ).json()
            from_the_first = client.get("/apimart/api/generations", params={"since": "2026-01-01"}).json()
    finally:
        for key, moment in saved.items():
            database.execute(move, (moment, SHOWCASE_DAG, world.run_id, key))
        database.commit()
        database.close()
    assert first_day["matched"] == 0
    assert [(row["task_id"], row["outcome"]) for row in second_day["generations"]] == [
        ("unstored", "completed")
    ]
    assert second_day["totals"]["spend_per_day"] == [
        {"day": "2026-01-02", "spend": pytest.approx(world.summary("unstored")["cost"])}
    ]
    assert from_the_first["matched"] == len(SHOWCASE_TASKS)
