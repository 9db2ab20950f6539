"""What the spend limits cost a paid submit, on each spend store, beside a bare round trip to it.

Per paid submit the operator makes six store calls, the *cycle*: ``learned_price(signature)`` and
``reserve(id, [run limit, day limit], estimate, now=...)`` right before the POST, ``mark_held(id)``
once APIMart answered, and ``settle(id, cost)``, ``learn_price(signature, cost)`` and
``usage(scopes, now=...)`` when the render ended. For each backend it prints, side by side in the
same run:

- **bare**: one round trip to the same store: on the local SQLite file, ``BEGIN IMMEDIATE; SELECT 1;
  COMMIT`` through the store's own engine; on PostgreSQL, ``SELECT 1`` through the store's own
  engine; on Redis, ``PING``: the floor of one store call;
- **bare write**: one durable write, the floor of a call that changes the ledger: ``UPDATE`` of a
  one-row table and ``COMMIT`` through the same engine (the commit's fsync is most of it); on
  Redis, ``INCR``;
- **cycle**: the six calls for one job, one client, taking turns with the bare calls (a slow spell
  of the machine hits all three), after a warm-up; median and p95, and each call's median;
- **contended**: K threads doing cycles at once against one run limit (and one day limit), as K
  tasks of one DAG run would: cycles per second, and whether every job was admitted and settled;
- **history**: the cycle again once the ledger holds many earlier jobs (other runs, earlier days,
  and some of today's), as months of use leave it.

The goal: the cycle adds under 10 ms per paid submit (its median) on every backend; a render takes
minutes. PostgreSQL (a throwaway cluster, durable: fsync and synchronous_commit on, as in
production) and Redis (no persistence) are started on 127.0.0.1 and stopped at the end; a backend
whose server is not installed is skipped, with the install hint.

    .venv/bin/python benchmarks/spend_store.py                         # 500 cycles per backend (~1 min)
    .venv/bin/python benchmarks/spend_store.py --cycles 2000 --threads 16 --history 200000
    .venv/bin/python benchmarks/spend_store.py --backends local,redis
"""

from __future__ import annotations

import argparse
import itertools
import os
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # tests.system: its Postgres and Redis

from _common import median, percentile, verdict

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_apimart.spend.ledger import Limit, SpendStore
    from tests.system.processes import Services

GOAL_MS = 10.0
#: What each job is estimated at and really costs (so a settle changes the amount).
ESTIMATE, COST = 0.4, 0.35
BODY = {"model": "wan2.7", "prompt": "A coastal road at sunset", "duration": 5, "resolution": "720p"}
CALLS = ("learned_price", "reserve", "mark_held", "settle", "learn_price", "usage")
#: History: jobs per day and per DAG run of the earlier jobs written before the last figure.
JOBS_PER_DAY, JOBS_PER_RUN = 1000, 20
CONN_ID = "apimart_default"


@dataclass
class Backend:
    name: str
    about: str
    store: SpendStore
    #: The bare calls, what each sends to what it does: the first is the round trip, the second a write.
    floors: dict[str, Callable[[], None]]
    #: Writes earlier, settled jobs straight into the store: (reservation id, scope) pairs.
    prefill: Callable[[list[tuple[str, str]]], None]


