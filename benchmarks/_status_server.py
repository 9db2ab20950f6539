"""A minimal, fast APIMart stand-in for the benchmarks: raw asyncio HTTP/1.1 on 127.0.0.1.

The simulator (``airflow_provider_apimart.testing``) is built to be faithful, not fast: one
process of it cannot answer thousands of status reads a second. This server answers only what
the benchmarks call, from the task id alone, with keep-alive and no idle timeout:

- ``GET /v1/tasks/{id}``: the status ``data`` of a render that the id describes. A benchmark
  task id is ``bench_<run>_<n>_<start ms>_<render ms>``: the render started at that wall-clock
  time (unix ms), takes that long, and meets its estimate (``estimated_time`` is the render
  time; ``progress`` grows with it, as the simulator's does). Every read is counted per run.
- ``POST /v1/videos/generations``: a submit answer with a new task id (the body is read, not judged).
- ``GET /_stats/<run>``: ``{"polls": {task id: reads}}`` for one run.

It prints ``port <n>`` once listening and runs until SIGTERM or SIGINT. It uses uvloop when
installed (it is the load generator's opposite end, not what is measured).

    python benchmarks/_status_server.py [--port 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import time
from collections import defaultdict
from typing import Any

_KEEP_ALIVE = b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found"}

#: reads per task, per run: {run: {task id: reads}}
POLLS: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
_submits = 0


def task_data(task_id: str, now: float) -> dict[str, Any] | None:
    """The status ``data`` of a benchmark task at wall-clock time ``now``; None for a foreign id."""
    parts = task_id.split("_")
    if len(parts) != 5 or parts[0] != "bench":
        return None
    try:
        start = int(parts[3]) / 1000
        render = int(parts[4]) / 1000
    except ValueError:
        return None
    share = (now - start) / render if render > 0 else 1.0
    data: dict[str, Any] = {"id": task_id, "created": int(start), "estimated_time": round(render, 3)}
    if share < 1.0:
        status = "submitted" if share < 0.05 else "pending" if share < 0.2 else "processing"
        return {**data, "status": status, "progress": int(max(0.0, share) * 100)}
    video = {
        "url": [f"https://cdn.bench.invalid/{task_id}.mp4?token=t&expires=9999999999"],
        "expires_at": 9_999_999_999,
    }
    return {
        **data,
        "status": "completed",
        "progress": 100,
        "completed": int(start + render),
        "actual_time": round(render),
        "cost": 0.4,
        "result": {"videos": [video]},
    }


def answer(method: str, path: str) -> tuple[int, bytes]:
    global _submits
    if method == "GET" and path.startswith("/v1/tasks/"):
        task_id = path[len("/v1/tasks/") :]
        data = task_data(task_id, time.time())
        if data is None:
            return 404, b'{"error":{"message":"task not found","code":"not_found"}}'
        POLLS[task_id.split("_")[1]][task_id] += 1
        return 200, json.dumps({"code": 200, "data": data}, separators=(",", ":")).encode()
    if method == "POST" and path == "/v1/videos/generations":
        _submits += 1
        now_ms = int(time.time() * 1000)
        task_id = f"bench_submit_{_submits}_{now_ms}_60000"
        body = {"code": 200, "data": [{"status": "submitted", "task_id": task_id}]}
        return 200, json.dumps(body, separators=(",", ":")).encode()
    if method == "GET" and path.startswith("/_stats/"):
        run = path[len("/_stats/") :]
        return 200, json.dumps({"polls": POLLS.get(run, {})}).encode()
    return 404, b'{"error":{"message":"no such endpoint"}}'


class HTTPProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and pipelining, for the requests the benchmarks make."""

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            lines = head.split("\r\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            method, path, _ = [*lines[0].split(" "), "", ""][:3]
            status, body = answer(method, path)
            assert self.transport is not None
            self.transport.write(_KEEP_ALIVE % (status, _REASONS[status], len(body)) + body)


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(HTTPProtocol, host, port, backlog=4096)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one socket per poller
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(args.host, args.port))
    else:
        uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
