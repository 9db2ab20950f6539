"""The money guard: no paid submit when the key's balance is below ``min_balance``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.exceptions import ApimartInsufficientBalanceError

if TYPE_CHECKING:
    from airflow_provider_apimart.hooks.apimart import ApimartHook

#: APIMart reports an unlimited key as ``remain_balance: -1`` (token-balance page).
UNLIMITED_BALANCE = -1


def check_balance(hook: ApimartHook, min_balance: float, *, task_id: str, log: Any) -> None:
    """Read ``GET /v1/balance`` (not billable) and refuse to submit below ``min_balance``.

    An unlimited key passes. A balance the API does not report fails too: the guard was asked for,
    and it cannot vouch for a balance it cannot read.
    """
    balance = hook.get_balance()
    if balance.unlimited_quota or balance.remain_balance == UNLIMITED_BALANCE:
        log.info("APIMart key has an unlimited quota: min_balance %g passes.", min_balance)
        return
    remaining = balance.remain_balance
    if remaining is None:
        raise ApimartInsufficientBalanceError(
            f"Task {task_id!r}: APIMart did not report the key's remaining balance, so min_balance "
            f"{min_balance:g} cannot be checked; no job was submitted."
        )
    if remaining < min_balance:
        raise ApimartInsufficientBalanceError(
            f"Task {task_id!r}: the APIMart balance is {remaining:g}, below min_balance {min_balance:g}; "
            "no job was submitted. Top up the key, then clear the task."
        )
    log.info("APIMart balance %g is at least min_balance %g: submitting.", remaining, min_balance)
