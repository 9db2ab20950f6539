"""How one wait polls, as one frozen value checked once: :class:`WaitRules`.

The operators and the sensor check their waiting arguments into a ``WaitRules`` when the task is
built (at DAG parse), the trigger rebuilds the same value from its stored kwargs (the same names,
so triggers already in the metadata DB load), and the poller only reads it. ``nan`` compares false
with everything, so an unchecked ``poll_interval=nan`` polled with no delay, and a ``timeout`` of 0
or less paid for a render and then gave up on it at once. Cheap to import: a DAG parse builds every
task.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

from airflow_provider_apimart.waiting.defaults import (
    DEFAULT_FIRST_POLL_DELAY,
    DEFAULT_MAX_FAILING_POLLS,
    DEFAULT_MAX_POLL_INTERVAL,
    DEFAULT_POLL_INTERVAL,
)


@dataclass(frozen=True, slots=True)
class WaitRules:
    """The numbers of one wait; build it with :meth:`checked` unless the values are known good.

    :param poll_interval: seconds between reads near or past the render's estimated end.
    :param first_poll_delay: the fewest seconds before the first read of a loop (plus up to 2 s of
        jitter when there is no ``first_read_at`` to go by).
    :param max_poll_interval: the widest gap between reads while the render is far from its end;
        never below ``poll_interval``.
    :param max_failing_polls: failed reads in a row tolerated before giving up.
    :param end_time: the absolute deadline, unix seconds (it survives a triggerer restart); None: none.
    :param first_read_at: unix seconds by which to read first, as the read before the loop said.
    """

    poll_interval: float = DEFAULT_POLL_INTERVAL
    first_poll_delay: float = DEFAULT_FIRST_POLL_DELAY
    max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL
    max_failing_polls: int = DEFAULT_MAX_FAILING_POLLS
    end_time: float | None = None
    first_read_at: float | None = None

    @classmethod
    def checked(
        cls,
        *,
        where: str,
        poll_interval: Any = DEFAULT_POLL_INTERVAL,
        first_poll_delay: Any = DEFAULT_FIRST_POLL_DELAY,
        max_poll_interval: Any = None,
        max_failing_polls: Any = DEFAULT_MAX_FAILING_POLLS,
        end_time: Any = None,
        first_read_at: Any = None,
    ) -> WaitRules:
        """The rules from arguments as a DAG (or a stored trigger) gives them, or a ValueError that
        names ``where`` and the argument. ``max_poll_interval=None`` is the default widest gap, or
        ``poll_interval`` if that is larger."""
        interval = checked_number("poll_interval", poll_interval, where=where)
        widest = (
            max(DEFAULT_MAX_POLL_INTERVAL, interval)
            if max_poll_interval is None
            else checked_number(
                "max_poll_interval (at least poll_interval)",
                max_poll_interval,
                where=where,
                minimum=interval,
                inclusive=True,
            )
        )
        return cls(
            poll_interval=interval,
            first_poll_delay=checked_number(
                "first_poll_delay", first_poll_delay, where=where, inclusive=True
            ),
            max_poll_interval=widest,
            max_failing_polls=int(
                checked_number("max_failing_polls", max_failing_polls, where=where, inclusive=True)
            ),
            end_time=None if end_time is None else checked_number("end_time", end_time, where=where),
            first_read_at=(
                None if first_read_at is None else checked_number("first_read_at", first_read_at, where=where)
            ),
        )

    def until(self, end_time: float) -> WaitRules:
        """The same rules for a wait that must end by ``end_time`` (unix seconds)."""
        return replace(self, end_time=end_time)

    def reading_first_at(self, first_read_at: float) -> WaitRules:
        """The same rules for a loop whose first read is due at ``first_read_at`` (unix seconds)."""
        return replace(self, first_read_at=first_read_at)

    def to_kwargs(self) -> dict[str, Any]:
        """The rules as the trigger's kwargs: JSON numbers, under the names stored triggers use."""
        return asdict(self)


#: The rules of a wait that states none of its own (tests, the sensor's reschedule pokes).
DEFAULT_RULES = WaitRules()


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
