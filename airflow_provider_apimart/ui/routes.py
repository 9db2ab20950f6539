"""Where the views live: the app's mount point and each view's ``url_route``, as Airflow's UI
puts it in its own URLs (``/plugin/<route>`` for the page, ``/dags/<dag>/runs/<run>/plugin/<route>``
for a run's tab). Links to the views (HITL bodies, extra links) are built from these."""

from __future__ import annotations

from urllib.parse import quote

#: Where Airflow's API server mounts the plugin's app.
URL_PREFIX = "/apimart"
NAV_ROUTE = "apimart"
RUN_TAB_ROUTE = "apimart-videos"
TASK_TAB_ROUTE = "apimart-task-videos"


def run_tab_url(dag_id: str, run_id: str) -> str:
    """The run's Videos tab in Airflow's UI (relative to the UI's base URL)."""
    return f"/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}/plugin/{RUN_TAB_ROUTE}"


def task_tab_url(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
    """A task instance's Videos tab in Airflow's UI."""
    path = f"/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}/tasks/{quote(task_id, safe='')}"
    if map_index >= 0:
        path += f"/mapped/{map_index}"
    return f"{path}/plugin/{TASK_TAB_ROUTE}"
