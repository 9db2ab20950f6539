"""The spend ledger in SQL: a local SQLite file (one machine) or a PostgreSQL database (every worker).

Both run the same statements; only the lock that makes check-and-reserve one atomic step differs.
SQLite takes the database's write lock at ``BEGIN IMMEDIATE``, so processes on one machine queue
behind each other. PostgreSQL takes a transaction-scoped advisory lock per scope, in a fixed order
(no deadlock), so reservations in different runs never wait for each other. The tables
(``apimart_spend_ledger``, ``apimart_spend_prices``) are created on first use.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Float,
    Index,
    MetaData,
    String,
    Table,
    and_,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    update,
)

from airflow_provider_apimart.exceptions import ApimartSpendStoreError
from airflow_provider_apimart.spend.ledger import (
    EPSILON,
    PENDING_LEASE_SECONDS,
    Admission,
    Limit,
    Usage,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from sqlalchemy.engine import URL, Connection, Engine

METADATA = MetaData()
LEDGER = Table(
    "apimart_spend_ledger",
    METADATA,
    Column("reservation_id", String(200), primary_key=True),
    Column("scope", String(800), primary_key=True),
    Column("amount", Float, nullable=False),
    Column("state", String(16), nullable=False),  # pending, held, settled
    Column("expires_at", Float, nullable=True),  # pending only: when its lease runs out
    Column("updated_at", Float, nullable=False),
    # Every reserve sums its scopes: without this, each sum reads every job ever settled.
    Index("apimart_spend_ledger_scope_state", "scope", "state"),
)
PRICES = Table(
    "apimart_spend_prices",
    METADATA,
    Column("signature", String(800), primary_key=True),
    Column("cost", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
#: Seconds a SQLite writer waits for another one's lock before the task gives up (retryable).
SQLITE_LOCK_TIMEOUT = 30.0


class SqlSpendStore:
    """The ledger in one SQL database, reached through SQLAlchemy."""

    def __init__(self, url: str | URL, description: str) -> None:
        self.description = description
        self._engine = _engine(url)

    def reserve(
        self, reservation_id: str, limits: Sequence[Limit], amount: float, *, now: float
    ) -> Admission:
        scopes = [limit.scope for limit in limits]
        with self._transaction(scopes) as connection:
            existing = connection.execute(
                select(LEDGER.c.state).where(LEDGER.c.reservation_id == reservation_id)
            ).all()
            if existing:
                connection.execute(
                    update(LEDGER)
                    .where(LEDGER.c.reservation_id == reservation_id, LEDGER.c.state == "pending")
                    .values(expires_at=now + PENDING_LEASE_SECONDS, updated_at=now)
                )
                return Admission(True, _usage(connection, scopes, now), already_reserved=True)
            usage = _usage(connection, scopes, now)
            for limit in limits:
                figures = usage[limit.scope]
                if figures.spent + figures.reserved + amount > limit.amount + EPSILON:
                    return Admission(False, usage, refused_by=limit)
            connection.execute(
                insert(LEDGER),
                [
                    {
                        "reservation_id": reservation_id,
                        "scope": scope,
                        "amount": amount,
                        "state": "pending",
                        "expires_at": now + PENDING_LEASE_SECONDS,
                        "updated_at": now,
                    }
                    for scope in scopes
                ],
            )
            return Admission(True, _usage(connection, scopes, now))

    def mark_held(self, reservation_id: str) -> None:
        with self._transaction([]) as connection:
            connection.execute(
                update(LEDGER)
                .where(LEDGER.c.reservation_id == reservation_id, LEDGER.c.state == "pending")
                .values(state="held", expires_at=None, updated_at=time.time())
            )

    def settle(self, reservation_id: str, cost: float | None) -> None:
        """The real ``cost`` replaces the estimate; None (not reported) keeps the estimate."""
        amount = {} if cost is None else {"amount": cost}
        with self._transaction([]) as connection:
            connection.execute(
                update(LEDGER)
                .where(LEDGER.c.reservation_id == reservation_id)
                .values(state="settled", expires_at=None, updated_at=time.time(), **amount)
            )

    def usage(self, scopes: Sequence[str], *, now: float) -> dict[str, Usage]:
        with self._transaction([]) as connection:
            return _usage(connection, scopes, now)

    def learn_price(self, signature: str, cost: float) -> None:
        with self._transaction([f"price {signature}"]) as connection:
            known = connection.execute(select(PRICES.c.cost).where(PRICES.c.signature == signature)).scalar()
            if known is None:
                connection.execute(
                    insert(PRICES).values(signature=signature, cost=cost, updated_at=time.time())
                )
            elif cost > known:
                connection.execute(
                    update(PRICES)
                    .where(PRICES.c.signature == signature)
                    .values(cost=cost, updated_at=time.time())
                )

    def learned_price(self, signature: str) -> float | None:
        with self._transaction([]) as connection:
            value = connection.execute(select(PRICES.c.cost).where(PRICES.c.signature == signature)).scalar()
        return float(value) if value is not None else None

    def forget(self) -> None:
        """Empty both tables (tests and benchmarks)."""
        with self._transaction([]) as connection:
            connection.execute(delete(LEDGER))
            connection.execute(delete(PRICES))

    @contextmanager
    def _transaction(self, scopes: Sequence[str]) -> Iterator[Connection]:
        """One transaction holding the locks of ``scopes``; any failure is ApimartSpendStoreError."""
        try:
            with self._engine.begin() as connection:
                _lock(connection, scopes)
                yield connection
        except Exception as error:
            detail = str(error).strip()
            first_line = detail.splitlines()[0] if detail else type(error).__name__
            raise ApimartSpendStoreError(
                f"The spend store ({self.description}) failed: {first_line}"
            ) from error


def _lock(connection: Connection, names: Sequence[str]) -> None:
    """PostgreSQL: a transaction-scoped advisory lock per name, in sorted order (no deadlocks).
    SQLite needs none: its ``BEGIN IMMEDIATE`` already holds the database's write lock."""
    if connection.dialect.name == "postgresql":
        for name in sorted(set(names)):
            connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name}
            )


