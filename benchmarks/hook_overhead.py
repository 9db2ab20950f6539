"""Benchmark: ApimartHook's submit and status round trips beside raw httpx with a pooled client.

A fast status server (``_status_server.py``) answers on 127.0.0.1 in its own process; one fresh
subprocess makes the calls, one at a time, the sides taking turns call by call, in an order that
alternates (a slow spell of the machine hits both):

- **hook**: ``ApimartHook.submit_video(request, idempotency_key=...)`` as an operator calls it (a
  request model built once, its body checked and serialised per call, the answer parsed into a
  model; the line for the paid job is the operator's, not the hook's), ``get_task(id)`` as the
  operator and the worker's wait loop call it, and ``aget_task(id, retry=False)`` as the trigger
  calls it in the triggerer.
- **raw**: one ``httpx.Client`` (or ``AsyncClient``) kept open, posting the same JSON body with the
  same headers, or getting the same path, and decoding the JSON answer: the floor.

It prints the median round trip and CPU per call, and their ratios. It is a benchmark, not a
test. See benchmarks/README.md.

    python benchmarks/hook_overhead.py [--calls 3000] [--blocks N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH_API_KEY, StatusServer, airflow_env, median, percentile, run_child, verdict

RATIO_GOAL = 1.1
#: The calls the goal judges, one row each.
CALLS = ("submit", "get_task", "aget_task")
WHAT = {
    "submit": "POST /v1/videos/generations",
    "get_task": "GET /v1/tasks/{id}, sync",
    "aget_task": "GET /v1/tasks/{id}, async",
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--calls", type=int, default=3000, help="measured calls per side and call (default: %(default)s)"
    )
    parser.add_argument(
        "--blocks", type=int, default=None, help="turns per side (default: one call per turn)"
    )
    args = parser.parse_args()
    blocks = max(1, args.blocks or args.calls)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="apimart-bench-") as home, StatusServer() as server:
        print(
            f"Status server at {server.base_url}; {os.cpu_count()} CPUs; {args.calls} calls per side and "
            f"call, one at a time, in {blocks} alternating turns; machine load "
            f"{os.getloadavg()[0]:.1f}.",
            flush=True,
        )
        env = airflow_env(Path(home), **server.connection_env())
        spec = {"calls": args.calls, "blocks": blocks, "base_url": server.base_url}
        figures = run_child(Path(__file__), [json.dumps(spec)], env)
    report(figures, time.monotonic() - started)
    return 0


def report(figures: dict[str, Any], wall: float) -> None:
    print()
    print(
        f"{'call':<34} | {'hook µs':>8} | {'raw µs':>7} | {'ratio':>5} | {'hook p90':>8} | {'raw p90':>7} | "
        f"{'hook CPU µs':>11} | {'raw CPU µs':>10} | {'ratio':>5}"
    )
    print("-" * 118)
    worst = 0.0
    for call in CALLS:
        hook, raw = figures[call]["hook"], figures[call]["raw"]
        ratio = hook["median_us"] / raw["median_us"]
        cpu_ratio = hook["cpu_us"] / raw["cpu_us"]
        worst = max(worst, ratio)
        print(
            f"{WHAT[call]:<34} | {hook['median_us']:>8.0f} | {raw['median_us']:>7.0f} | {ratio:>5.2f} | "
            f"{hook['p90_us']:>8.0f} | {raw['p90_us']:>7.0f} | {hook['cpu_us']:>11.0f} | "
            f"{raw['cpu_us']:>10.0f} | {cpu_ratio:>5.2f}"
        )
    print()
    print(
        "Round trip: median wall time of one call, server included (the same server for both sides). "
        "CPU: the client process's CPU time per call, the server's not counted."
    )
    worst_cpu = max(figures[call]["hook"]["cpu_us"] / figures[call]["raw"]["cpu_us"] for call in CALLS)
    print(
        f"Hook round trip / raw httpx, worst call: {worst:.2f}x (goal <= {RATIO_GOAL}x): "
        f"{verdict(worst <= RATIO_GOAL)}. CPU per call, worst: {worst_cpu:.2f}x "
        f"({verdict(worst_cpu <= RATIO_GOAL)} against the same bound)."
    )
    print(f"Wall time {wall:.0f} s.")


# ---------------------------------------------------------------- the child: the calls


def child(spec_json: str) -> None:
    import httpx
    from airflow.sdk.log import configure_logging, reset_logging

    from airflow_provider_apimart.hooks.apimart import RESPONSE_VERSION, ApimartHook
    from airflow_provider_apimart.http_basics import USER_AGENT, shared_ssl_context
    from airflow_provider_apimart.models.registry import build_request

    spec = json.loads(spec_json)
    # As on a worker: the task's log lines go out as JSON to the supervisor (here, nowhere).
    reset_logging()  # type: ignore[no-untyped-call]
    configure_logging(json_output=True, output=Sink(), sending_to_supervisor=True)

    request = build_request({"model": "wan2.7", "prompt": "A coastal road at sunset", "duration": 5})
    body = request.to_body()
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
        "Authorization": f"Bearer {BENCH_API_KEY}",
    }
    task_path = f"/v1/tasks/bench_hook_0_{int(time.time() * 1000)}_3600000"
    remote_task_id = task_path.rsplit("/", 1)[1]

    hook = ApimartHook()
    raw = httpx.Client(base_url=spec["base_url"], headers=headers, verify=shared_ssl_context(), timeout=30)
    async_hook = ApimartHook()
    async_raw = httpx.AsyncClient(
        base_url=spec["base_url"], headers=headers, verify=shared_ssl_context(), timeout=30
    )

    def hook_submit() -> None:
        hook.submit_video(request, idempotency_key=uuid.uuid4().hex)

    def raw_submit() -> None:
        # The headers the hook sends on a submit: the key and the response version it speaks.
        submit_headers = {"Idempotency-Key": uuid.uuid4().hex, "X-APIMart-Response-Version": RESPONSE_VERSION}
        answer = raw.post("/v1/videos/generations", json=body, headers=submit_headers)
        answer.raise_for_status().json()

    def hook_get() -> None:
        hook.get_task(remote_task_id)

    def raw_get() -> None:
        raw.get(task_path).raise_for_status().json()

    async def hook_aget() -> None:
        await async_hook.aget_task(remote_task_id, retry=False)

    async def raw_aget() -> None:
        (await async_raw.get(task_path)).raise_for_status().json()

    sides = {
        "submit": (hook_submit, raw_submit),
        "get_task": (hook_get, raw_get),
        "aget_task": (hook_aget, raw_aget),
    }
    loop = asyncio.new_event_loop()
    figures: dict[str, Any] = {}
    per_block = max(1, spec["calls"] // spec["blocks"])
    for call, (hook_side, raw_side) in sides.items():
        times: dict[str, list[float]] = {"hook": [], "raw": []}
        cpu: dict[str, float] = {"hook": 0.0, "raw": 0.0}
        for function in (hook_side, raw_side):
            timed(loop, function, 100)  # warm: connection open, first-call imports done
        for block in range(spec["blocks"]):
            order = (("hook", hook_side), ("raw", raw_side))
            for side, function in order if block % 2 == 0 else order[::-1]:
                cpu0 = time.process_time()
                times[side].extend(timed(loop, function, per_block))
                cpu[side] += time.process_time() - cpu0
        figures[call] = {
            side: {
                "median_us": median(times[side]) * 1e6,
                "p90_us": percentile(times[side], 0.9) * 1e6,
                "cpu_us": cpu[side] / len(times[side]) * 1e6,
            }
            for side in times
        }
    hook.close()
    raw.close()
    loop.run_until_complete(async_hook.aclose())
    loop.run_until_complete(async_raw.aclose())
    loop.close()
    print(json.dumps(figures))


def timed(loop: asyncio.AbstractEventLoop, function: Any, calls: int) -> list[float]:
    """Wall time of each of ``calls`` calls; a coroutine function's calls run in one task of ``loop``."""
    if asyncio.iscoroutinefunction(function):

        async def awaited() -> list[float]:
            times = []
            for _ in range(calls):
                start = time.perf_counter()
                await function()
                times.append(time.perf_counter() - start)
            return times

        return loop.run_until_complete(awaited())
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


class Sink:
    """A log channel that drops what it is sent."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        pass


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        sys.exit(main())
