"""Each spend store, real and shared: many threads and processes never reserve past a limit.

The local SQLite file, PostgreSQL and Redis (tests/spend_stores.py) run the same checks: what the
docs' "Spend limits" page promises of every backend.
"""

from __future__ import annotations

import multiprocessing
import threading
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_apimart.spend.ledger import PENDING_LEASE_SECONDS, Limit
from tests.spend_stores import make_store

if TYPE_CHECKING:
    from pathlib import Path

NOW = 1_800_000_000.0
RUN = Limit("run/dag/run_1", 10.0, "run_spend_limit of DAG run 'run_1'")
DAY = Limit("day/apimart_default/2027-01-15", 100.0, "daily_spend_limit")
PROCESSES, THREADS, EACH = 4, 6, 3


def _reserve_many(backend: str, services: dict[str, str], path: str, worker: int) -> int:
    """In another process: THREADS threads reserve EACH jobs of 0.4 each; how many were admitted."""
    from pathlib import Path

    store = _store_in_child(backend, services, Path(path))
    admitted = []

    def one_thread(thread: int) -> None:
        for job in range(EACH):
            answer = store.reserve(f"w{worker}-t{thread}-j{job}", [RUN, DAY], 0.4, now=NOW)
            admitted.append(answer.admitted)

    threads = [threading.Thread(target=one_thread, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(admitted)


def _store_in_child(backend: str, services: dict[str, str], path: Path) -> Any:
    if backend == "local":
        from airflow_provider_apimart.spend.sql_store import SqlSpendStore

        return SqlSpendStore(f"sqlite:///{path / 'spend.sqlite3'}", "local file")
    if backend == "postgres":
        from airflow_provider_apimart.spend.sql_store import SqlSpendStore

        return SqlSpendStore(services["postgres"], "postgres")
    import redis

    from airflow_provider_apimart.spend.redis_store import RedisSpendStore

    return RedisSpendStore(redis.Redis.from_url(services["redis"]), "redis")


@pytest.mark.parametrize("backend", ["local", "postgres", "redis"])
def test_processes_and_threads_reserving_at_once_never_cross_the_limit(
    backend: str, spend_services: dict[str, str], tmp_path: Path
) -> None:
    store = make_store(backend, spend_services, tmp_path)
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        admitted = pool.starmap(
            _reserve_many, [(backend, spend_services, str(tmp_path), worker) for worker in range(PROCESSES)]
        )
    assert PROCESSES * THREADS * EACH == 72  # 28.80 asked of a 10.00 limit
    assert sum(admitted) == 25  # exactly what fits: 25 x 0.40 = 10.00
    usage = store.usage([RUN.scope, DAY.scope], now=NOW)
    assert usage[RUN.scope].reserved == pytest.approx(10.0)
    assert usage[DAY.scope].reserved == pytest.approx(10.0)


def test_a_refusal_names_the_limit_it_would_cross_and_writes_nothing(spend_store: Any) -> None:
    assert spend_store.reserve("a", [RUN, DAY], 9.0, now=NOW).admitted
    refused = spend_store.reserve("b", [DAY, RUN], 1.5, now=NOW)
    assert (refused.admitted, refused.refused_by) == (False, RUN)
    assert refused.usage[RUN.scope].reserved == pytest.approx(9.0)
    assert spend_store.usage([DAY.scope], now=NOW)[DAY.scope].reserved == pytest.approx(9.0)


def test_the_same_reservation_twice_adds_nothing(spend_store: Any) -> None:
    """A retry POSTs the same Idempotency-Key (APIMart answers with the same job): one reservation."""
    assert spend_store.reserve("key-1", [RUN], 6.0, now=NOW).admitted
    again = spend_store.reserve("key-1", [RUN], 6.0, now=NOW + 5)
    assert again.admitted
    assert again.already_reserved
    assert spend_store.usage([RUN.scope], now=NOW)[RUN.scope].reserved == pytest.approx(6.0)


def test_a_render_settles_on_its_real_cost_and_a_failure_releases_it(spend_store: Any) -> None:
    for name in ("done", "failed", "unpriced"):
        assert spend_store.reserve(name, [RUN], 2.0, now=NOW).admitted
        spend_store.mark_held(name)
    spend_store.settle("done", 1.25)
    spend_store.settle("failed", 0.0)
    spend_store.settle("unpriced", None)  # APIMart reported no cost: the estimate stands
    usage = spend_store.usage([RUN.scope], now=NOW)[RUN.scope]
    assert (usage.spent, usage.reserved) == (pytest.approx(3.25), 0.0)


def test_a_task_killed_before_its_post_stops_counting_when_its_lease_ends(spend_store: Any) -> None:
    assert spend_store.reserve("killed", [RUN], 4.0, now=NOW).admitted
    assert spend_store.reserve("submitted", [RUN], 4.0, now=NOW).admitted
    spend_store.mark_held("submitted")
    later = NOW + PENDING_LEASE_SECONDS + 1
    assert spend_store.usage([RUN.scope], now=later)[RUN.scope].reserved == pytest.approx(4.0)
    assert spend_store.reserve("next", [RUN], 6.0, now=later).admitted


def test_a_learned_price_is_the_highest_one_billed(spend_store: Any) -> None:
    assert spend_store.learned_price("sig") is None
    for cost in (0.4, 0.9, 0.5):
        spend_store.learn_price("sig", cost)
    assert spend_store.learned_price("sig") == pytest.approx(0.9)


def test_a_job_whose_lease_lapsed_still_counts_once_it_is_held_or_settled(spend_store: Any) -> None:
    """Killed after APIMart answered the POST but before the hold: the retry's settle still counts."""
    later = NOW + PENDING_LEASE_SECONDS + 1
    for name in ("settled late", "held late"):
        assert spend_store.reserve(name, [RUN], 2.0, now=NOW).admitted
    assert spend_store.reserve("another", [RUN], 1.0, now=later).admitted  # sums past both leases
    spend_store.settle("settled late", 1.5)
    spend_store.mark_held("held late")
    usage = spend_store.usage([RUN.scope], now=later)[RUN.scope]
    assert (usage.spent, usage.reserved) == (pytest.approx(1.5), pytest.approx(3.0))


def test_a_store_that_fails_on_a_read_says_so_in_its_own_error(tmp_path: Path) -> None:
    """Before a submit the guard reads a learned price: a broken store is a typed, retryable error."""
    import sqlite3

    from airflow_provider_apimart.exceptions import ApimartSpendStoreError
    from airflow_provider_apimart.spend.sql_store import SqlSpendStore

    path = tmp_path / "spend.sqlite3"
    store = SqlSpendStore(f"sqlite:///{path}", "local file")
    with sqlite3.connect(path) as database:
        database.execute("DROP TABLE apimart_spend_prices")
    with pytest.raises(
        ApimartSpendStoreError, match=r"The spend store \(local file\) failed: .*no such table"
    ):
        store.learned_price("sig")
    with pytest.raises(ApimartSpendStoreError, match="no such table"):
        store.learn_price("sig", 0.4)