def _usage(connection: Connection, scopes: Sequence[str], now: float) -> dict[str, Usage]:
    counting = or_(LEDGER.c.state != "pending", LEDGER.c.expires_at > now)
    settled = LEDGER.c.state == "settled"
    rows = connection.execute(
        select(
            LEDGER.c.scope,
            func.coalesce(func.sum(case((settled, LEDGER.c.amount), else_=0.0)), 0.0),
            func.coalesce(func.sum(case((settled, 0.0), else_=LEDGER.c.amount)), 0.0),
        )
        .where(and_(LEDGER.c.scope.in_(list(scopes)), counting))
        .group_by(LEDGER.c.scope)
    ).all()
    found = {scope: Usage(float(spent), float(reserved)) for scope, spent, reserved in rows}
    return {scope: found.get(scope, Usage()) for scope in scopes}


@cache
def _engine(url: str | URL) -> Engine:
    """One engine per database and process, its tables created once."""
    engine = create_engine(url, pool_pre_ping=True, **_engine_options(url))
    if engine.dialect.name == "sqlite":
        _begin_immediately(engine)
    try:
        with engine.begin() as connection:
            _lock(connection, ["schema"])  # workers meeting a new database at once
            METADATA.create_all(connection, checkfirst=True)
    except Exception as error:
        raise ApimartSpendStoreError(f"The spend store at {engine.url!r} cannot be used: {error}") from error
    return engine


def _engine_options(url: str | URL) -> dict[str, Any]:
    if str(url).startswith("sqlite"):
        return {"connect_args": {"timeout": SQLITE_LOCK_TIMEOUT, "isolation_level": None}}
    return {"pool_size": 2, "max_overflow": 2}


def _begin_immediately(engine: Engine) -> None:
    """SQLite's default BEGIN takes no lock until the first write: two readers could then both
    admit the last of a limit. ``BEGIN IMMEDIATE`` takes the write lock at once (SQLAlchemy's
    documented recipe for pysqlite)."""

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
