"""The spend ledger's contract: what every store (the local file, Postgres, Redis) must do atomically.

A reservation is one logical task's job, under the job's Idempotency-Key, in every scope whose
limit applies (its DAG run, the connection's UTC day). It moves through three states:

- ``pending``: reserved right before the paid POST, with a lease (:data:`PENDING_LEASE_SECONDS`).
  A task killed before its POST leaves a pending reservation that stops counting when the lease
  runs out: that is how a crashed task's money is reclaimed.
- ``held``: the POST was answered; it counts at its estimate until the render ends, never lapses.
- ``settled``: the render ended; it counts at the real cost APIMart reported. A failed or
  cancelled render settles at 0 (released).

``reserve`` checks every scope and writes every row in one atomic step: two workers can never
both take the last of a limit. Reserving again under the same id (a retry that POSTs with the same
key, which APIMart answers with the same job) adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

#: How long a reservation counts before its POST is answered (uploads and the POST itself); after
#: it, the reservation of a task killed before submitting stops counting.
PENDING_LEASE_SECONDS = 900.0
#: Amounts within this of a limit are at the limit (float sums of prices such as 0.1 + 0.2).
EPSILON = 1e-9


@dataclass(frozen=True)
class Limit:
    """One limit that applies to a job: its scope (``run/<dag>/<run>``, ``day/<conn>/<date>``)."""

    scope: str
    amount: float
    #: How a person names it: "run_spend_limit of this DAG run".
    label: str


@dataclass(frozen=True)
class Usage:
    """A scope's figures: settled spend, and what running tasks hold reserved."""

    spent: float = 0.0
    reserved: float = 0.0


@dataclass(frozen=True)
class Admission:
    """What ``reserve`` answered: admitted, or the first limit it would cross, with the figures."""

    admitted: bool
    usage: dict[str, Usage]
    refused_by: Limit | None = None
    #: The same id was already reserved: nothing was added.
    already_reserved: bool = False


class SpendStore(Protocol):
    """What every backend does, each step atomic across every worker that shares the store."""

    #: What the logs and docs call it: "local file /path", "postgres conn 'x'", "redis conn 'y'".
    description: str

    def reserve(
        self, reservation_id: str, limits: Sequence[Limit], amount: float, *, now: float
    ) -> Admission: ...

    def mark_held(self, reservation_id: str) -> None: ...

    def settle(self, reservation_id: str, cost: float | None) -> None: ...

    def usage(self, scopes: Sequence[str], *, now: float) -> dict[str, Usage]: ...

    def learn_price(self, signature: str, cost: float) -> None: ...

    def learned_price(self, signature: str) -> float | None: ...
