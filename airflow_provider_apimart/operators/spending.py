"""The operators' side of spend limits: which limits apply, and the three calls around a paid job.

The decisions live in :mod:`airflow_provider_apimart.spend`; this mixin only reads the task's
arguments (over the connection's extras) and hands the guard the job's key and body. With no
limit set, nothing here opens a store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.waiting.rules import checked_number

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator, Context

    from airflow_provider_apimart.hooks.apimart import ApimartHook
    from airflow_provider_apimart.spend.guard import SpendGuard

    _OperatorBase = BaseOperator
else:
    _OperatorBase = object


class SpendLimitedMixin(_OperatorBase):
    """Spend limits for an operator that submits paid jobs."""

    apimart_conn_id: str
    run_spend_limit: float | None
    daily_spend_limit: float | None
    spend_prices: Any
    spend_store_conn_id: str | None

    if TYPE_CHECKING:  # the wait mixin's, which every host also derives from

        def request_summary(self) -> dict[str, Any] | None: ...

    def configure_spend(
        self,
        *,
        run_spend_limit: float | None,
        daily_spend_limit: float | None,
        spend_prices: Any,
        spend_store_conn_id: str | None,
    ) -> None:
        where = f"Task {self.task_id!r}"
        self.run_spend_limit = (
            None
            if run_spend_limit is None
            else checked_number("run_spend_limit", run_spend_limit, where=where, inclusive=True)
        )
        self.daily_spend_limit = (
            None
            if daily_spend_limit is None
            else checked_number("daily_spend_limit", daily_spend_limit, where=where, inclusive=True)
        )
        self.spend_prices = spend_prices
        self.spend_store_conn_id = spend_store_conn_id
        self._spend_guard: SpendGuard | None = None

    def spend_guard(self, context: Context, hook: ApimartHook) -> SpendGuard | None:
        """The guard of this task's limits; None when no limit applies."""
        if self._spend_guard is not None:
            return self._spend_guard
        from airflow_provider_apimart.spend.guard import SpendGuard, SpendLimits, TaskPlace
        from airflow_provider_apimart.spend.prices import PriceTable

        settings = hook.get_settings()
        limits = SpendLimits(
            run=_first(self.run_spend_limit, settings.run_spend_limit),
            daily=_first(self.daily_spend_limit, settings.daily_spend_limit),
            prices=PriceTable.parse(
                _first(self.spend_prices, settings.spend_prices), where=f"Task {self.task_id!r}"
            ),
            store_conn_id=self.spend_store_conn_id or settings.spend_store_conn_id,
        )
        if not limits.active:
            return None
        ti = context["ti"]
        place = TaskPlace(self.task_id, ti.dag_id, ti.run_id, self.apimart_conn_id)
        self._spend_guard = SpendGuard(limits, place, self.log)
        return self._spend_guard

    def settle_spend(
        self,
        context: Context,
        hook: ApimartHook,
        reservation_id: str | None,
        cost: float | None,
        *,
        completed: bool,
    ) -> dict[str, Any]:
        """The render ended: settle its reservation; the XCom's ``spend`` entry (empty: no limit).

        A learned price is kept under this try's request (its model and price-driving parameters,
        which swapping stored images for their upload URLs does not change).
        """
        if reservation_id is None:
            return {}
        guard = self.spend_guard(context, hook)
        if guard is None:
            return {}
        try:
            body = self.request_summary()
            return {"spend": guard.settle(reservation_id, cost, body, completed=completed)}
        except Exception:  # the render's own outcome matters more than its accounting
            self.log.warning("Could not settle the spend of reservation %s.", reservation_id, exc_info=True)
            return {}


def _first(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)
