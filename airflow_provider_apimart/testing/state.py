"""What the simulator remembers: tasks, money, uploads, and a record of every request.

The server's event loop writes it from its own thread while a test reads it, so every access
goes through one lock; the record methods return copies.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_apimart.testing.config import Outcome, SimulatorConfig

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

#: Progress milestones as shares of the render time: submitted, then pending, then processing.
SUBMITTED_UNTIL = 0.05
PENDING_UNTIL = 0.2


def new_task_id() -> str:
    """``task_`` plus 26 Crockford base32 characters, the shape of the API's ULID ids."""
    return "task_" + "".join(secrets.choice(_CROCKFORD) for _ in range(26))


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


@dataclass
class SimulatedTask:
    id: str
    model: str
    body: dict[str, Any]
    outcome: Outcome
    cost: float
    created: float  # wall clock, unix seconds
    started: float  # monotonic, for the render clock
    render_seconds: float
    estimated_time: int
    result_url_ttl: float

    def snapshot(self, media_base_url: str, now_monotonic: float) -> dict[str, Any]:
        """The task-status ``data`` object as the documented endpoint returns it now."""
        elapsed = now_monotonic - self.started
        share = elapsed / self.render_seconds if self.render_seconds > 0 else 1.0
        data: dict[str, Any] = {
            "id": self.id,
            "created": int(self.created),
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
        completed = self.created + self.render_seconds
        finished = {
            **data,
            "progress": 100,
            "completed": int(completed),
            "actual_time": math.ceil(self.render_seconds),
        }
        if self.outcome is Outcome.COMPLETED:
            video = {"url": [f"{media_base_url}/media/{self.id}.mp4"], "expires_at": int(self.expires_at)}
            return {**finished, "status": "completed", "cost": self.cost, "result": {"videos": [video]}}
        if self.outcome is Outcome.CANCELLED:
            return {**finished, "status": "cancelled", "cost": 0}
        message = (
            "The request was rejected by content moderation: "
            "the prompt or an input image breaks the usage policy"
            if self.outcome is Outcome.MODERATED
            else "Upstream generation failed: the model could not render this request"
        )
        return {
            **finished,
            "status": "failed",
            "cost": 0,
            "error": {"message": message, "code": "task_failed"},
        }

    @property
    def expires_at(self) -> float:
        return self.created + self.render_seconds + self.result_url_ttl

    def is_finished(self, now_monotonic: float) -> bool:
        return now_monotonic - self.started >= self.render_seconds


@dataclass(frozen=True)
class StoredUpload:
    filename: str
    content_type: str
    content: bytes
    created_at: int


@dataclass
class SimulatorState:
    """Everything the simulator has seen and made since it started (or was reset)."""

    config: SimulatorConfig
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _tasks: dict[str, SimulatedTask] = field(default_factory=dict)
    _requests: list[RecordedRequest] = field(default_factory=list)
    _paid: list[PaidSubmission] = field(default_factory=list)
    _idempotency: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (fingerprint, task id)
    _uploads: dict[str, StoredUpload] = field(default_factory=dict)
    _recent_calls: deque[float] = field(default_factory=deque)
    _spent: float = 0.0

    # ------------------------------------------------------------------ reading, for tests

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def paid_submissions(self) -> list[PaidSubmission]:
        with self._lock:
            return list(self._paid)

    def requests_to(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def paid_count(self, idempotency_key: str | None = None) -> int:
        """Jobs paid for in all, or under one Idempotency-Key."""
        paid = self.paid_submissions
        return (
            len(paid) if idempotency_key is None else sum(p.idempotency_key == idempotency_key for p in paid)
        )

    @property
    def balance(self) -> float:
        with self._lock:
            return round(self.config.balance - self._spent, 6)

    @property
    def spent(self) -> float:
        with self._lock:
            return round(self._spent, 6)

    def task(self, task_id: str) -> SimulatedTask | None:
        with self._lock:
            return self._tasks.get(task_id)

    def reset(self) -> None:
        """Forget every task, request, payment and upload; the configuration stays."""
        with self._lock:
            for collection in (self._tasks, self._requests, self._paid, self._idempotency, self._uploads):
                collection.clear()
            self._recent_calls.clear()
            self._spent = 0.0

    # ------------------------------------------------------------------ writing, for the server

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def over_rate_limit(self, now_monotonic: float) -> bool:
        """Count one API call; True when it is over ``rate_limit_per_second``."""
        limit = self.config.rate_limit_per_second
        with self._lock:
            while self._recent_calls and now_monotonic - self._recent_calls[0] >= 1.0:
                self._recent_calls.popleft()
            if limit is not None and len(self._recent_calls) >= limit:
                return True
            self._recent_calls.append(now_monotonic)
            return False

    def replayed_task(self, idempotency_key: str, body: dict[str, Any]) -> SimulatedTask | None:
        """The task made earlier under this key with this body; ValueError for another body."""
        with self._lock:
            seen = self._idempotency.get(idempotency_key)
            if seen is None:
                return None
            fingerprint, task_id = seen
            if fingerprint != _fingerprint(body):
                raise ValueError(idempotency_key)
            return self._tasks[task_id]

    def create_paid_task(
        self, model: str, body: dict[str, Any], outcome: Outcome, idempotency_key: str | None
    ) -> SimulatedTask | None:
        """Charge and create a job; None when the balance cannot pay for it."""
        config = self.config
        with self._lock:
            if config.balance - self._spent < config.cost_per_video:
                return None
            task = SimulatedTask(
                id=new_task_id(),
                model=model,
                body=body,
                outcome=outcome,
                cost=config.cost_per_video,
                created=time.time(),
                started=time.monotonic(),
                render_seconds=config.render_seconds,
                estimated_time=config.estimated_time,
                result_url_ttl=config.result_url_ttl,
            )
            self._tasks[task.id] = task
            self._spent += task.cost
            self._paid.append(PaidSubmission(task.id, model, task.cost, idempotency_key))
            if idempotency_key is not None:
                self._idempotency[idempotency_key] = (_fingerprint(body), task.id)
            return task

    def settle(self, task: SimulatedTask, now_monotonic: float) -> None:
        """Refund a finished render that failed or was cancelled (the API reports cost 0)."""
        with self._lock:
            if task.outcome is not Outcome.COMPLETED and task.is_finished(now_monotonic) and task.cost:
                self._spent -= task.cost
                task.cost = 0.0

    def store_upload(self, upload: StoredUpload) -> str:
        upload_id = secrets.token_hex(8)
        with self._lock:
            self._uploads[upload_id] = upload
        return upload_id

    def upload(self, upload_id: str) -> StoredUpload | None:
        with self._lock:
            return self._uploads.get(upload_id)


def _fingerprint(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))
