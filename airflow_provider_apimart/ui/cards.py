"""What a card in the Videos tab and a row of the APIMart page say, in words a person reads.

Kept apart from the routes so the wording (expiry, cost, reason) is decided once and tested
without a server.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_apimart.http_basics import public_url
from airflow_provider_apimart.ui.generations import Outcome

if TYPE_CHECKING:
    from airflow_provider_apimart.ui.generations import Generation, TaskKey

OUTCOME_WORDS = {
    Outcome.COMPLETED: "completed",
    Outcome.NOT_STORED: "paid, not stored",
    Outcome.MODERATED: "refused by moderation",
    Outcome.FAILED: "failed",
    Outcome.CANCELLED: "cancelled",
    Outcome.TIMEOUT: "timed out",
    Outcome.RUNNING: "rendering",
}


def task_log_url(key: TaskKey, try_number: int | None) -> str:
    """The task instance's log in Airflow's UI (opened at the top window, not in the tab)."""
    dag, run, task = (quote(part, safe="") for part in (key.dag_id, key.run_id, key.task_id))
    path = f"/dags/{dag}/runs/{run}/tasks/{task}"
    if key.map_index >= 0:
        path += f"/mapped/{key.map_index}"
    return path + (f"?try_number={try_number}" if try_number else "")


def expiry_words(expires_at: float | None, now: float | None = None) -> str:
    """ "expires in 23 h" or "expired 2 h ago": how long the source URL still works."""
    if expires_at is None:
        return "expiry unknown (APIMart gave none)"
    left = expires_at - (time.time() if now is None else now)
    hours = abs(left) / 3600
    amount = f"{hours:.0f} h" if hours >= 1 else f"{abs(left) / 60:.0f} min"
    return f"expires in {amount}" if left > 0 else f"expired {amount} ago"


def utc_text(epoch: float | None) -> str:
    if epoch is None:
        return "unknown"
    return f"{datetime.fromtimestamp(epoch, tz=timezone.utc):%Y-%m-%d %H:%M} UTC"


def money(amount: float) -> str:
    return f"{amount:.4f}".rstrip("0").rstrip(".") if amount else "0"


@dataclass(frozen=True)
class VideoCard:
    """One video of a generation: its player or its source link, and what made it."""

    number: int
    media_url: str | None
    uri: str | None
    sha256: str | None
    content_type: str | None
    source_url: str | None


@dataclass(frozen=True)
class GenerationCard:
    generation: Generation
    videos: list[VideoCard]
    parameters: dict[str, Any]
    expiry: str
    expired: bool
    log_url: str
    outcome_words: str

    @property
    def key(self) -> TaskKey:
        return self.generation.key


def card(generation: Generation, media_url: str, now: float | None = None) -> GenerationCard:
    """The card of ``generation``; ``media_url`` is the media endpoint's URL (query added here)."""
    key = generation.key
    videos: list[VideoCard] = []
    sources = generation.video_urls
    for number, output in enumerate(generation.outputs, start=1):
        query = (
            f"?dag_id={quote(key.dag_id)}&run_id={quote(key.run_id)}&task_id={quote(key.task_id)}"
            f"&map_index={key.map_index}&n={number}"
        )
        videos.append(
            VideoCard(
                number,
                media_url + query,
                str(output.get("uri") or ""),
                str(output.get("sha256") or ""),
                str(output.get("content_type") or ""),
                None,
            )
        )
    if not videos:
        # Not stored: the API's URL is all there is (signed: the browser gets it, never the log).
        videos = [VideoCard(number, None, None, None, None, url) for number, url in enumerate(sources, 1)]
    expires_at = generation.expires_at
    clock = time.time() if now is None else now
    return GenerationCard(
        generation=generation,
        videos=videos,
        parameters={
            name: value for name, value in generation.request.items() if name not in {"prompt", "model"}
        },
        expiry=expiry_words(expires_at, clock),
        expired=expires_at is not None and expires_at <= clock,
        log_url=task_log_url(key, generation.try_number),
        outcome_words=OUTCOME_WORDS[generation.outcome],
    )


def shown_source(url: str | None) -> str:
    """A source URL as text on the page: without its signature (the link itself keeps it)."""
    return public_url(url) if url else ""
