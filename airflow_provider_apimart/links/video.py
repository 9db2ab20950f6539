"""ApimartVideoLink: a button in the task's UI that opens the generated video."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator

#: The attribute the operator and sensor set when a video is ready.
VIDEO_URL_ATTRIBUTE = "apimart_video_url"


class ApimartVideoLink(BaseOperatorLink):
    """The first generated video of the task (empty until there is one, e.g. while deferred).

    Airflow computes extra links on the worker when a try ends or defers, and stores them as
    XCom; this reads the URL the operator recorded on itself during that try.
    """

    name = "APIMart video"

    def get_link(self, operator: BaseOperator, *, ti_key: Any) -> str:
        return str(getattr(operator, VIDEO_URL_ATTRIBUTE, None) or "")