@dataclass
class Figures:
    floors: dict[str, list[float]] = field(default_factory=dict)
    floors_cpu: dict[str, list[float]] = field(default_factory=dict)
    cycle: list[float] = field(default_factory=list)
    cycle_cpu: list[float] = field(default_factory=list)
    calls: dict[str, list[float]] = field(default_factory=lambda: {call: [] for call in CALLS})
    contended: list[float] = field(default_factory=list)
    contended_wall: float = 0.0
    contended_refused: int = 0
    contended_check: str = ""
    history: list[float] = field(default_factory=list)
    history_rows: int = 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cycles", type=int, default=500, help="measured cycles, one client (default 500)")
    parser.add_argument("--warmup", type=int, default=50, help="cycles and bare calls first (default 50)")
    parser.add_argument("--threads", type=int, default=8, help="K, the contended threads (default 8)")
    parser.add_argument(
        "--contended", type=int, default=480, help="cycles over the K threads together (default 480)"
    )
    parser.add_argument(
        "--history",
        type=int,
        default=100_000,
        help=f"earlier jobs in the ledger for the last figure, {JOBS_PER_DAY:,} a day (default 100,000)",
    )
    parser.add_argument("--history-cycles", type=int, default=100, help="cycles then (default 100)")
    parser.add_argument("--backends", default="local,postgres,redis", help="which, comma-separated")
    args = parser.parse_args()
    from tests.system.processes import Services

    started = time.monotonic()
    print(
        f"load average: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs; {args.cycles} cycles per backend, "
        f"one client, after {args.warmup} warm-up cycles; then {args.threads} threads, {args.contended} "
        f"cycles; then {args.history:,} earlier jobs in the ledger, {args.history_cycles} cycles",
        flush=True,
    )
    results: dict[str, Figures] = {}
    services = Services()
    with tempfile.TemporaryDirectory(prefix="apimart-bench-spend-") as scratch:
        try:
            for name in args.backends.split(","):
                backend = make_backend(name.strip(), Path(scratch), services)
                if backend is None:
                    continue
                print(f"{backend.name}: {backend.about}", flush=True)
                results[backend.name] = measure(backend, args)
        finally:
            failures = services.stop_all()
            if failures:
                print(f"could not stop: {'; '.join(failures)}")
    report(results, args)
    print(f"\nWall time {time.monotonic() - started:.0f} s.")
    return 0


# ---------------------------------------------------------------- the backends


def make_backend(name: str, scratch: Path, services: Services) -> Backend | None:
    from tests.system.infra import MissingDependencyError

    try:
        if name == "local":
            return local_backend(scratch)
        if name == "postgres":
            return postgres_backend(scratch, services)
        if name == "redis":
            return redis_backend(scratch, services)
    except MissingDependencyError as missing:
        print(f"{name}: skipped. {missing}", flush=True)
        return None
    raise SystemExit(f"unknown backend {name!r} (local, postgres, redis)")


def local_backend(scratch: Path) -> Backend:
    from sqlalchemy import text

    from airflow_provider_apimart.spend.sql_store import SqlSpendStore

    path = scratch / "apimart_spend.sqlite3"
    store = SqlSpendStore(f"sqlite:///{path}", f"local file {path}")
    engine = store._engine
    with engine.connect() as connection:
        journal = connection.execute(text("PRAGMA journal_mode")).scalar()
        synchronous = connection.execute(text("PRAGMA synchronous")).scalar()

    def bare() -> None:
        with engine.begin() as connection:  # the store's engine: BEGIN IMMEDIATE, then COMMIT
            connection.execute(text("SELECT 1"))

    write = sql_write_floor(engine)

    return Backend(
        "local",
        f"SQLite {sqlite3.sqlite_version}, a file in {scratch.parent} "
        f"(journal_mode={journal}, synchronous={synchronous})",
        store,
        {"bare: BEGIN IMMEDIATE; SELECT 1; COMMIT": bare, "bare write: UPDATE 1 row; COMMIT": write},
        lambda rows: sql_prefill(store, rows),
    )


def postgres_backend(scratch: Path, services: Services) -> Backend:
    from sqlalchemy import text

    from airflow_provider_apimart.spend.sql_store import SqlSpendStore
    from tests.system.infra import SPEND_DATABASE, start_postgres

    # Production durability: the system test's cluster turns fsync off, which would hide the disk.
    url = start_postgres(services, scratch, durable=True).url(database=SPEND_DATABASE)
    store = SqlSpendStore(url, "postgres")
    engine = store._engine
    with engine.connect() as connection:
        shown = [
            str(connection.execute(text(f"SHOW {setting}")).scalar())
            for setting in ("server_version", "fsync", "synchronous_commit")
        ]

    def bare() -> None:
        with engine.connect() as connection:  # the store's engine (its pool, its pre-ping)
            connection.execute(text("SELECT 1"))

    write = sql_write_floor(engine)

    return Backend(
        "postgres",
        f"PostgreSQL {shown[0].split()[0]} on {engine.url.host}:{engine.url.port} "
        f"(fsync={shown[1]}, synchronous_commit={shown[2]}; the store's pool: 2 + 2 overflow)",
        store,
        {"bare: SELECT 1": bare, "bare write: UPDATE 1 row; COMMIT": write},
        lambda rows: sql_prefill(store, rows),
    )


