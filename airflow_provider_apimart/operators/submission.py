"""One paid job per logical task: the Idempotency-Key and the durable record of a submit.

The key is made from dag_id, run_id, task_id, map_index and the request, never the try number,
so every try of one logical task sends the same key. On Airflow 3.3+ a :class:`SubmitRecord`
kept in ``task_state_store`` tells a later try which remote task this request already made.
The record is versioned, so a retry still reattaches after a provider upgrade.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.exceptions import ApimartNotFoundError
from airflow_provider_apimart.task_state import SUBMIT_RECORD_STATE_KEY, state_store

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_apimart.hooks.apimart import ApimartHook
    from airflow_provider_apimart.models.responses import TaskStatus

#: The shape of :class:`SubmitRecord` this release writes. Version 0 (provider 0.1) had only
#: ``remote_task_id`` and ``request_fingerprint``, which every later version keeps; version 2 adds
#: what the answer said (``request_id``, ``replayed``, ``response_version``) and the schema checked.
RECORD_VERSION = 2


@dataclass(frozen=True)
class SubmitRecord:
    """What a try remembers of its submit, for the tries after it (JSON in the state store)."""

    remote_task_id: str
    request_fingerprint: str
    idempotency_key: str | None = None
    submitted_at: float | None = None
    version: int = RECORD_VERSION
    request_id: str | None = None
    #: APIMart answered from an earlier job under the same key (``Idempotency-Replayed: true``).
    replayed: bool = False
    response_version: str | None = None
    #: The sha256 of APIMart's schema the body was checked against; None: no schema was checked.
    schema_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def receipt(self) -> dict[str, Any]:
        """What the ``apimart_task`` XCom and the provenance record say of the submit."""
        return {
            "idempotency_key": self.idempotency_key,
            "request_id": self.request_id,
            "replayed": self.replayed,
            "response_version": self.response_version,
            "schema_sha256": self.schema_sha256,
        }

    @classmethod
    def from_json(cls, value: object) -> SubmitRecord | None:
        """Read a record of any version; None when there is none, or it is unreadable."""
        if not isinstance(value, dict):
            return None
        remote_task_id, fingerprint = value.get("remote_task_id"), value.get("request_fingerprint")
        if not isinstance(remote_task_id, str) or not isinstance(fingerprint, str):
            return None
        key, submitted_at = value.get("idempotency_key"), value.get("submitted_at")
        return cls(
            remote_task_id=remote_task_id,
            request_fingerprint=fingerprint,
            idempotency_key=key if isinstance(key, str) else None,
            submitted_at=float(submitted_at) if isinstance(submitted_at, int | float) else None,
            version=int(value.get("version") or 0),
            request_id=_text_or_none(value.get("request_id")),
            replayed=value.get("replayed") is True,
            response_version=_text_or_none(value.get("response_version")),
            schema_sha256=_text_or_none(value.get("schema_sha256")),
        )


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def stored_record(context: Context) -> SubmitRecord | None:
    """The record an earlier submit of this logical task left in the state store (3.3+), if any."""
    store = state_store(context)
    return SubmitRecord.from_json(store.get(SUBMIT_RECORD_STATE_KEY)) if store is not None else None


def load_record(context: Context, fingerprint: str) -> SubmitRecord | None:
    """The earlier try's record for this same request, if any."""
    record = stored_record(context)
    return record if record is not None and record.request_fingerprint == fingerprint else None


def save_record(context: Context, record: SubmitRecord) -> None:
    store = state_store(context)
    if store is not None:
        store.set(SUBMIT_RECORD_STATE_KEY, record.to_json())


def reattachable_status(hook: ApimartHook, remote_task_id: str, log: Any) -> TaskStatus | None:
    """The earlier try's task if it can still give videos; None means submit afresh."""
    try:
        status = hook.get_task(remote_task_id)
    except ApimartNotFoundError:
        log.warning("APIMart no longer knows task %s from a previous try: submitting afresh.", remote_task_id)
        return None
    if status.state.ended_without_video:
        log.info("APIMart task %s from a previous try %s: submitting afresh.", remote_task_id, status.status)
        return None
    log.info(
        "Reattached to APIMart task %s from a previous try (%s): no new charge.",
        remote_task_id,
        status.status,
    )
    return status


def fingerprint(body: dict[str, Any]) -> str:
    """A digest of the request body: the same request gives the same key."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def idempotency_key(
    context: Context, request_fingerprint: str, superseded: str | None, *, force_new_generation: bool
) -> str:
    """dag_id, run_id, task_id, map_index and the request; never the try number, unless a fresh
    generation is forced. A job that is over without a video (``superseded``) gets a new key,
    or the API would hand that job back."""
    ti = context["ti"]
    parts: list[object] = [ti.dag_id, ti.run_id, ti.task_id, ti.map_index, request_fingerprint]
    if superseded is not None:
        parts.append(superseded)
    if force_new_generation:
        parts.append(f"try-{ti.try_number}")
    return "airflow-" + hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:48]


def why_the_body_changed(task_id: str, *, uploaded: bool) -> str:
    """What can make one logical task send another body under its key: the user's next step."""
    if uploaded:
        cause = "its images were uploaded again under new URLs (on Airflow before 3.3 each try uploads anew)"
    else:
        cause = "a templated value or the TaskFlow function gave another value than on the first try"
    return (
        f"Task {task_id!r}: this try's body differs from the first one sent under its key; likely "
        f"{cause}. Check the APIMart console for the first job before clearing; "
        "force_new_generation=True pays for a new one."
    )
