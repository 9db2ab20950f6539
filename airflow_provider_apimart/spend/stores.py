"""Which spend store a task uses: an Airflow connection to Redis or PostgreSQL, else the local file.

``spend_store_conn_id`` (operator argument, ``default_args``, or the APIMart connection's extra)
names a connection of type ``redis`` or ``postgres``; every worker that reads it shares one ledger.
Unset, the ledger is a SQLite file on this machine (``[apimart] spend_store_path``, default
``$AIRFLOW_HOME/apimart_spend.sqlite3``): right for ``dag.test()``, the LocalExecutor and the demo,
and not shared by workers on other machines.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_provider_apimart.exceptions import ApimartConfigurationError

if TYPE_CHECKING:
    from airflow_provider_apimart.spend.ledger import SpendStore

POSTGRES_TYPES = frozenset({"postgres", "postgresql"})
REDIS_TYPES = frozenset({"redis"})


def local_store_path() -> Path:
    from airflow.configuration import conf

    configured = conf.get("apimart", "spend_store_path", fallback="")
    if configured:
        return Path(configured).expanduser()
    home = os.environ.get("AIRFLOW_HOME") or conf.get("core", "airflow_home", fallback="~/airflow")
    return Path(home).expanduser() / "apimart_spend.sqlite3"


def store_for(conn_id: str | None) -> SpendStore:
    """The ledger for ``conn_id`` (None: the local file), one per process."""
    return _local_store(str(local_store_path())) if conn_id is None else _connection_store(conn_id)


@cache
def _local_store(path: str) -> SpendStore:
    from airflow_provider_apimart.spend.sql_store import SqlSpendStore

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqlSpendStore(f"sqlite:///{path}", f"local file {path}")


@cache
def _connection_store(conn_id: str) -> SpendStore:
    from airflow.sdk import BaseHook

    connection = BaseHook.get_connection(conn_id)
    kind = (connection.conn_type or "").lower()
    if kind in POSTGRES_TYPES:
        from sqlalchemy.engine import URL

        from airflow_provider_apimart.spend.sql_store import SqlSpendStore

        url = URL.create(
            "postgresql+psycopg2",
            username=connection.login or None,
            password=connection.password or None,
            host=connection.host or "127.0.0.1",
            port=connection.port or 5432,
            database=connection.schema or None,
            query={"sslmode": str(connection.extra_dejson["sslmode"])}
            if "sslmode" in connection.extra_dejson
            else {},
        )
        return SqlSpendStore(url, f"postgres connection {conn_id!r}")
    if kind in REDIS_TYPES:
        import redis

        from airflow_provider_apimart.spend.redis_store import RedisSpendStore

        extras = connection.extra_dejson
        client = redis.Redis(
            host=connection.host or "127.0.0.1",
            port=connection.port or 6379,
            db=int(extras.get("db", 0)),
            username=connection.login or None,
            password=connection.password or None,
            ssl=bool(extras.get("ssl", False)),
            socket_timeout=10,
            socket_connect_timeout=10,
        )
        return RedisSpendStore(client, f"redis connection {conn_id!r}")
    raise ApimartConfigurationError(
        f"spend_store_conn_id {conn_id!r} is a {kind or 'untyped'!r} connection; the spend store "
        "takes a 'redis' or 'postgres' connection (or none, for the local file)."
    )
