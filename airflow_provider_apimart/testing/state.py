"""What the simulator remembers: tasks, money, uploads, and a record of every request.

The server's event loop writes it from its own thread while a test reads it, so every access
goes through one lock; the record methods return copies.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_apimart.testing.config import Outcome, SimulatorConfig
from airflow_provider_apimart.testing.records import (
    MediaRequest,
    PaidSubmission,
    RecordedRequest,
    Replay,
    UploadedFile,
)
from airflow_provider_apimart.testing.tasks import SimulatedTask, new_task_id


@dataclass
class SimulatorState:
    """Everything the simulator has seen and made since it started (or was reset)."""

    config: SimulatorConfig
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _tasks: dict[str, SimulatedTask] = field(default_factory=dict)
    _requests: list[RecordedRequest] = field(default_factory=list)
    _media: list[MediaRequest] = field(default_factory=list)
    _counts: Counter[str] = field(default_factory=Counter)
    _faults: Counter[str] = field(default_factory=Counter)
    _paid: list[PaidSubmission] = field(default_factory=list)
    _replays: list[Replay] = field(default_factory=list)
    _idempotency: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (fingerprint, task id)
    #: Keys whose first submit is still being answered (``submit_hold_seconds``).
    _in_flight: set[str] = field(default_factory=set)
    _uploads: dict[str, tuple[UploadedFile, bytes]] = field(default_factory=dict)
    _recent_calls: deque[float] = field(default_factory=deque)
    _spent: float = 0.0
    #: Added to ``config.balance`` by ``set_balance``, so the configured start stays untouched.
    _balance_shift: float = 0.0

    # ------------------------------------------------------------------ reading, for tests

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API request (``/v1`` and ``/balance``), faulted or refused ones included."""
        with self._lock:
            return list(self._requests)

    @property
    def media_requests(self) -> list[MediaRequest]:
        with self._lock:
            return list(self._media)

    @property
    def paid_submissions(self) -> list[PaidSubmission]:
        with self._lock:
            return list(self._paid)

    @property
    def replays(self) -> list[Replay]:
        with self._lock:
            return list(self._replays)

    @property
    def uploads(self) -> list[UploadedFile]:
        with self._lock:
            return [record for record, _ in self._uploads.values()]

    def requests_to(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def media_gets(self) -> list[MediaRequest]:
        """Media GETs (HEADs left out): one per download attempt, resumes included."""
        return [r for r in self.media_requests if r.method == "GET"]

    def request_counts(self) -> dict[str, int]:
        """Requests by ``"<METHOD> <route>"``, e.g. ``"GET /v1/tasks/{task_id}"``; control calls excluded."""
        with self._lock:
            return dict(self._counts)

    def fault_counts(self) -> dict[str, int]:
        """Faults injected so far, by name (``"503"``, ``"reset"``, ``"drop"`` ...)."""
        with self._lock:
            return dict(self._faults)

    def paid_count(self, idempotency_key: str | None = None) -> int:
        """Jobs paid for in all, or under one Idempotency-Key."""
        paid = self.paid_submissions
        return (
            len(paid) if idempotency_key is None else sum(p.idempotency_key == idempotency_key for p in paid)
        )

    def replay_count(self, idempotency_key: str | None = None) -> int:
        """Submits answered with an existing task, in all or under one Idempotency-Key."""
        replays = self.replays
        return (
            len(replays)
            if idempotency_key is None
            else sum(r.idempotency_key == idempotency_key for r in replays)
        )

    @property
    def balance(self) -> float:
        with self._lock:
            return round(self._remaining(), 6)

    @property
    def spent(self) -> float:
        with self._lock:
            return round(self._spent, 6)

    def balance_answer(self) -> dict[str, Any]:
        """The ``/v1/balance`` body; an unlimited quota reports ``-1`` as the API does."""
        with self._lock:
            unlimited = self.config.unlimited_quota
            return {
                "success": True,
                "remain_balance": -1 if unlimited else round(self._remaining(), 6),
                "used_balance": round(self._spent, 6),
                "unlimited_quota": unlimited,
            }

    def task(self, task_id: str) -> SimulatedTask | None:
        with self._lock:
            return self._tasks.get(task_id)

    # ------------------------------------------------------------------ steering, for tests

    def reset(self) -> None:
        """Forget every task, request, payment, upload and ``set_balance``; the configuration stays."""
        with self._lock:
            for collection in (
                self._tasks,
                self._requests,
                self._media,
                self._counts,
                self._faults,
                self._paid,
                self._replays,
                self._idempotency,
                self._in_flight,
                self._uploads,
            ):
                collection.clear()
            self._recent_calls.clear()
            self._spent = self._balance_shift = 0.0

    def set_balance(self, amount: float) -> None:
        """Make the remaining balance exactly ``amount`` (spending so far stays on record)."""
        with self._lock:
            self._balance_shift += amount - self._remaining()

    def expire_media(self, task_id: str | None = None) -> None:
        """End the validity of one task's current result URL, or of every task's, now.

        :raises KeyError: no task has this id.
        """
        now = time.time()
        with self._lock:
            tasks = self._tasks.values() if task_id is None else [self._tasks[task_id]]
            for task in tasks:
                task.expires_at = min(task.expires_at, now)

    # ------------------------------------------------------------------ writing, for the server

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def record_media(self, request: MediaRequest) -> None:
        with self._lock:
            self._media.append(request)

    def count(self, route: str) -> None:
        with self._lock:
            self._counts[route] += 1

    def count_fault(self, fault: str) -> None:
        with self._lock:
            self._faults[fault] += 1

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

    def take_idempotency_answer(self) -> str | None:
        """Spend the next of ``idempotency_answers``; the scripted answer, or None."""
        with self._lock:
            scripted = self.config.idempotency_answers
            if not scripted:
                return None
            self.config.idempotency_answers = scripted[1:]
            return scripted[0]

    def in_flight(self, idempotency_key: str) -> bool:
        """Whether the first submit under this key is still being answered."""
        with self._lock:
            return idempotency_key in self._in_flight

    def answered(self, idempotency_key: str) -> None:
        """The first submit under this key has its answer: later ones are replays."""
        with self._lock:
            self._in_flight.discard(idempotency_key)

    def replayed_task(self, idempotency_key: str, body: dict[str, Any]) -> SimulatedTask | None:
        """The task made earlier under this key with this body, counted as a replay.

        :raises ValueError: the key was used with another body.
        """
        with self._lock:
            seen = self._idempotency.get(idempotency_key)
            if seen is None:
                return None
            fingerprint, task_id = seen
            if fingerprint != _fingerprint(body):
                raise ValueError(idempotency_key)
            self._replays.append(Replay(task_id, idempotency_key))
            return self._tasks[task_id]

    def create_paid_task(
        self,
        model: str,
        body: dict[str, Any],
        outcome: Outcome,
        idempotency_key: str | None,
        *,
        render_seconds: float | None = None,
    ) -> SimulatedTask | None:
        """Charge and create a job (its key in flight until ``answered``); None when the balance
        cannot pay for it. ``render_seconds`` 0 makes a synchronous result."""
        config = self.config
        with self._lock:
            if not config.unlimited_quota and self._remaining() < config.cost_per_video:
                return None
            task = SimulatedTask(
                id=new_task_id(),
                model=model,
                body=body,
                outcome=outcome,
                cost=config.cost_per_video,
                created=time.time(),
                started=time.monotonic(),
                render_seconds=config.render_seconds if render_seconds is None else render_seconds,
                estimated_time=config.reported_estimate(),
                clock_offset=config.clock_offset_seconds,
                moderation_message=config.moderation_message,
            )
            task.sign(task.created + task.render_seconds + config.result_url_ttl)
            self._tasks[task.id] = task
            self._spent += task.cost
            self._paid.append(PaidSubmission(task.id, model, task.cost, idempotency_key))
            if idempotency_key is not None:
                self._idempotency[idempotency_key] = (_fingerprint(body), task.id)
                self._in_flight.add(idempotency_key)
            return task

    def task_status(self, task_id: str, media_base_url: str, now_monotonic: float) -> dict[str, Any] | None:
        """The status ``data`` of a task, None if unknown.

        Reading a finished task settles it: a failed or cancelled render is refunded (the API
        reports cost 0), and with ``renew_expired_urls`` an expired result URL is re-signed.
        """
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                return None
            if task.is_finished(now_monotonic):
                now = time.time()
                if task.outcome is not Outcome.COMPLETED and task.cost:
                    self._spent -= task.cost
                    task.cost = 0.0
                elif (
                    task.outcome is Outcome.COMPLETED
                    and self.config.renew_expired_urls
                    and now >= task.expires_at
                ):
                    task.sign(now + self.config.result_url_ttl)
            return task.snapshot(media_base_url, now_monotonic)

    def media_status(self, task_id: str, token: str | None, now_monotonic: float) -> int:
        """200 when ``token`` opens the task's video now; 404 without a finished video; 403 when
        the token is not the current one or its URL expired."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None or not task.has_video(now_monotonic):
                return 404
            if token != task.media_token or time.time() >= task.expires_at:
                return 403
            return 200

    def take_media_error(self) -> bool:
        """Spend one of ``media_errors_remaining``; True when this media request gets a 503."""
        with self._lock:
            if self.config.media_errors_remaining <= 0:
                return False
            self.config.media_errors_remaining -= 1
            return True

    def take_media_drop(self, body_bytes: int) -> int | None:
        """Spend one of ``media_drops_remaining`` on an answer long enough to be cut; the cut-off."""
        with self._lock:
            drop_after = self.config.media_drop_after_bytes
            if self.config.media_drops_remaining <= 0 or drop_after is None or drop_after >= body_bytes:
                return None
            self.config.media_drops_remaining -= 1
            return drop_after

    def store_upload(self, filename: str, content_type: str, content: bytes) -> UploadedFile:
        record = UploadedFile(
            id=secrets.token_hex(8),
            filename=filename,
            content_type=content_type,
            bytes=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            created_at=int(time.time()),
        )
        with self._lock:
            self._uploads[record.id] = (record, content)
        return record

    def upload(self, upload_id: str) -> tuple[UploadedFile, bytes] | None:
        with self._lock:
            return self._uploads.get(upload_id)

    def _remaining(self) -> float:
        """The balance left; call with the lock held."""
        return self.config.balance + self._balance_shift - self._spent


def _fingerprint(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))
