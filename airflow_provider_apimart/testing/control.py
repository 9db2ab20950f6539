"""Watching and steering a simulator from outside its process.

System tests run the simulator as a separate process (``python -m airflow_provider_apimart.testing``),
where ``simulator.state`` is out of reach. So the records are also served as JSON, the knobs can
be changed over HTTP under ``/_simulator/`` (a prefix the API cannot have), and each request can be
logged as one line. The control endpoints need no key, are never rate-limited or faulted, and are
left out of the request counts, so reading the records does not change them.
"""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, get_type_hints

from pydantic import TypeAdapter, ValidationError
from starlette.responses import JSONResponse
from starlette.routing import Match, Route

from airflow_provider_apimart.testing.config import SimulatorConfig

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from airflow_provider_apimart.testing.state import SimulatorState

CONTROL_PREFIX = "/_simulator/"
_CONFIG = TypeAdapter(SimulatorConfig)
_FIELDS = {name: TypeAdapter(hint) for name, hint in get_type_hints(SimulatorConfig).items()}
#: Left out of the config echo: the answer may end up in a system test's logs.
_UNECHOED = "api_key"


class RequestObserver:
    """ASGI middleware: counts each request by route and, given ``log``, writes one line for it.

    The line is ``<time> <METHOD> <path> -> <status> (<ms> ms)``: the path without its query
    string (media tokens stay out) and no header, so the API key never reaches the log. It is
    written once the answer is complete, so ``<ms>`` covers a whole download.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        state: SimulatorState,
        routes: Sequence[Route],
        log: Callable[[str], None] | None,
    ) -> None:
        self._app = app
        self._state = state
        self._routes = routes
        self._log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if not path.startswith(CONTROL_PREFIX):
            self._state.count(f"{method} {self._route_of(scope)}")
        if self._log is None:
            await self._app(scope, receive, send)
            return
        arrived = datetime.now()
        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before answering

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, observed)
        finally:
            took = (time.perf_counter() - started) * 1000
            self._log(
                f"{arrived.isoformat(timespec='milliseconds')} {method} {path} -> {status} ({took:.1f} ms)"
            )

    def _route_of(self, scope: Scope) -> str:
        """The route's pattern (``/v1/tasks/{task_id}``), so counts do not grow with task ids."""
        for route in self._routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return route.path
        return str(scope["path"])


def control_routes(state: SimulatorState) -> list[Route]:
    """The ``/_simulator/`` endpoints: records, reset, config, balance and media expiry."""

    async def records(request: Request) -> Response:
        return JSONResponse(records_json(state))

    async def reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"reset": True})

    async def read_config(request: Request) -> Response:
        return JSONResponse(_config_json(state.config))

    async def change_config(request: Request) -> Response:
        changes = await _json_object(request)
        if changes is None:
            return _bad_request("The body must be a JSON object of SimulatorConfig fields")
        unknown = sorted(set(changes) - set(_FIELDS))
        if unknown:
            return _bad_request(f"Unknown config fields: {', '.join(unknown)}", unknown=unknown)
        try:
            values = {name: _FIELDS[name].validate_python(value) for name, value in changes.items()}
        except ValidationError as error:
            return _bad_request(f"Invalid config values: {error}")
        for name, value in values.items():  # all validated first: a bad field changes nothing
            setattr(state.config, name, value)
        return JSONResponse(_config_json(state.config))

    async def set_balance(request: Request) -> Response:
        body = await _json_object(request)
        amount = None if body is None else body.get("amount")
        if not isinstance(amount, int | float) or isinstance(amount, bool):
            return _bad_request('The body must be {"amount": <number>}')
        state.set_balance(amount)
        return JSONResponse(state.balance_answer())

    async def expire_media(request: Request) -> Response:
        body = await _json_object(request) if await request.body() else {}
        task_id = None if body is None else body.get("task_id")
        if body is None or not isinstance(task_id, str | None):
            return _bad_request('The body must be empty or {"task_id": "<id>"}')
        try:
            state.expire_media(task_id)
        except KeyError:
            return JSONResponse({"error": f"Task {task_id} not found"}, status_code=404)
        return JSONResponse({"expired": task_id or "all"})

    prefix = CONTROL_PREFIX.rstrip("/")
    return [
        Route(f"{prefix}/records", records, methods=["GET"]),
        Route(f"{prefix}/reset", reset, methods=["POST"]),
        Route(f"{prefix}/config", read_config, methods=["GET"]),
        Route(f"{prefix}/config", change_config, methods=["POST"]),
        Route(f"{prefix}/balance", set_balance, methods=["POST"]),
        Route(f"{prefix}/expire-media", expire_media, methods=["POST"]),
    ]


def records_json(state: SimulatorState) -> dict[str, Any]:
    """What ``simulator.state`` holds, as JSON: counts first, then the records behind them."""
    paid, replays, uploads = state.paid_submissions, state.replays, state.uploads
    media = state.media_requests
    return {
        "counts": {
            "requests": state.request_counts(),
            "paid_jobs": len(paid),
            "replays": len(replays),
            "uploads": len(uploads),
            "media_gets": sum(r.method == "GET" for r in media),
        },
        "balance": state.balance_answer(),
        "faults": state.fault_counts(),
        "paid_submissions": [dataclasses.asdict(p) for p in paid],
        "replays": [dataclasses.asdict(r) for r in replays],
        "uploads": [dataclasses.asdict(u) for u in uploads],
        "media_requests": [dataclasses.asdict(m) for m in media],
        "requests": [dataclasses.asdict(r) for r in state.requests],
    }


def _config_json(config: SimulatorConfig) -> dict[str, Any]:
    echoed: dict[str, Any] = _CONFIG.dump_python(config, mode="json")
    echoed.pop(_UNECHOED)
    return echoed


async def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _bad_request(message: str, **details: Any) -> JSONResponse:
    return JSONResponse({"error": message, **details}, status_code=400)
