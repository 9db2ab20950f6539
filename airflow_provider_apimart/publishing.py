"""Tell Airflow what a task made: asset events for its outlets, and hook-level lineage.

A downstream DAG scheduled on the task's ``Asset`` (or on an ``AssetAlias``) receives, in each
event's ``extra``, the remote task id, the model, the cost and the stored ``outputs`` (or the
``video_urls`` when nothing was stored), so it can find the files without reading XComs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from airflow.sdk import Asset, AssetAlias

from airflow_provider_apimart.http_basics import public_url

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

try:  # Hook-level lineage: in the task SDK on Airflow 3.3; absent or elsewhere before.
    from airflow.sdk.lineage import get_hook_lineage_collector
except ImportError:  # pragma: no cover - older Airflow
    get_hook_lineage_collector = None  # type: ignore[assignment,unused-ignore]


def event_extra(summary: dict[str, Any]) -> dict[str, Any]:
    """What an asset event carries: from the ``apimart_task`` summary, JSON only."""
    extra = {key: summary.get(key) for key in ("remote_task_id", "model", "cost")}
    if "outputs" in summary:
        extra["outputs"] = summary["outputs"]
    else:
        extra["video_urls"] = summary.get("video_urls", [])
    return extra


def publish(outlets: Sequence[Any], context: Context, summary: dict[str, Any], lineage_context: Any) -> None:
    """Attach ``extra`` to each outlet's event and report stored files to hook-level lineage."""
    extra = event_extra(summary)
    stored_uris = [output["uri"] for output in summary.get("outputs", [])]
    outlet_events = context.get("outlet_events") if outlets else None
    for outlet in outlets:
        if outlet_events is None:
            break
        if isinstance(outlet, Asset):
            outlet_events[outlet].extra.update(extra)
        elif isinstance(outlet, AssetAlias):
            for uri in stored_uris or [public_url(url) for url in summary.get("video_urls", [])]:
                outlet_events[outlet].add(Asset(uri=asset_uri(uri)), extra=extra)
    if get_hook_lineage_collector is not None:
        collector = get_hook_lineage_collector()
        for uri in stored_uris:
            collector.add_output_asset(context=lineage_context, uri=asset_uri(uri))


def asset_uri(uri: str) -> str:
    """An asset URI for a stored file: no connection id (``s3://conn@bucket`` names a bucket)."""
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(netloc=parts.hostname or "")) if "@" in parts.netloc else uri
