"""The Airflow plugin that ``pip install`` registers (entry point ``airflow.plugins``).

Airflow's API server mounts the app at ``/apimart`` and the UI shows the views: the APIMart page
in the navigation, and a Videos tab on each DAG run and task instance (Airflow 3.1 to 3.3 have no
way to show a plugin tab only on some DAGs, so it shows on all; it says so where there is
nothing). ``[apimart] ui_plugin = False`` (``AIRFLOW__APIMART__UI_PLUGIN=False``) keeps it out.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_apimart.ui.routes import NAV_ROUTE, RUN_TAB_ROUTE, TASK_TAB_ROUTE, URL_PREFIX
from airflow_provider_apimart.version_compat import conf


def enabled() -> bool:
    return conf.getboolean("apimart", "ui_plugin", fallback=True)


def _fastapi_apps() -> list[dict[str, Any]]:
    from airflow_provider_apimart.ui.app import create_app

    return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "APIMart"}]


def _external_views() -> list[dict[str, Any]]:
    return [
        {"name": "APIMart", "href": f"{URL_PREFIX}/", "destination": "nav", "url_route": NAV_ROUTE},
        {
            "name": "Videos",
            "href": f"{URL_PREFIX}/videos?dag_id={{DAG_ID}}&run_id={{RUN_ID}}",
            "destination": "dag_run",
            "url_route": RUN_TAB_ROUTE,
        },
        {
            "name": "Videos",
            "href": f"{URL_PREFIX}/videos?dag_id={{DAG_ID}}&run_id={{RUN_ID}}"
            "&task_id={TASK_ID}&map_index={MAP_INDEX}",
            "destination": "task_instance",
            "url_route": TASK_TAB_ROUTE,
        },
    ]


class _BuiltWhenRead:
    """The app is built when Airflow's API server first reads ``fastapi_apps``: every other process
    that loads plugins (workers, the DAG processor) never imports FastAPI or the views for it."""

    def __init__(self) -> None:
        self._apps: list[dict[str, Any]] | None = None

    def __get__(self, instance: object, owner: type | None = None) -> list[dict[str, Any]]:
        if self._apps is None:
            self._apps = _fastapi_apps() if enabled() else []
        return self._apps


class ApimartPlugin(AirflowPlugin):
    """Views of APIMart generations in Airflow's UI; empty when ``[apimart] ui_plugin`` is off."""

    name = "apimart"
    fastapi_apps = _BuiltWhenRead()
    external_views = _external_views() if enabled() else []
