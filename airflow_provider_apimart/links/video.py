"""The task's extra links to its video, each named for what it opens.

- **Stored video (APIMart tab)**: the task instance's Videos tab, which plays the stored copy
  through the APIMart UI plugin; an ``http(s)`` stored URI when the plugin is off; empty when the
  task stored nothing.
- **Source video (APIMart URL, expires)**: APIMart's own URL of the first video when it was not
  stored (it stops working after about a day, 72 h for some models).

Airflow computes extra links on the worker when a try ends or defers, and stores them as XCom;
each reads the URL the operator recorded on itself during that try. Airflow's UI hides an empty one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator

#: The attributes the operator and sensor set when a video is ready.
VIDEO_URL_ATTRIBUTE = "apimart_video_url"
STORED_VIDEO_URL_ATTRIBUTE = "apimart_stored_video_url"


class ApimartVideoLink(BaseOperatorLink):
    """APIMart's URL of the first video, when nothing was stored (empty until then)."""

    name = "Source video (APIMart URL, expires)"

    def get_link(self, operator: BaseOperator, *, ti_key: Any) -> str:
        return str(getattr(operator, VIDEO_URL_ATTRIBUTE, None) or "")


class ApimartStoredVideoLink(BaseOperatorLink):
    """The stored copy of the videos, where a browser can play it."""

    name = "Stored video (APIMart tab)"

    def get_link(self, operator: BaseOperator, *, ti_key: Any) -> str:
        return str(getattr(operator, STORED_VIDEO_URL_ATTRIBUTE, None) or "")


def links_for(
    stored_uris: list[str], video_urls: list[str], *, dag_id: str, run_id: str, task_id: str, map_index: int
) -> tuple[str, str]:
    """(source link, stored link) for a finished task: the stored copy when there is one, where the
    UI can reach it; else the source URL."""
    from airflow_provider_apimart.ui.routes import task_tab_url
    from airflow_provider_apimart.version_compat import conf

    if not stored_uris:
        return (video_urls[0] if video_urls else ""), ""
    if conf.getboolean("apimart", "ui_plugin", fallback=True):
        # The UI's own base path (``[api] base_url``), so a UI served under a prefix still opens it.
        base_path = urlsplit(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")
        return "", base_path + task_tab_url(dag_id, run_id, task_id, map_index)
    browsable = next((uri for uri in stored_uris if uri.startswith(("http://", "https://"))), "")
    return ("" if browsable else video_urls[0]), browsable
