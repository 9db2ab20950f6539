"""Upload checked images to APIMart, reusing what an earlier try of the same task uploaded.

An upload URL is valid 72 hours from its ``created_at``
(https://docs.apimart.ai/en/api-reference/uploads/images). On Airflow 3.3+ the task's state store
keeps ``{"apimart_uploads": {sha256: {"url", "expires_at"}}}``, so a retry sends the URL it already
has instead of uploading the same bytes again; a URL within an hour of expiry is uploaded afresh,
since the render may start well after the submit.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.task_state import UPLOADS_STATE_KEY
from airflow_provider_apimart.wording import describe_size

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_apimart.hooks.apimart import ApimartHook
    from airflow_provider_apimart.inputs.check import CheckedImage
    from airflow_provider_apimart.task_state import StateStore

UPLOAD_LIFETIME_SECONDS = 72 * 3600
#: A kept URL this close to its expiry is not reused.
REUSE_MARGIN_SECONDS = 3600


def upload_images(
    hook: ApimartHook, images: Sequence[CheckedImage], store: StateStore | None, log: Any
) -> dict[str, str]:
    """Upload each image (once per distinct content) and return ``{reference: url}``.

    ``store`` is the task's ``task_state_store`` (None before Airflow 3.3: every try uploads);
    ``log`` is the task's logger. API errors are the hook's typed errors.
    """
    kept = _kept_uploads(store)
    urls: dict[str, str] = {}
    uploaded_now: set[str] = set()
    for image in images:
        what = f"{image.parameter} ({image.reference}, {describe_size(image.size)})"
        entry = kept.get(image.sha256)
        if entry is not None and _seconds_left(entry) > REUSE_MARGIN_SECONDS:
            earlier = "an earlier image of this try" if image.sha256 in uploaded_now else "an earlier try"
            log.info("Reusing the upload of %s from %s: %s", what, earlier, entry["url"])
        else:
            answer = hook.upload_image(
                image.content, filename=image.filename, content_type=image.content_type
            )
            created_at = float(answer.created_at) if answer.created_at is not None else time.time()
            entry = {"url": answer.url, "expires_at": created_at + UPLOAD_LIFETIME_SECONDS}
            kept[image.sha256] = entry
            uploaded_now.add(image.sha256)
            if store is not None:  # at once: a try that dies later still leaves this upload behind
                store.set(
                    UPLOADS_STATE_KEY, {sha: one for sha, one in kept.items() if _seconds_left(one) > 0}
                )
            log.info("Uploaded %s to APIMart: %s", what, answer.url)
        urls[image.reference] = str(entry["url"])
    return urls


def _kept_uploads(store: StateStore | None) -> dict[str, dict[str, Any]]:
    """The uploads an earlier try kept; anything unreadable is ignored (it is only a cache)."""
    kept = store.get(UPLOADS_STATE_KEY, None) if store is not None else None
    if not isinstance(kept, dict):
        return {}
    return {
        sha: dict(entry)
        for sha, entry in kept.items()
        if isinstance(sha, str)
        and isinstance(entry, dict)
        and isinstance(entry.get("url"), str)
        and isinstance(entry.get("expires_at"), int | float)
    }


def _seconds_left(entry: dict[str, Any]) -> float:
    return float(entry["expires_at"]) - time.time()
