"""One connection lookup for the many triggers a triggerer starts at once.

A fan-out that defers hundreds of tasks, or a triggerer taking over those of one that died,
starts hundreds of triggers within seconds, all on the same connection. Looked up once each, that
is hundreds of calls to Airflow's secrets backends (in a real triggerer, to the API server), about
0.6 ms of the event loop's CPU each here. Hooks made with ``share_connection_lookup=True`` (the
trigger's) reuse a lookup that another made within :data:`SHARED_LOOKUP_SECONDS` on the same event
loop, or wait for the one under way.

An edited connection reaches triggers started more than that after the edit. A running trigger
keeps the settings it started with, as it always has. A lookup that failed (a missing
connection, a malformed extra) is not kept: the next trigger looks again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from airflow_provider_apimart.hooks._settings import ClientSettings

#: How long a lookup serves the triggers that start after it: a burst of starts, not a deployment.
SHARED_LOOKUP_SECONDS = 5.0

#: (conn_id, timeout, max_retries): what the settings are made from, besides the connection.
LookupKey = tuple[str, float | None, int | None]


@dataclass(frozen=True, slots=True)
class _Lookup:
    loop: asyncio.AbstractEventLoop
    started: float
    result: asyncio.Task[ClientSettings]

    def serves(self, loop: asyncio.AbstractEventLoop, now: float) -> bool:
        return self.loop is loop and now - self.started <= SHARED_LOOKUP_SECONDS


_lookups: dict[LookupKey, _Lookup] = {}


async def shared_lookup(
    key: LookupKey, look_up: Callable[[], Coroutine[Any, Any, ClientSettings]]
) -> ClientSettings:
    """The settings from a recent or running lookup of ``key`` on this loop, else from ``look_up()``."""
    loop = asyncio.get_running_loop()
    now = time.monotonic()
    kept = _lookups.get(key)
    if kept is None or not kept.serves(loop, now):
        kept = _Lookup(loop, now, loop.create_task(look_up()))
        _lookups[key] = kept
        kept.result.add_done_callback(lambda task: _forget_failure(key, task))
    # Shielded: a trigger cancelled while it waits does not cancel the lookup the others wait for.
    return await asyncio.shield(kept.result)


def _forget_failure(key: LookupKey, task: asyncio.Task[ClientSettings]) -> None:
    if task.cancelled() or task.exception() is not None:  # exception() also marks it as seen
        kept = _lookups.get(key)
        if kept is not None and kept.result is task:
            del _lookups[key]
