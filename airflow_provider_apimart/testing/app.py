"""The simulator's HTTP API: the documented APIMart endpoints, as a Starlette application.

Every ``/v1`` call passes one gate, in this order: recorded, faults injected, the Bearer key
checked (401), the rate limit applied (429 with Retry-After). Requests are validated with the
provider's own request models, so the simulator and the provider agree on what is valid.
Result videos live in ``media``, the ``/_simulator/`` endpoints and the request log in ``control``.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from airflow_provider_apimart.testing.catalogue import docs_answer, model_list, model_schemas, schema_answer
from airflow_provider_apimart.testing.config import Fault, SimulatorConfig
from airflow_provider_apimart.testing.control import RequestObserver, control_routes
from airflow_provider_apimart.testing.errors import api_error
from airflow_provider_apimart.testing.media import DroppedConnection, media_endpoint
from airflow_provider_apimart.testing.records import RecordedRequest
from airflow_provider_apimart.testing.submit import submit

if TYPE_CHECKING:
    from airflow_provider_apimart.testing.state import SimulatorState

MAX_UPLOAD_BYTES = 20 * 1024 * 1024

Handler = Callable[[Request], Awaitable[Response]]


class FaultPicker:
    """Draws the fault for each API call; a new ``config.seed``, even set mid-run, restarts the draws."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._config = config
        self._seed = config.seed
        self._rng = random.Random(config.seed)  # noqa: S311 - fault injection, not security

    def pick(self) -> Fault | None:
        config = self._config
        if config.seed != self._seed:
            self._seed = config.seed
            self._rng = random.Random(config.seed)  # noqa: S311
        if config.faults and self._rng.random() < config.fault_rate:
            return self._rng.choice(config.faults)
        return None


def build_app(state: SimulatorState, request_log: Callable[[str], None] | None = None) -> Starlette:
    """The whole simulator; ``request_log`` gets one line per request (see ``RequestObserver``)."""
    faults = FaultPicker(state.config)

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
            fault = faults.pick()
            if fault is not None:
                state.count_fault(fault.value)
            if fault is Fault.SLOW:
                await asyncio.sleep(config.slow_seconds)
            elif fault in {Fault.HTTP_500, Fault.HTTP_502, Fault.HTTP_503}:
                return api_error(int(fault.value), "server_error", f"Simulated HTTP {fault.value}")
            elif fault is Fault.HTTP_429:
                return api_error(
                    429,
                    "rate_limit_error",
                    "Rate limit exceeded (simulated)",
                    **{"Retry-After": str(config.retry_after_seconds)},
                )
            elif fault is Fault.RESET:
                await _reset_connection(request)
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

    async def submit_generation(request: Request) -> Response:
        return await submit(request, state)

    async def list_models(request: Request) -> Response:
        return JSONResponse(model_list(state.config.extra_models))

    async def model_schema(request: Request) -> Response:
        found = _catalogued(request, state)
        if isinstance(found, Response):
            return found
        if state.config.schema_endpoint_status is not None:
            status = state.config.schema_endpoint_status
            return api_error(status, "server_error", f"Simulated HTTP {status} from the schema endpoint")
        operation = request.query_params.get("operation", "video_generation")
        if operation != "video_generation":
            return api_error(404, "not_found", f"{found[0]} offers no {operation!r} operation")
        return JSONResponse(schema_answer(*found))

    async def model_docs(request: Request) -> Response:
        found = _catalogued(request, state)
        return found if isinstance(found, Response) else JSONResponse(docs_answer(*found))

    async def task_status(request: Request) -> Response:
        task_id = request.path_params["task_id"]
        data = state.task_status(task_id, _origin(request), time.monotonic())
        if data is None:
            return api_error(404, "not_found", f"Task {task_id} not found")
        return JSONResponse({"code": 200, "data": data})

    async def balance(request: Request) -> Response:
        return JSONResponse(state.balance_answer())

    async def upload_image(request: Request) -> Response:
        async with request.form(max_part_size=MAX_UPLOAD_BYTES + 1) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                return api_error(400, "invalid_request_error", "Missing the 'file' field")
            content = await upload.read(MAX_UPLOAD_BYTES + 1)  # enough to know it is too large
            declared = upload.content_type
            filename = upload.filename or "upload"
        if len(content) > MAX_UPLOAD_BYTES:
            return api_error(413, "file_too_large", "The file is larger than 20 MB")
        content_type = image_type(content)
        if content_type is None:
            return api_error(
                400,
                "unsupported_file_type",
                f"{filename!r} (declared {declared!r}) is not a JPEG, PNG, WebP or GIF image",
            )
        stored = state.store_upload(filename, content_type, content)
        return JSONResponse(
            {
                "url": f"{_origin(request)}/uploads/{stored.id}",
                "filename": stored.filename,
                "content_type": stored.content_type,
                "bytes": stored.bytes,
                "created_at": stored.created_at,
            }
        )

    async def uploaded(request: Request) -> Response:
        stored = state.upload(request.path_params["upload_id"])
        if stored is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        record, content = stored
        return Response(content, media_type=record.content_type)

    routes = [
        Route("/v1/videos/generations", gate(submit_generation), methods=["POST"]),
        Route("/v1/models", gate(list_models), methods=["GET"]),
        Route("/v1/model-schema", gate(model_schema), methods=["GET"]),
        Route("/v1/model-docs", gate(model_docs), methods=["GET"]),
        Route("/v1/tasks/{task_id}", gate(task_status), methods=["GET"]),
        Route("/v1/balance", gate(balance), methods=["GET"]),
        Route("/balance", gate(balance), methods=["GET"]),
        Route("/v1/uploads/images", gate(upload_image), methods=["POST"]),
        Route("/media/{task_id}.mp4", media_endpoint(state), methods=["GET"]),
        Route("/uploads/{upload_id}", uploaded, methods=["GET"]),
        *control_routes(state),
    ]
    observer = Middleware(RequestObserver, state=state, routes=routes, log=request_log)
    return Starlette(
        routes=routes,
        middleware=[observer],
        exception_handlers={HTTPException: _unknown_route},  # type: ignore[dict-item]
    )


