"""Benchmark: N ApimartTaskTriggers in one event loop, beside a bare httpx polling loop.

A fast status server (``_status_server.py``) runs on 127.0.0.1 in its own process. Each side
runs in a fresh subprocess, N pollers in one asyncio loop as the triggerer runs them, each
waiting for one render of its own:

- **bare**: N coroutines, each with its own ``httpx.AsyncClient`` (one shared SSL context,
  keep-alive as long as the trigger's), reading the status every ``poll_interval`` until done:
  the floor.
- **fixed**: N ``ApimartTaskTrigger.run()`` generators with ``max_poll_interval ==
  poll_interval``: the same reads at the same pace as the bare loop, so CPU per read compares
  like with like.
- **adaptive**: N triggers as shipped (``max_poll_interval`` 60 s), deferred as the operator
  defers them: the first read when the operator's read before the deferral said (from the
  render's estimate), then reads that follow the render's ``estimated_time``/``progress``.

It prints CPU per read (and its ratio to the bare loop), event-loop lag, RSS per poller, reads
per generation and the delay from a render's end to its event, with the goals beside them. It is
a benchmark, not a test. See benchmarks/README.md.

    python benchmarks/trigger_scale.py                 # quick: N=1,000 at half the production time scale
    python benchmarks/trigger_scale.py --full          # N=5,000 at production time, 3 runs of each side
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_API_KEY,
    StatusServer,
    airflow_env,
    cpu_seconds,
    median,
    percentile,
    raise_fd_limit,
    rss_kb,
    run_child,
    verdict,
)

SIDES = ("bare", "fixed", "adaptive")
LABELS = {
    "bare": "bare httpx loop",
    "fixed": "trigger, fixed interval",
    "adaptive": "trigger, adaptive (shipped)",
}
LAG_GOAL_MS = 100.0
RSS_GOAL_KB = 25.0
CPU_RATIO_GOAL = 1.2
POLLS_SHARE_GOAL = 1 / 3
#: A render's end is seen by the first read after it: poll_interval, plus that read's round trip
#: and the loop's lag.
DETECT_ALLOWANCE = 0.25
#: The ticker that measures event-loop lag sleeps this long and records how late it wakes.
TICK = 0.05


@dataclass(frozen=True)
class Scale:
    """The production timings (seconds), divided by ``time_scale``."""

    n: int
    poll_interval: float = 10.0
    max_poll_interval: float = 60.0
    first_poll_delay: float = 5.0
    render_min: float = 60.0
    render_max: float = 120.0
    ramp: float = 10.0
    time_scale: float = 1.0

    def scaled(self) -> dict[str, float]:
        return {
            name: getattr(self, name) / self.time_scale
            for name in (
                "poll_interval",
                "max_poll_interval",
                "first_poll_delay",
                "render_min",
                "render_max",
                "ramp",
            )
        }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="N=5,000 at production time, 3 runs per side")
    parser.add_argument("--n", type=int, default=None, help="pollers per run (quick 1000, --full 5000)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=None,
        help="divide every production time by this (quick 2, --full 1); the load per poller grows by it",
    )
    parser.add_argument("--renders", default="60-120", help="render times in production seconds, min-max")
    parser.add_argument(
        "--ramp",
        type=float,
        default=10.0,
        help="production seconds over which the pollers start, evenly (default: %(default)s)",
    )
    parser.add_argument("--repeat", type=int, default=None, help="runs per side (quick 1, --full 3)")
    parser.add_argument(
        "--gc",
        choices=("on", "freeze", "off"),
        default="on",
        help="diagnosis: 'freeze' runs gc.freeze() after the imports, 'off' gc.disable() for the run, "
        "on every side (default: on, as the triggerer runs)",
    )
    args = parser.parse_args()
    low, _, high = args.renders.partition("-")
    scale = Scale(
        n=args.n or (5000 if args.full else 1000),
        render_min=float(low),
        render_max=float(high or low),
        ramp=args.ramp,
        time_scale=args.time_scale or (1.0 if args.full else 2.0),
    )
    return run(scale, max(1, args.repeat or (3 if args.full else 1)), args.gc)


def run(scale: Scale, repeat: int, gc_mode: str = "on") -> int:
    times = scale.scaled()
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="apimart-bench-") as home, StatusServer() as server:
        print(
            f"Status server at {server.base_url}; {os.cpu_count()} CPUs; N={scale.n} pollers per run; "
            f"{repeat} run(s) per side, each in a fresh subprocess, sides taking turns.\n"
            f"Time scale 1/{scale.time_scale:g} of production: poll_interval {times['poll_interval']:g} s, "
            f"max_poll_interval {times['max_poll_interval']:g} s (adaptive), first_poll_delay "
            f"{times['first_poll_delay']:g} s (+ up to {min(2.0, times['first_poll_delay']):g} s jitter), "
            f"renders {times['render_min']:g}-{times['render_max']:g} s that meet their estimate, pollers "
            f"started evenly over {times['ramp']:g} s: {scale.n / times['poll_interval']:.0f} reads/s at a "
            f"fixed interval, as {scale.n * scale.time_scale:.0f} triggers polling every 10 s would make."
            + (f" Diagnosis: --gc {gc_mode}." if gc_mode != "on" else ""),
            flush=True,
        )
        env = airflow_env(Path(home), **server.connection_env())
        for turn in range(repeat):
            order = SIDES[turn % 3 :] + SIDES[: turn % 3]  # a slow spell of the machine hits every side
            for side in order:
                spec: dict[str, Any] = {
                    "side": side,
                    "run": uuid.uuid4().hex[:10],
                    "n": scale.n,
                    "gc": gc_mode,
                    **times,
                }
                figures = run_child(Path(__file__), [json.dumps(spec)], env)
                polls = server.polls(spec["run"])
                figures["polls"] = sum(polls.values())
                figures["polls_per_gen"] = figures["polls"] / max(1, len(polls))
                figures["cpu_ms_per_poll"] = figures["cpu_s"] * 1000 / max(1, figures["polls"])
                figures["gc_share"] = figures["gc_ms"] / 1000 / figures["cpu_s"]
                figures["cpu_ms_per_poll_no_gc"] = figures["cpu_ms_per_poll"] * (1 - figures["gc_share"])
                runs[side].append(figures)
                print(
                    f"  run {turn + 1}, {LABELS[side]:<27}: {figures['polls']} reads, "
                    f"{figures['cpu_ms_per_poll']:.3f} ms CPU/read, lag p99 {figures['lag_p99_ms']:.0f} ms "
                    f"({figures['own_lag_p99_ms']:.0f} ms net of CPU wait), "
                    f"{figures['rss_per_poller_kb']:.1f} KB/poller, garbage collection "
                    f"{figures['gc_share']:.0%} of CPU, "
                    + (f"{figures['log_warnings']} failed reads, " if figures["log_warnings"] else "")
                    + f"{figures['wall_s']:.0f} s; machine load "
                    f"{figures['load']:.1f}, waited for a CPU {figures['cpu_wait_share']:.0%} of the time",
                    flush=True,
                )
    report(scale, times, runs, repeat, time.monotonic() - started)
    return 0


def report(
    scale: Scale, times: dict[str, float], runs: dict[str, list[dict[str, Any]]], repeat: int, wall: float
) -> None:
    def med(side: str, key: str) -> float:
        return median([float(run[key]) for run in runs[side]])

    bare_cpu = med("bare", "cpu_ms_per_poll")
    print()
    print(
        f"{'side':<27} | {'reads/gen':>9} | {'CPU ms/read':>11} | {'ratio':>5} | {'CPU ms/gen':>10} | "
        f"{'lag p99 raw/net ms':>18} | {'KB/poller':>9} | {'objects':>7} | {'GC, full GCs (longest)':>22} | "
        f"{'detect p50/max s':>16} | ended"
    )
    print("-" * 185)
    for side in SIDES:
        ends = ", ".join(f"{count} {status}" for status, count in sorted(runs[side][-1]["statuses"].items()))
        print(
            f"{LABELS[side]:<27} | {med(side, 'polls_per_gen'):>9.2f} | "
            f"{med(side, 'cpu_ms_per_poll'):>11.3f} | {med(side, 'cpu_ms_per_poll') / bare_cpu:>5.2f} | "
            f"{med(side, 'cpu_s') * 1000 / scale.n:>10.2f} | "
            f"{med(side, 'lag_p99_ms'):>8.1f} / {med(side, 'own_lag_p99_ms'):<7.1f} | "
            f"{med(side, 'rss_per_poller_kb'):>9.1f} | {med(side, 'objects_per_poller'):>7.0f} | "
            f"{med(side, 'gc_share'):>7.0%}, {med(side, 'gc_full'):>3.0f} "
            f"({med(side, 'gc_max_ms'):>4.0f} ms) | "
            f"{med(side, 'detect_p50_s'):>6.2f} / {med(side, 'detect_max_s'):<7.2f} | {ends}"
        )
    print()
    runs_word = f"the median of {repeat} runs" if repeat > 1 else "one run (more with --repeat)"
    print(
        f"Each figure is {runs_word} per side. Machine load (1-min average) during the runs: "
        f"{min(run['load'] for side in SIDES for run in runs[side]):.1f} to "
        f"{max(run['load'] for side in SIDES for run in runs[side]):.1f} on {os.cpu_count()} CPUs. "
        f"RSS after imports: {med('adaptive', 'rss_before_kb') / 1024:.0f} MB (both sides import the same)."
    )
    adaptive_cpu = med("adaptive", "cpu_ms_per_poll")
    fixed_ratio = med("fixed", "cpu_ms_per_poll") / bare_cpu
    fixed_ratio_no_gc = med("fixed", "cpu_ms_per_poll_no_gc") / med("bare", "cpu_ms_per_poll_no_gc")
    adaptive_reads, fixed_reads = med("adaptive", "polls_per_gen"), med("fixed", "polls_per_gen")
    paced = paced_fixed_reads(times)
    # A loop that falls behind reads less often than poll_interval: then judge against the pace.
    behind = fixed_reads < 0.95 * paced
    share = adaptive_reads / (paced if behind else fixed_reads)
    lag, own_lag = med("adaptive", "lag_p99_ms"), med("adaptive", "own_lag_p99_ms")
    rss = med("adaptive", "rss_per_poller_kb")
    latest = max(runs["adaptive"], key=lambda run: float(run["detect_max_s"]))
    detect = latest["detect_max_s"]
    bare_detect = max(run["detect_max_s"] for run in runs["bare"])
    limit = times["poll_interval"] + DETECT_ALLOWANCE
    print(
        f"Event-loop lag p99, {scale.n} triggers as shipped (adaptive): {lag:.1f} ms "
        f"(goal < {LAG_GOAL_MS:.0f} ms): {verdict(lag < LAG_GOAL_MS)}; net of waiting for a CPU: "
        f"{own_lag:.1f} ms: "
        f"{verdict(own_lag < LAG_GOAL_MS)}. Bare loop: {med('bare', 'lag_p99_ms'):.1f} / "
        f"{med('bare', 'own_lag_p99_ms'):.1f} ms; fixed-interval trigger: {med('fixed', 'lag_p99_ms'):.1f} / "
        f"{med('fixed', 'own_lag_p99_ms'):.1f} ms."
    )
    print(
        f"  The same once the arrivals are over (from {full_at_of(times):g} s on): adaptive "
        f"{med('adaptive', 'steady_lag_p99_ms'):.1f} ms, bare {med('bare', 'steady_lag_p99_ms'):.1f} ms, "
        f"fixed interval {med('fixed', 'steady_lag_p99_ms'):.1f} ms (raw)."
    )
    print(
        f"RSS per trigger (adaptive): {rss:.1f} KB (goal < {RSS_GOAL_KB:.0f} KB): "
        f"{verdict(rss < RSS_GOAL_KB)}. "
        f"Fixed interval: {med('fixed', 'rss_per_poller_kb'):.1f} KB; bare loop: "
        f"{med('bare', 'rss_per_poller_kb'):.1f} KB."
    )
    print(
        f"CPU per read, trigger at a fixed interval (the same reads as the bare loop) / bare: "
        f"{fixed_ratio:.2f}x (goal <= {CPU_RATIO_GOAL}x): {verdict(fixed_ratio <= CPU_RATIO_GOAL)}. "
        f"Adaptive: {adaptive_cpu / bare_cpu:.2f}x per read (its per-wait costs spread over fewer reads), "
        f"{med('adaptive', 'cpu_s') / med('bare', 'cpu_s'):.2f}x the bare loop's CPU per generation. "
        f"Without garbage collection, fixed interval / bare: {fixed_ratio_no_gc:.2f}x."
    )
    print(
        f"Reads per generation, adaptive / fixed interval: {adaptive_reads:.2f} / "
        + (
            f"{paced:.2f}, the reads of a fixed interval kept to the second (the measured fixed-interval "
            f"side fell behind and made {fixed_reads:.2f})"
            if behind
            else f"{fixed_reads:.2f}"
        )
        + f" = {share:.2f} (goal <= 1/3): {verdict(share <= POLLS_SHARE_GOAL)}."
    )
    print(
        f"Render end to event, adaptive, worst of all runs: {detect:.2f} s (goal <= poll_interval "
        f"{times['poll_interval']:g} s, + {DETECT_ALLOWANCE:g} s for the read itself): "
        f"{verdict(detect <= limit)} (a {latest['detect_max_render_s']:.1f} s render that ended "
        f"{latest['detect_max_ended_s']:.1f} s into its run). Bare loop at a fixed interval: "
        f"{bare_detect:.2f} s."
    )
    failed = [
        f"{LABELS[side]} run {number}"
        for side in SIDES
        for number, run in enumerate(runs[side], 1)
        if run["statuses"].get("success", 0) != scale.n
    ]
    if failed:
        print(f"WARNING: waits that did not end in success in: {'; '.join(failed)}.")
    warned = [run for side in SIDES for run in runs[side] if run["log_warnings"]]
    if warned:
        print(
            f"WARNING: {sum(run['log_warnings'] for run in warned)} reads failed and were tried again "
            f"(warning log lines) in {len(warned)} run(s); the last: {warned[-1]['last_warning'][:400]}"
        )
    print(f"Wall time {wall:.0f} s.")


def paced_fixed_reads(times: dict[str, float]) -> float:
    """Reads per generation of a fixed interval that keeps its pace: the first after the first
    delay and its mean jitter, then one every poll_interval until one sees the render's end."""
    chance = random.Random(0)  # noqa: S311 - render times, not secrets
    first = times["first_poll_delay"] + min(2.0, times["first_poll_delay"]) / 2
    reads = [
        1
        + max(
            0,
            math.ceil(
                (chance.uniform(times["render_min"], times["render_max"]) - first) / times["poll_interval"]
            ),
        )
        for _ in range(20_000)
    ]
    return sum(reads) / len(reads)


