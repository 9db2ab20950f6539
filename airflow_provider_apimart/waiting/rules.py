"""The numeric arguments of a wait, checked once where a task is built: finite, and in range.

``nan`` compares false with everything, so an unchecked ``poll_interval=nan`` polled with no delay,
and a ``timeout`` of 0 or less paid for a render and then gave up on it at once. Cheap to import:
a DAG parse builds every task.
"""

from __future__ import annotations

import math
from datetime import timedelta


def checked_number(
    name: str, value: object, *, where: str, minimum: float = 0.0, inclusive: bool = False
) -> float:
    """``value`` as a float, or a ValueError that names the task and the argument: a real, finite
    number above ``minimum`` (or equal to it, with ``inclusive``)."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    bound = f"at least {minimum:g}" if inclusive else f"above {minimum:g}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: {name} must be a number {bound}, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < minimum or (number == minimum and not inclusive):
        raise ValueError(f"{where}: {name} must be a finite number {bound}, got {value!r}")
    return number