def image_type(content: bytes) -> str | None:
    """The format the file's leading bytes show; the declared content type is not trusted."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def _catalogued(request: Request, state: SimulatorState) -> tuple[str, dict[str, Any]] | Response:
    """The model a catalogue query names, with its schema, or the error answer."""
    model = request.query_params.get("model")
    if not model:
        return api_error(400, "invalid_request_error", "The query parameter 'model' is required")
    schemas = model_schemas(state.config.extra_models)
    if model not in schemas:
        return api_error(404, "model_not_found", f"Unknown model {model!r}: see GET /v1/models")
    return model, schemas[model]


async def _unknown_route(request: Request, error: HTTPException) -> Response:
    """404 and 405 in APIMart's error format, not Starlette's plain text."""
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "invalid_request_error")
    return api_error(
        error.status_code,
        "invalid_request_error",
        f"{request.method} {request.url.path}: {error.detail}",
        code=code,
    )


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _recorded_body(request: Request, raw: bytes) -> Any:
    if request.headers.get("content-type", "").startswith("multipart/"):
        return {"multipart_bytes": len(raw)}
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


async def _reset_connection(request: Request) -> None:
    """Abort the client's connection with a TCP RST, before any byte of an answer.

    uvicorn's request cycle (the owner of ``receive``) holds the connection's transport; with
    ``SO_LINGER`` 0 its abort resets the connection instead of closing it. Raises
    ``DroppedConnection`` so that nothing is sent (where the transport is out of reach, the
    client gets uvicorn's 500 instead).
    """
    transport = getattr(getattr(request.receive, "__self__", None), "transport", None)
    if transport is not None and hasattr(transport, "abort"):
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        await asyncio.sleep(0)  # let uvicorn see the connection lost, so it sends nothing more
    raise DroppedConnection


def _cut_off(response: Response) -> Response:
    """Send the headers and part of the body, then drop the connection."""
    body = bytes(response.body)

    async def partial_body() -> Any:
        yield body[: max(1, len(body) // 2)]
        raise DroppedConnection

    headers = {**response.headers, "content-length": str(len(body))}
    return StreamingResponse(partial_body(), status_code=response.status_code, headers=headers)