def full_at_of(times: dict[str, Any]) -> float:
    """Seconds into a run when every poller has started and its first delay (at a fixed interval,
    also its first read) is over; none has ended yet."""
    return float(times["ramp"] + times["first_poll_delay"] + min(2.0, times["first_poll_delay"]) + 1.0)


# ---------------------------------------------------------------- the child: one side, N pollers


def child(spec_json: str) -> None:
    import asyncio
    import gc

    spec = json.loads(spec_json)
    raise_fd_limit()
    random.seed(spec["run"])
    # Both sides live in a triggerer-like process: Airflow and the provider imported, JSON log
    # lines to a channel. The heap is the same size, so the garbage collector's pauses are too.
    from airflow.sdk.log import configure_logging, reset_logging

    from airflow_provider_apimart.triggers import task as _trigger_module  # noqa: F401

    reset_logging()  # type: ignore[no-untyped-call]
    configure_logging(json_output=True, output=LOG_SINK, sending_to_supervisor=True)
    poller = bare_poller(spec) if spec["side"] == "bare" else trigger_poller(spec)
    figures = asyncio.run(measure(spec, poller))
    gc.collect()
    print(json.dumps(figures))


def cpu_wait() -> float:
    """Seconds this process's main thread has spent ready to run but waiting for a CPU (Linux
    ``/proc/self/schedstat``), so lag that other processes cause can be told from the loop's own."""
    try:
        with open("/proc/self/schedstat") as stats:
            return int(stats.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class LogSink:
    """The triggerer's log channel, minus the socket: counts the JSON lines and drops them."""

    def __init__(self) -> None:
        self.lines = 0
        self.warnings = 0
        self.last_warning = ""

    def write(self, data: bytes) -> int:
        self.lines += 1
        if b'"level":"warning"' in data or b'"level": "warning"' in data:
            self.warnings += 1
            self.last_warning = data[:300].decode(errors="replace")
        return len(data)

    def flush(self) -> None:
        pass


LOG_SINK = LogSink()


def task_id(run: str, index: int, render: float, start: float | None = None) -> str:
    """The id the status server reads a render from: it started now and takes ``render`` s."""
    started = time.time() if start is None else start
    return f"bench_{run}_{index}_{int(started * 1000)}_{int(render * 1000)}"


def bare_poller(spec: dict[str, Any]) -> Any:
    import asyncio

    import httpx

    ssl_context = httpx.create_ssl_context()  # one for all clients, as the provider's

    base_url = json.loads(os.environ["AIRFLOW_CONN_APIMART_DEFAULT"])["host"]
    poll_interval = spec["poll_interval"]
    limits = httpx.Limits(keepalive_expiry=spec["max_poll_interval"] + 60)  # as the trigger's
    headers = {"Authorization": f"Bearer {BENCH_API_KEY}", "Accept": "application/json"}

    async def poll(remote_task_id: str, first_delay: float) -> str:
        async with httpx.AsyncClient(
            base_url=base_url, headers=headers, verify=ssl_context, limits=limits, timeout=30
        ) as client:
            await asyncio.sleep(first_delay)
            while True:
                data = (await client.get(f"/v1/tasks/{remote_task_id}")).raise_for_status().json()["data"]
                if data["status"] in ("completed", "failed", "cancelled"):
                    return "success" if data["status"] == "completed" else str(data["status"])
                await asyncio.sleep(poll_interval)

    return poll


def trigger_poller(spec: dict[str, Any]) -> Any:
    from _status_server import task_data
    from structlog.contextvars import bind_contextvars

    from airflow_provider_apimart.http_basics import shared_ssl_context
    from airflow_provider_apimart.models.responses import TaskStatus
    from airflow_provider_apimart.triggers.task import ApimartTaskTrigger
    from airflow_provider_apimart.waiting.poller import TaskPoller
    from airflow_provider_apimart.waiting.rules import WaitRules

    shared_ssl_context()
    max_poll_interval = spec["poll_interval"] if spec["side"] == "fixed" else spec["max_poll_interval"]

    def operators_plan(remote_task_id: str, first_delay: float) -> float | None:
        """When the operator's read right after the submit says to read next, as it hands it to
        the trigger; that read is the worker's, not the triggerer's, so it is computed from the
        server's own rule (``task_data``), not made. The fixed side reads as the bare loop does."""
        if spec["side"] != "adaptive":
            return None
        now = time.time()
        planner = TaskPoller(
            remote_task_id,
            WaitRules(
                poll_interval=spec["poll_interval"],
                first_poll_delay=first_delay,
                max_poll_interval=max_poll_interval,
            ),
        )
        planner.plan_first_read(
            planner.after_status(TaskStatus.model_validate(task_data(remote_task_id, now)), now), now
        )
        return planner.rules.first_read_at

    async def poll(remote_task_id: str, first_delay: float) -> str:
        # As the triggerer's run_trigger: the trigger's identity bound to its log lines.
        bind_contextvars(trigger_id=remote_task_id, dag_id="bench", task_id="render", try_number=1)
        trigger = ApimartTaskTrigger(
            remote_task_id,
            poll_interval=spec["poll_interval"],
            first_poll_delay=first_delay,
            max_poll_interval=max_poll_interval,
            first_read_at=operators_plan(remote_task_id, first_delay),
        )
        status = "no event"
        async for event in trigger.run():
            status = str(event.payload["status"])
        return status

    return poll


async def measure(spec: dict[str, Any], poll: Any) -> dict[str, Any]:
    import asyncio
    import gc

    loop = asyncio.get_running_loop()
    n, run = spec["n"], spec["run"]
    # Warm what a long-running triggerer has warm: imports done lazily on a first wait, the
    # connection machinery, the first client. Its reads count under another run.
    await poll(task_id(f"warm{run}", 0, 0.0), 0.0)
    gc.collect()
    if spec.get("gc") == "freeze":
        gc.freeze()  # what-if: the import-time heap out of every later collection
    elif spec.get("gc") == "off":
        gc.disable()  # what-if: no collection at all (memory figures then count the garbage)
    await asyncio.sleep(0.5)
    rss_before = rss_kb()
    objects_before = len(gc.get_objects())
    renders = [random.uniform(spec["render_min"], spec["render_max"]) for _ in range(n)]  # noqa: S311
    full_at = full_at_of(spec)
    lags: list[float] = []
    own_lags: list[float] = []
    steady_lags: list[float] = []  # once the arrivals are over
    rss_samples: list[tuple[float, int]] = []
    ends: dict[int, tuple[float, str]] = {}
    done = asyncio.Event()

    objects_full: int | None = None

    async def ticker() -> None:
        nonlocal objects_full
        ticks = 0
        while not done.is_set():
            before, waited = loop.time(), cpu_wait()
            await asyncio.sleep(TICK)
            lags.append(loop.time() - before - TICK)
            own_lags.append(max(0.0, lags[-1] - (cpu_wait() - waited)))
            if before - t0 >= full_at:
                steady_lags.append(lags[-1])
            ticks += 1
            if ticks % 10 == 0:
                rss_samples.append((loop.time() - t0, rss_kb()))
                if objects_full is None and rss_samples[-1][0] >= full_at:
                    objects_full = len(gc.get_objects())

    async def one(index: int, remote_task_id: str) -> None:
        status = await poll(remote_task_id, spec["first_poll_delay"])
        ends[index] = (time.time(), status)

    gc_pauses: list[tuple[int, float]] = []
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:  # CPU time: another process's turn is not ours
        if phase == "start":
            gc_started[0] = time.thread_time()
        else:
            gc_pauses.append((info["generation"], time.thread_time() - gc_started[0]))

    gc.callbacks.append(on_gc)
    load_before = os.getloadavg()[0]
    cpu_before = cpu_seconds()
    t0 = loop.time()
    wall0 = time.time()
    wait0 = cpu_wait()
    ticking = asyncio.create_task(ticker())
    pollers = []
    starts: list[float] = []
    for index in range(n):
        delay = t0 + index * spec["ramp"] / n - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        starts.append(time.time())
        remote_task_id = task_id(run, index, renders[index], starts[-1])
        pollers.append(asyncio.create_task(one(index, remote_task_id)))
    results = await asyncio.gather(*pollers, return_exceptions=True)
    cpu = cpu_seconds() - cpu_before
    wall = time.time() - wall0
    cpu_wait_total = cpu_wait() - wait0
    done.set()
    await ticking
    gc.callbacks.remove(on_gc)

    statuses: dict[str, int] = {}
    for result in results:
        if isinstance(result, BaseException):
            key = f"error {type(result).__name__}: {str(result)[:80]}"
            statuses[key] = statuses.get(key, 0) + 1
    for _, status in ends.values():
        statuses[status] = statuses.get(status, 0) + 1
    # The render of a server task ends at its start (ms) + render (ms), as the id says.
    delays = [ends[i][0] - (int(starts[i] * 1000) + int(renders[i] * 1000)) / 1000 for i in ends]
    latest_delay, latest = max(zip(delays, ends, strict=True))
    # The most the run held at once (a triggerer must have it), over the pollers: whatever a side
    # holds while it waits, its clients and connections included, whenever its pollers hold them.
    rss_peak = max(rss for _, rss in rss_samples)
    return {
        "cpu_s": cpu,
        "wall_s": wall,
        "lag_p50_ms": percentile(lags, 0.5) * 1000,
        "lag_p99_ms": percentile(lags, 0.99) * 1000,
        "lag_max_ms": max(lags) * 1000,
        "own_lag_p50_ms": percentile(own_lags, 0.5) * 1000,
        "own_lag_p99_ms": percentile(own_lags, 0.99) * 1000,
        "steady_lag_p99_ms": percentile(steady_lags, 0.99) * 1000,
        "own_lag_max_ms": max(own_lags) * 1000,
        "cpu_wait_share": cpu_wait_total / wall if wall else 0.0,
        "load": max(load_before, os.getloadavg()[0]),
        "rss_before_kb": rss_before,
        "rss_peak_kb": rss_peak,
        "rss_per_poller_kb": (rss_peak - rss_before) / n,
        "objects_per_poller": ((objects_full or objects_before) - objects_before) / n,
        "detect_p50_s": percentile(delays, 0.5),
        "detect_max_s": latest_delay,
        # Which render was noticed latest: its length, and when it ended (seconds into the run).
        "detect_max_render_s": renders[latest],
        "detect_max_ended_s": starts[latest] + renders[latest] - wall0,
        "statuses": statuses,
        "log_lines": LOG_SINK.lines,
        "log_warnings": LOG_SINK.warnings,
        "last_warning": LOG_SINK.last_warning,
        "gc_ms": sum(pause for _, pause in gc_pauses) * 1000,
        "gc_max_ms": max((pause for _, pause in gc_pauses), default=0.0) * 1000,
        "gc_full": sum(1 for generation, _ in gc_pauses if generation == 2),
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        sys.exit(main())
