"""A simulated render: its clock, its outcome, and the signed URL of its video."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import Any

from airflow_provider_apimart.testing.config import DEFAULT_MODERATION_MESSAGE, Outcome

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

#: Progress milestones as shares of the render time: submitted, then pending, then processing.
SUBMITTED_UNTIL = 0.05
PENDING_UNTIL = 0.2


def new_task_id() -> str:
    """``task_`` plus 26 Crockford base32 characters, the shape of the API's ULID ids."""
    return "task_" + "".join(secrets.choice(_CROCKFORD) for _ in range(26))


@dataclass
class SimulatedTask:
    """A job; the state's lock guards the fields that change (cost, media token, expiry)."""

    id: str
    model: str
    body: dict[str, Any]
    outcome: Outcome
    cost: float
    created: float  # wall clock, unix seconds
    started: float  # monotonic, for the render clock
    render_seconds: float
    estimated_time: float
    #: Wall-clock end of the current result URL's validity, as reported; ``expire_media`` moves it
    #: without changing the URL, as a revoked link would.
    expires_at: float = 0.0
    #: The only token the media endpoint accepts for this task, like a signed URL's signature,
    #: and the expiry written into the URL when it was signed (see ``sign``).
    media_token: str = ""
    signed_expires: int = 0
    #: Added to the ``created`` and ``completed`` stamps reported: APIMart's clock against ours.
    clock_offset: float = 0.0
    #: What a moderated render's ``error.message`` says (``moderation_message`` at its creation).
    moderation_message: str = DEFAULT_MODERATION_MESSAGE

    def sign(self, expires_at: float) -> None:
        """Issue a new result URL, valid until ``expires_at``: at creation and on renewal."""
        self.media_token = secrets.token_urlsafe(16)
        self.expires_at = expires_at
        self.signed_expires = int(expires_at)

    def snapshot(self, media_base_url: str, now_monotonic: float) -> dict[str, Any]:
        """The task-status ``data`` object as the documented endpoint returns it now."""
        elapsed = now_monotonic - self.started
        share = elapsed / self.render_seconds if self.render_seconds > 0 else 1.0
        data: dict[str, Any] = {
            "id": self.id,
            "created": int(self.created + self.clock_offset),
            "estimated_time": self.estimated_time,
        }
        if share < 1.0:
            status = (
                "submitted"
                if share < SUBMITTED_UNTIL
                else "pending"
                if share < PENDING_UNTIL
                else "processing"
            )
            return {**data, "status": status, "progress": int(share * 100)}
        completed = self.created + self.clock_offset + self.render_seconds
        finished = {
            **data,
            "progress": 100,
            "completed": int(completed),
            "actual_time": math.ceil(self.render_seconds),
        }
        if self.outcome is Outcome.COMPLETED:
            video = {"url": [self.media_url(media_base_url)], "expires_at": int(self.expires_at)}
            return {**finished, "status": "completed", "cost": self.cost, "result": {"videos": [video]}}
        if self.outcome is Outcome.CANCELLED:
            return {**finished, "status": "cancelled", "cost": 0}
        message = (
            self.moderation_message
            if self.outcome is Outcome.MODERATED
            else "Upstream generation failed: the model could not render this request"
        )
        return {
            **finished,
            "status": "failed",
            "cost": 0,
            "error": {"message": message, "code": "task_failed"},
        }

    def media_url(self, media_base_url: str) -> str:
        """Shaped like a CDN's signed URL: the query string is what the media endpoint checks."""
        return f"{media_base_url}/media/{self.id}.mp4?token={self.media_token}&expires={self.signed_expires}"

    def is_finished(self, now_monotonic: float) -> bool:
        return now_monotonic - self.started >= self.render_seconds

    def has_video(self, now_monotonic: float) -> bool:
        return self.outcome is Outcome.COMPLETED and self.is_finished(now_monotonic)
