"""The simulator's ``POST /v1/videos/generations``: validation, idempotency, billing, both answer versions.

In this order: the body is read and checked (the provider's request models for the four documented
models, the catalogue's JSON Schema for every model; an unknown model is a 400), then a submit with an
``Idempotency-Key`` meets the scripted ``idempotency_answers``, an ``in_progress`` when its first
request is still held, a ``key_reused`` when the body differs, or a replay; only then is a job made
and charged. The answer's shape follows ``X-APIMart-Response-Version``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.exceptions import ApimartValidationError
from airflow_provider_apimart.models.registry import REQUEST_MODELS, build_request
from airflow_provider_apimart.models.schemas import ModelSchema
from airflow_provider_apimart.testing.catalogue import model_schemas, schema_answer
from airflow_provider_apimart.testing.config import OUTCOME_MARKER, Outcome
from airflow_provider_apimart.testing.errors import api_error

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from airflow_provider_apimart.testing.state import SimulatorState
    from airflow_provider_apimart.testing.tasks import SimulatedTask

#: The response version APIMart's own client asks for; the only one with a contract of its own.
RESPONSE_VERSION = "2026-07-27"

#: How often a held answer looks whether its client is still there.
HOLD_CHECK_SECONDS = 0.05

#: The scripted idempotency answers: HTTP status, error code, message.
_IDEMPOTENCY_ANSWERS = {
    "in_progress": (
        409,
        "idempotency_in_progress",
        "A request with this Idempotency-Key is still being processed",
    ),
    "key_reused": (
        409,
        "idempotency_key_reused",
        "This Idempotency-Key was used with a different request body",
    ),
    "result_indeterminate": (
        409,
        "idempotency_result_indeterminate",
        "The outcome of the first request with this Idempotency-Key is unknown",
    ),
    "unavailable": (
        503,
        "idempotency_unavailable",
        "Idempotency is unavailable; the request was not executed",
    ),
}


async def submit(request: Request, state: SimulatorState) -> Response:
    """Answer one submit as the API would (see the module docstring)."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        return api_error(400, "invalid_request_error", "The request body is not valid JSON")
    if not isinstance(body, dict):
        return api_error(400, "invalid_request_error", "The request body must be a JSON object")
    refusal = _refusal(body, state)
    if refusal is not None:
        return refusal
    model = str(body["model"])
    key = request.headers.get("idempotency-key")
    if key is not None:
        answered = _idempotency_answer(key, body, state)
        if answered is not None:
            if isinstance(answered, str):
                status, code, message = _IDEMPOTENCY_ANSWERS[answered]
                wait = {"Retry-After": "1"} if answered in {"in_progress", "unavailable"} else {}
                return api_error(status, "idempotency_error", message, code=code, **wait)
            return _submitted(request, state, answered, model, replayed=True)
    synchronous = state.config.synchronous_results and _versioned(request)
    task = state.create_paid_task(
        model, body, _outcome_for(body, state), key, render_seconds=0.0 if synchronous else None
    )
    if task is None:
        return api_error(402, "payment_required", "Insufficient balance")
    try:
        await _hold(request, state.config.submit_hold_seconds)  # the job exists and is billed
    finally:
        if key is not None:
            state.answered(key)
    return _submitted(request, state, task, model, replayed=False)


async def _hold(request: Request, seconds: float) -> None:
    """Keep the answer back for ``seconds``, or until the client has gone: then the request is over,
    and a later submit under its key is a replay rather than ``in_progress``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        if await request.is_disconnected():
            return
        await asyncio.sleep(min(HOLD_CHECK_SECONDS, left))


def _refusal(body: dict[str, Any], state: SimulatorState) -> Response | None:
    """The 400 for a body the API refuses, or None."""
    model = body.get("model")
    schemas = model_schemas(state.config.extra_models)
    if not isinstance(model, str) or model not in schemas:
        return api_error(400, "invalid_request_error", f"Unknown model {model!r}: see GET /v1/models")
    if model in REQUEST_MODELS:
        try:
            build_request(body)
        except ApimartValidationError as error:
            details = "; ".join(f"{parameter}: {explanation}" for parameter, explanation in error.problems)
            return api_error(400, _error_type(error), f"Invalid {error.model} request. {details}")
    problems = ModelSchema.model_validate(schema_answer(model, schemas[model])).problems(body)
    if problems:
        details = "; ".join(f"{parameter}: {explanation}" for parameter, explanation in problems)
        return api_error(400, "invalid_request_error", f"Invalid {model} request. {details}")
    return None


def _idempotency_answer(key: str, body: dict[str, Any], state: SimulatorState) -> str | SimulatedTask | None:
    """A scripted or real idempotency answer's name, the task to replay, or None for a new job."""
    scripted = state.take_idempotency_answer()
    if scripted is not None:
        return scripted
    if state.in_flight(key):
        return "in_progress"
    try:
        return state.replayed_task(key, body)
    except ValueError:
        return "key_reused"


def _versioned(request: Request) -> bool:
    return request.headers.get("x-apimart-response-version") == RESPONSE_VERSION


def _submitted(
    request: Request, state: SimulatorState, task: SimulatedTask, model: str, *, replayed: bool
) -> Response:
    from starlette.responses import JSONResponse

    headers = {"Idempotency-Replayed": "true"} if replayed else {}
    envelope: dict[str, Any] = {"code": 200}
    if _versioned(request):
        headers["X-APIMart-Response-Version"] = RESPONSE_VERSION
        envelope["request_id"] = f"req_{secrets.token_hex(12)}"
        if task.render_seconds == 0:
            origin = f"{request.url.scheme}://{request.url.netloc}"
            snapshot = state.task_status(task.id, origin, time.monotonic()) or {}
            envelope["data"] = {**snapshot, "object": "generation.result", "model": model}
        else:
            envelope["data"] = {
                "id": task.id,
                "object": "generation.task",
                "model": model,
                "status": "queued",
                "created": int(task.created + task.clock_offset),
            }
    elif state.config.submit_response_shape == "object":
        envelope["data"] = {
            "id": task.id,
            "object": "video.generation.task",
            "model": model,
            "status": "pending",
            "progress": 0,
            "created": int(task.created + task.clock_offset),
            "type": "video",
            "task_info": {"can_cancel": False, "estimated_time": task.estimated_time},
        }
    else:
        envelope["data"] = [{"status": "submitted", "task_id": task.id}]
    return JSONResponse(envelope, headers=headers or None)


def _outcome_for(body: dict[str, Any], state: SimulatorState) -> Outcome:
    marker = OUTCOME_MARKER.search(str(body.get("prompt") or ""))
    if marker:
        try:
            return Outcome(marker["outcome"])
        except ValueError:
            pass
    return state.config.default_outcome


def _error_type(error: ApimartValidationError) -> str:
    """The documented error type for the first broken rule (Omni-Flash-Ext's table)."""
    parameter = error.problems[0][0] if error.problems else ""
    return {
        "duration": "invalid_duration",
        "resolution": "invalid_resolution",
        "image_urls": "unsupported_image_count",
    }.get(parameter, "invalid_request_error")
