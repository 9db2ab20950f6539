"""The simulator's HTTP API: the documented APIMart endpoints, as a Starlette application.

Every ``/v1`` call passes one gate, in this order: recorded, faults injected, the Bearer key
checked (401), the rate limit applied (429 with Retry-After). Requests are validated with the
provider's own request models, so the simulator and the provider agree on what is valid.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from airflow_provider_apimart.exceptions import ApimartValidationError
from airflow_provider_apimart.models.requests import build_request
from airflow_provider_apimart.testing.config import OUTCOME_MARKER, Fault, Outcome
from airflow_provider_apimart.testing.state import RecordedRequest, SimulatorState, StoredUpload

SAMPLE_VIDEO = files("airflow_provider_apimart.testing").joinpath("media/sample.mp4").read_bytes()
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})

Handler = Callable[[Request], Awaitable[Response]]


class DroppedConnection(Exception):  # noqa: N818 - it names what the client sees
    """Raised mid-answer to cut the connection, as a network failure would."""


def api_error(status: int, error_type: str, message: str, **headers: str) -> JSONResponse:
    """The OpenAI-style error body: ``{"error": {"message", "type", "code"}}``."""
    body = {"error": {"message": message, "type": error_type, "code": error_type}}
    return JSONResponse(body, status_code=status, headers=headers or None)


def build_app(state: SimulatorState) -> Starlette:
    rng = random.Random(state.config.seed)  # noqa: S311 - fault injection, not security

    def gate(handler: Handler) -> Handler:
        async def gated(request: Request) -> Response:
            raw = await request.body()
            state.record(
                RecordedRequest(
                    method=request.method,
                    path=request.url.path,
                    headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
                    body=_recorded_body(request, raw),
                    at=time.time(),
                )
            )
            config = state.config
            fault = rng.choice(config.faults) if config.faults and rng.random() < config.fault_rate else None
            if fault is Fault.SLOW:
                await asyncio.sleep(config.slow_seconds)
            elif fault in {Fault.HTTP_500, Fault.HTTP_502, Fault.HTTP_503}:
                return api_error(int(fault.value), "server_error", f"Simulated HTTP {fault.value}")
            if request.headers.get("authorization") != f"Bearer {config.api_key}":
                return api_error(401, "authentication_error", "Invalid token")
            if state.over_rate_limit(time.monotonic()):
                return api_error(
                    429,
                    "rate_limit_error",
                    "Rate limit exceeded",
                    **{"Retry-After": str(config.retry_after_seconds)},
                )
            response = await handler(request)
            if fault is Fault.DROP:
                return _cut_off(response)
            return response

        return gated

    async def submit(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return api_error(400, "invalid_request_error", "The request body is not valid JSON")
        if not isinstance(body, dict):
            return api_error(400, "invalid_request_error", "The request body must be a JSON object")
        try:
            validated = build_request(body)
        except ApimartValidationError as error:
            details = "; ".join(f"{parameter}: {explanation}" for parameter, explanation in error.problems)
            return api_error(400, _error_type(error), f"Invalid {error.model} request. {details}")
        key = request.headers.get("idempotency-key")
        if key is not None:
            try:
                replayed = state.replayed_task(key, body)
            except ValueError:
                return api_error(
                    409, "idempotency_conflict", "This Idempotency-Key was used with another body"
                )
            if replayed is not None:
                return _submitted(state, replayed.id, validated.model, replayed=True)
        task = state.create_paid_task(validated.model, body, _outcome_for(body, state), key)
        if task is None:
            return api_error(402, "payment_required", "Insufficient balance")
        return _submitted(state, task.id, validated.model, replayed=False)

    async def task_status(request: Request) -> Response:
        task = state.task(request.path_params["task_id"])
        if task is None:
            return api_error(404, "not_found", f"Task {request.path_params['task_id']} not found")
        now = time.monotonic()
        state.settle(task, now)
        return JSONResponse({"code": 200, "data": task.snapshot(_origin(request), now)})

    async def balance(request: Request) -> Response:
        return JSONResponse(
            {
                "success": True,
                "remain_balance": state.balance,
                "used_balance": state.spent,
                "unlimited_quota": False,
            }
        )

    async def upload_image(request: Request) -> Response:
        async with request.form(max_part_size=MAX_UPLOAD_BYTES + 1) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                return api_error(400, "invalid_request_error", "Missing the 'file' field")
            content = await upload.read()
            content_type = upload.content_type or ""
            filename = upload.filename or "upload"
        if len(content) > MAX_UPLOAD_BYTES:
            return api_error(413, "file_too_large", "The file is larger than 20 MB")
        if content_type not in UPLOAD_CONTENT_TYPES:
            return api_error(
                400,
                "unsupported_file_type",
                f"Unsupported format {content_type!r}: use JPEG, PNG, WebP or GIF",
            )
        created = int(time.time())
        upload_id = state.store_upload(StoredUpload(filename, content_type, content, created))
        return JSONResponse(
            {
                "url": f"{_origin(request)}/uploads/{upload_id}",
                "filename": filename,
                "content_type": content_type,
                "bytes": len(content),
                "created_at": created,
            }
        )

    async def media(request: Request) -> Response:
        task = state.task(request.path_params["task_id"])
        if task is None or task.outcome is not Outcome.COMPLETED or not task.is_finished(time.monotonic()):
            return Response("Not found", status_code=404, media_type="text/plain")
        if time.time() >= task.expires_at:
            return Response("Request has expired", status_code=403, media_type="text/plain")
        return Response(SAMPLE_VIDEO, media_type="video/mp4")

    async def uploaded(request: Request) -> Response:
        stored = state.upload(request.path_params["upload_id"])
        if stored is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        return Response(stored.content, media_type=stored.content_type)

    return Starlette(
        routes=[
            Route("/v1/videos/generations", gate(submit), methods=["POST"]),
            Route("/v1/tasks/{task_id}", gate(task_status), methods=["GET"]),
            Route("/v1/balance", gate(balance), methods=["GET"]),
            Route("/balance", gate(balance), methods=["GET"]),
            Route("/v1/uploads/images", gate(upload_image), methods=["POST"]),
            Route("/media/{task_id}.mp4", media, methods=["GET"]),
            Route("/uploads/{upload_id}", uploaded, methods=["GET"]),
        ]
    )


def _submitted(state: SimulatorState, task_id: str, model: str, *, replayed: bool) -> JSONResponse:
    headers = {"Idempotency-Replayed": "true"} if replayed else None
    if state.config.submit_response_shape == "object":
        data: Any = {
            "id": task_id,
            "object": "video.generation.task",
            "model": model,
            "status": "pending",
            "progress": 0,
            "created": int(time.time()),
            "type": "video",
            "task_info": {"can_cancel": False, "estimated_time": state.config.estimated_time},
        }
    else:
        data = [{"status": "submitted", "task_id": task_id}]
    return JSONResponse({"code": 200, "data": data}, headers=headers)


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


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _recorded_body(request: Request, raw: bytes) -> Any:
    if request.headers.get("content-type", "").startswith("multipart/"):
        return {"multipart_bytes": len(raw)}
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def _cut_off(response: Response) -> Response:
    """Send the headers and part of the body, then drop the connection."""
    body = bytes(response.body)

    async def partial_body() -> Any:
        yield body[: max(1, len(body) // 2)]
        raise DroppedConnection

    headers = {**response.headers, "content-length": str(len(body))}
    return StreamingResponse(partial_body(), status_code=response.status_code, headers=headers)