def redis_backend(scratch: Path, services: Services) -> Backend:
    import redis

    from airflow_provider_apimart.spend.redis_store import PREFIX, RedisSpendStore
    from tests.system.infra import start_redis

    folder = scratch / "redis"
    folder.mkdir()
    client = redis.Redis.from_url(start_redis(services, folder, folder))
    store = RedisSpendStore(client, "redis")
    version = client.info("server")["redis_version"]
    host = client.connection_pool.connection_kwargs

    def bare() -> None:
        client.ping()

    def write() -> None:
        client.incr("bench-floor")

    def prefill(rows: list[tuple[str, str]]) -> None:
        pipe = client.pipeline(transaction=False)
        for number, (reservation_id, scope) in enumerate(rows, 1):
            pipe.hset(f"{PREFIX}:scope:{scope}", reservation_id, f"settled|{COST!r}|")
            if number % 10_000 == 0:
                pipe.execute()
        pipe.execute()

    return Backend(
        "redis",
        f"Redis {version} on {host['host']}:{host['port']} (no persistence)",
        store,
        {"bare: PING": bare, "bare write: INCR": write},
        prefill,
    )


def sql_write_floor(engine: Any) -> Callable[[], None]:
    """One durable write through ``engine``: a one-row table's row updated, then COMMIT."""
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE bench_floor (n INTEGER NOT NULL)"))
        connection.execute(text("INSERT INTO bench_floor (n) VALUES (0)"))

    def write() -> None:
        with engine.begin() as connection:
            connection.execute(text("UPDATE bench_floor SET n = n + 1"))

    return write


def sql_prefill(store: Any, rows: list[tuple[str, str]]) -> None:
    from sqlalchemy import insert

    from airflow_provider_apimart.spend.sql_store import LEDGER

    now = time.time()
    with store._engine.begin() as connection:
        for start in range(0, len(rows), 10_000):
            connection.execute(
                insert(LEDGER),
                [
                    {
                        "reservation_id": reservation_id,
                        "scope": scope,
                        "amount": COST,
                        "state": "settled",
                        "expires_at": None,
                        "updated_at": now,
                    }
                    for reservation_id, scope in rows[start : start + 10_000]
                ],
            )


# ---------------------------------------------------------------- the measurements


