"""Real spend stores for tests: the local SQLite file, a throwaway PostgreSQL and a Redis on 127.0.0.1.

``spend_store`` is parametrized over the three backends; Postgres and Redis start once per test
session (the system test's own helpers) and skip with the install hint when their binaries are
missing. Each test gets an empty ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

BACKENDS = ("local", "postgres", "redis")


@pytest.fixture(scope="session")
def spend_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """URLs of a Postgres and a Redis started for this session (absent ones are left out)."""
    from tests.system.infra import MissingDependencyError, start_postgres, start_redis
    from tests.system.processes import Services

    services, urls = Services(), {}
    logs = tmp_path_factory.mktemp("spend-services")
    try:
        try:
            urls["postgres"] = start_postgres(services, logs).url()
        except MissingDependencyError as missing:
            urls["postgres-missing"] = str(missing)
        try:
            urls["redis"] = start_redis(services, logs, logs)
        except MissingDependencyError as missing:
            urls["redis-missing"] = str(missing)
        yield urls
    finally:
        services.stop_all()


def make_store(backend: str, spend_services: dict[str, str], tmp_path: Path) -> Any:
    """An empty store of ``backend`` (skips when its server is not installed)."""
    if backend == "local":
        from airflow_provider_apimart.spend.sql_store import SqlSpendStore

        return SqlSpendStore(f"sqlite:///{tmp_path / 'spend.sqlite3'}", "local file")
    if backend not in spend_services:
        pytest.skip(spend_services.get(f"{backend}-missing", f"{backend} is not available"))
    if backend == "postgres":
        from airflow_provider_apimart.spend.sql_store import SqlSpendStore

        store = SqlSpendStore(spend_services["postgres"], "postgres")
        store.forget()
        return store
    import redis

    from airflow_provider_apimart.spend.redis_store import RedisSpendStore

    client = redis.Redis.from_url(spend_services["redis"])
    client.flushdb()
    return RedisSpendStore(client, "redis")


@pytest.fixture(params=BACKENDS)
def spend_store(request: pytest.FixtureRequest, spend_services: dict[str, str], tmp_path: Path) -> Any:
    return make_store(request.param, spend_services, tmp_path)
