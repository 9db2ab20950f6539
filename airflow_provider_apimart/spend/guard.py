"""The spend limits of one task: reserve before its paid POST, hold it after, settle when it ends.

The operator calls :meth:`SpendGuard.reserve` right before each real POST (never for a reattach),
:meth:`SpendGuard.submitted` once APIMart answered, and :meth:`SpendGuard.settle` when the render
ended. A reservation is kept under the job's Idempotency-Key: a retry that POSTs the same key (and
is answered with the same job) reserves nothing more.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.exceptions import ApimartPriceUnknownError, ApimartSpendLimitError
from airflow_provider_apimart.spend.ledger import Limit
from airflow_provider_apimart.spend.prices import PriceTable, estimate, price_signature

if TYPE_CHECKING:
    from airflow_provider_apimart.spend.ledger import SpendStore, Usage


@dataclass(frozen=True)
class SpendLimits:
    """The limits a task states (its own arguments over the connection's extras)."""

    run: float | None = None
    daily: float | None = None
    prices: PriceTable = field(default_factory=lambda: PriceTable({}))
    store_conn_id: str | None = None

    @property
    def active(self) -> bool:
        return self.run is not None or self.daily is not None


@dataclass(frozen=True)
class TaskPlace:
    """Where the job belongs: the scopes its limits count in."""

    task_id: str
    dag_id: str
    run_id: str
    conn_id: str


class SpendGuard:
    """One task's limits against one shared store."""

    def __init__(
        self, limits: SpendLimits, place: TaskPlace, log: Any, store: SpendStore | None = None
    ) -> None:
        from airflow_provider_apimart.spend.stores import store_for

        self.limits, self.place, self.log = limits, place, log
        self.store = store if store is not None else store_for(limits.store_conn_id)
        self.estimate: float | None = None
        self.estimate_source: str | None = None

    def scope_limits(self, now: float) -> list[Limit]:
        place, day = self.place, datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d")
        limits = []
        if self.limits.run is not None:
            limits.append(
                Limit(
                    f"run/{place.dag_id}/{place.run_id}",
                    self.limits.run,
                    f"run_spend_limit of DAG run {place.run_id!r}",
                )
            )
        if self.limits.daily is not None:
            limits.append(
                Limit(
                    f"day/{place.conn_id}/{day}",
                    self.limits.daily,
                    f"daily_spend_limit of connection {place.conn_id!r} on {day} (UTC)",
                )
            )
        return limits

    def reserve(self, reservation_id: str, body: dict[str, Any]) -> bool:
        """Reserve this job's estimate in every scope, or refuse it (nothing is sent then).

        True when this call made the reservation; False when the same key already had one.
        """
        now = time.time()
        limits = self.scope_limits(now)
        guessed = estimate(body, self.limits.prices, self.store.learned_price(price_signature(body)))
        if guessed is None:
            raise ApimartPriceUnknownError(
                f"Task {self.place.task_id!r}: the {limits[0].label} applies, but no price is known for a "
                f"{body.get('model')} job ({_price_parameters(body)}); nothing was submitted. Give one in "
                f"spend_prices (operator argument, default_args or the connection's extra), e.g. "
                f"spend_prices={{{str(body.get('model'))!r}: 0.4}}."
            )
        self.estimate, self.estimate_source = guessed.amount, guessed.source
        admission = self.store.reserve(reservation_id, limits, guessed.amount, now=now)
        if not admission.admitted and admission.refused_by is not None:
            limit = admission.refused_by
            figures = admission.usage[limit.scope]
            raise ApimartSpendLimitError(
                f"Task {self.place.task_id!r}: the {limit.label} is {limit.amount:.2f}; {figures.spent:.2f} "
                f"spent, {figures.reserved:.2f} reserved by running tasks, and this job's estimate "
                f"{guessed.amount:.2f} ({guessed.source}) would cross it; nothing was submitted."
            )
        word = "Kept the reservation of" if admission.already_reserved else "Reserved"
        self.log.info(
            "%s %.2f for this %s job (%s) in %s. %s",
            word,
            guessed.amount,
            body.get("model"),
            guessed.source,
            self.store.description,
            self.figures_line(admission.usage, limits),
        )
        return not admission.already_reserved

    def release(self, reservation_id: str) -> None:
        """No job came of the reservation (the POST was refused outright)."""
        self.store.settle(reservation_id, 0.0)

    def submitted(self, reservation_id: str) -> None:
        """APIMart answered the POST: the reservation is held until the render ends."""
        self.store.mark_held(reservation_id)

    def settle(
        self, reservation_id: str, cost: float | None, body: dict[str, Any] | None, *, completed: bool
    ) -> dict[str, Any]:
        """The render ended: its real cost replaces the estimate (a failure releases it, a cost it
        did not report keeps the estimate). Returns the ``spend`` entry of the XCom."""
        if completed:
            self.store.settle(reservation_id, cost)
            if cost is not None and body is not None:
                self.store.learn_price(price_signature(body), cost)
        else:
            self.store.settle(reservation_id, cost or 0.0)
        return self.report("settled")

    def report(self, state: str) -> dict[str, Any]:
        """The ``spend`` entry of the XCom, and the log line with the same figures."""
        now = time.time()
        limits = self.scope_limits(now)
        usage = self.store.usage([limit.scope for limit in limits], now=now)
        self.log.info("APIMart spend: %s", self.figures_line(usage, limits))
        return {
            "state": state,
            "estimate": self.estimate,
            "estimate_source": self.estimate_source,
            "store": self.store.description,
            "limits": [
                {
                    "scope": limit.scope.split("/", 1)[0],
                    "name": limit.label,
                    "limit": limit.amount,
                    "spent": round(usage[limit.scope].spent, 6),
                    "reserved": round(usage[limit.scope].reserved, 6),
                }
                for limit in limits
            ],
        }

    @staticmethod
    def figures_line(usage: dict[str, Usage], limits: list[Limit]) -> str:
        """ "3.20 of 20.00 spent in this run, 1.60 reserved; 9.10 of 100.00 spent today, 0.40 reserved"."""
        words = {"run": "in this run", "day": "today"}
        parts = []
        for limit in limits:
            figures, where = usage[limit.scope], words[limit.scope.split("/", 1)[0]]
            parts.append(
                f"{figures.spent:.2f} of {limit.amount:.2f} spent {where}, {figures.reserved:.2f} reserved"
            )
        return "; ".join(parts)


def _price_parameters(body: dict[str, Any]) -> str:
    from airflow_provider_apimart.spend.prices import PRICE_PARAMETERS

    shown = [f"{name}={body[name]!r}" for name in PRICE_PARAMETERS if body.get(name) is not None]
    return ", ".join(shown) or "no price-driving parameters"