def measure(backend: Backend, args: argparse.Namespace) -> Figures:
    from airflow_provider_apimart.spend.ledger import Limit

    figures = Figures()
    store, today = backend.store, datetime.now(timezone.utc)
    day = Limit(f"day/{CONN_ID}/{today:%Y-%m-%d}", 1e9, "daily_spend_limit")

    def run_limit(run: str, jobs: int) -> Limit:
        """Exactly what ``jobs`` estimates need: a store that counted one twice would refuse one."""
        return Limit(f"run/bench_spend/{run}", jobs * ESTIMATE, f"run_spend_limit of {run}")

    warm = [run_limit("warm_up", args.warmup), day]
    for number in range(args.warmup):
        for floor in backend.floors.values():
            floor()
        one_cycle(store, f"warm-{number}", warm)

    single = [run_limit("single", args.cycles), day]
    figures.floors = {what: [] for what in backend.floors}
    figures.floors_cpu = {what: [] for what in backend.floors}
    turns = [*backend.floors, "cycle"]
    for number in range(args.cycles):
        for turn in turns if number % 2 == 0 else turns[::-1]:
            cpu, wall = time.process_time(), time.perf_counter()
            if turn != "cycle":
                backend.floors[turn]()
                figures.floors[turn].append(time.perf_counter() - wall)
                figures.floors_cpu[turn].append(time.process_time() - cpu)
                continue
            steps = one_cycle(store, f"single-{number}", single)
            figures.cycle.append(time.perf_counter() - wall)
            figures.cycle_cpu.append(time.process_time() - cpu)
            for call, seconds in zip(CALLS, steps, strict=True):
                figures.calls[call].append(seconds)
    print(f"  one client: cycle median {median(figures.cycle) * 1e3:.2f} ms", flush=True)

    contended(backend, figures, [run_limit("contended", args.contended), day], args)
    print(f"  {args.threads} threads: {args.contended / figures.contended_wall:.0f} cycles/s", flush=True)

    # Earlier jobs: JOBS_PER_RUN to a run, JOBS_PER_DAY to a UTC day, the newest day today.
    days = -(-args.history // JOBS_PER_DAY)
    rows: list[tuple[str, str]] = []
    for job in range(args.history):
        date = today - timedelta(days=days - 1 - job // JOBS_PER_DAY)
        rows.append((f"history-{job}", f"run/bench_spend/history_{job // JOBS_PER_RUN}"))
        rows.append((f"history-{job}", f"day/{CONN_ID}/{date:%Y-%m-%d}"))
    backend.prefill(rows)
    figures.history_rows = len(rows)
    later = [run_limit("after_history", args.history_cycles), day]
    for number in range(args.history_cycles):
        wall = time.perf_counter()
        one_cycle(store, f"after-history-{number}", later)
        figures.history.append(time.perf_counter() - wall)
    print(
        f"  after {args.history:,} earlier jobs: cycle median {median(figures.history) * 1e3:.2f} ms",
        flush=True,
    )
    return figures


def one_cycle(store: SpendStore, reservation_id: str, limits: list[Limit]) -> list[float]:
    """The operator's six calls for one paid job; each call's seconds. A refusal is a store's bug here."""
    from airflow_provider_apimart.spend.prices import price_signature

    signature = price_signature(BODY)
    marks = [time.perf_counter()]
    store.learned_price(signature)
    marks.append(time.perf_counter())
    admission = store.reserve(reservation_id, limits, ESTIMATE, now=time.time())
    marks.append(time.perf_counter())
    if not admission.admitted:
        raise RefusedError(f"{reservation_id} refused by {admission.refused_by}: {admission.usage}")
    store.mark_held(reservation_id)
    marks.append(time.perf_counter())
    store.settle(reservation_id, COST)
    marks.append(time.perf_counter())
    store.learn_price(signature, COST)
    marks.append(time.perf_counter())
    store.usage([limit.scope for limit in limits], now=time.time())
    marks.append(time.perf_counter())
    return [after - before for before, after in itertools.pairwise(marks)]


class RefusedError(RuntimeError):
    pass


def contended(backend: Backend, figures: Figures, limits: list[Limit], args: argparse.Namespace) -> None:
    """K threads, cycles at once against the same run and day limits; the wall time of them all."""
    each = [
        args.contended // args.threads + (thread < args.contended % args.threads)
        for thread in range(args.threads)
    ]
    gate = threading.Barrier(args.threads + 1)
    lock = threading.Lock()

    def worker(thread: int) -> None:
        times, refused = [], 0
        gate.wait()
        for number in range(each[thread]):
            wall = time.perf_counter()
            try:
                one_cycle(backend.store, f"contended-{thread}-{number}", limits)
            except RefusedError:
                refused += 1
            times.append(time.perf_counter() - wall)
        with lock:
            figures.contended.extend(times)
            figures.contended_refused += refused

    threads = [threading.Thread(target=worker, args=(thread,)) for thread in range(args.threads)]
    for thread in threads:
        thread.start()
    gate.wait()
    wall = time.perf_counter()
    for thread in threads:
        thread.join()
    figures.contended_wall = time.perf_counter() - wall
    run = backend.store.usage([limits[0].scope], now=time.time())[limits[0].scope]
    admitted = args.contended - figures.contended_refused
    right = abs(run.spent - admitted * COST) < 1e-6 and abs(run.reserved) < 1e-6
    figures.contended_check = (
        f"{run.spent:.2f} spent, {run.reserved:.2f} reserved: {'right' if right else 'WRONG'}"
        f" ({admitted} x {COST})"
    )


# ---------------------------------------------------------------- the report


def report(results: dict[str, Figures], args: argparse.Namespace) -> None:
    if not results:
        print("\nNo backend could be measured.")
        return
    print(f"\nOne client, {args.cycles} cycles taking turns with {args.cycles} of each bare call")
    header = f"  {'backend':<9} | {'what':<38} | {'median ms':>9} | {'p95 ms':>7} | {'CPU ms':>6} | vs bare"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for name, figures in results.items():
        bare = median(next(iter(figures.floors.values())))
        rows = [(what, figures.floors[what], figures.floors_cpu[what]) for what in figures.floors]
        for what, times, cpu in [
            *rows,
            ("cycle: the 6 calls of one paid job", figures.cycle, figures.cycle_cpu),
        ]:
            ratio = median(times) / bare
            print(
                f"  {name:<9} | {what:<38} | {ms(times):9.2f} | {ms(times, 0.95):7.2f} | "
                f"{ms(cpu):6.2f} | {ratio:6.1f}x"
            )
    print("\nEach call of the cycle, median ms")
    print(f"  {'backend':<9} | " + " | ".join(f"{call:>13}" for call in CALLS))
    for name, figures in results.items():
        print(f"  {name:<9} | " + " | ".join(f"{ms(figures.calls[call]):13.2f}" for call in CALLS))

    print(
        f"\nContended: {args.threads} threads, {args.contended} cycles, against one run limit and one "
        "day limit"
    )
    print(
        f"  {'backend':<9} | {'1 client cycles/s':>17} | {f'{args.threads} threads cycles/s':>18} | "
        f"{'median ms':>9} | {'p95 ms':>7} | {'refused':>7} | the run's ledger after"
    )
    for name, figures in results.items():
        alone = len(figures.cycle) / sum(figures.cycle)
        together = len(figures.contended) / figures.contended_wall
        print(
            f"  {name:<9} | {alone:17.0f} | {together:18.0f} | {ms(figures.contended):9.2f} | "
            f"{ms(figures.contended, 0.95):7.2f} | {figures.contended_refused:7d} | {figures.contended_check}"
        )

    print(
        f"\nHistory: {args.history:,} earlier settled jobs ({JOBS_PER_DAY:,} a day, the newest today; "
        f"{JOBS_PER_RUN} a run), then {args.history_cycles} cycles, one client"
    )
    print(f"  {'backend':<9} | {'ledger entries':>14} | {'median ms':>9} | {'p95 ms':>7} | vs empty ledger")
    for name, figures in results.items():
        ratio = median(figures.history) / median(figures.cycle)
        print(
            f"  {name:<9} | {figures.history_rows:14,} | {ms(figures.history):9.2f} | "
            f"{ms(figures.history, 0.95):7.2f} | {ratio:14.1f}x"
        )

    print(
        "\nCPU ms: this process's CPU time per call or cycle, median (SQLite's own work is in it; "
        "the Postgres and Redis servers' is not)."
    )
    for name, figures in results.items():
        cycle, history = ms(figures.cycle), ms(figures.history)
        print(
            f"{name}: the cycle adds {cycle:.2f} ms per paid submit, median "
            f"(p95 {ms(figures.cycle, 0.95):.2f}) (goal < {GOAL_MS:.0f} ms: {verdict(cycle < GOAL_MS)}); "
            f"after {args.history:,} earlier jobs "
            f"{history:.2f} ms ({verdict(history < GOAL_MS)})."
        )
    skipped = [name for name in args.backends.split(",") if name.strip() not in results]
    if skipped:
        print(f"Not measured: {', '.join(skipped)} (see above).")


def ms(seconds: list[float], share: float = 0.5) -> float:
    """The median (or the ``share`` percentile) of ``seconds``, in milliseconds."""
    return (median(seconds) if share == 0.5 else percentile(seconds, share)) * 1e3


if __name__ == "__main__":
    raise SystemExit(main())
