"""Pooled ``httpx.AsyncClient``s shared by the triggers of one event loop, a few dozen per client.

A triggerer holding 5,000 deferred renders would otherwise keep 5,000 clients, each with its own
connection pool and keep-alive (TLS) connection to APIMart: about 50 objects and a socket per
trigger, for reads that each take milliseconds every 10-60 s. One client for all of them is no
better: httpcore's pool walks all its connections and waiting requests on every request, so a
pool that grows to the hundreds of connections a slow spell of the API calls for costs
milliseconds per read (encode/httpcore#1035). A client per :data:`USERS_PER_CLIENT` triggers keeps
each pool at a connection or two, and the objects and sockets to a few per cent
(docs/performance.md). A client is built when a hook needs one and none has room, and closed when
its last hook lets go: nothing outlives the renders that use it, and an event loop never gets a
client of another.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

#: Hooks (triggers) per shared client. At a read every 10 s and 200 ms per answer, 50 triggers keep
#: one connection busy a share of the time: the pool stays at one or two connections.
USERS_PER_CLIENT = 50
#: Idle connections a shared client keeps (each ``keepalive_expiry`` seconds at most).
KEEPALIVE_CONNECTIONS = 4


@dataclass(eq=False)
class SharedClient:
    """A client, who may use it (one loop, one set of settings), and how many hooks hold it."""

    client: httpx.AsyncClient
    group: tuple[int, Hashable]
    #: The loop it serves: an id can be reused once a loop is gone, a weak reference cannot.
    loop: weakref.ref[asyncio.AbstractEventLoop]
    users: int = field(default=0)


#: (id of the loop, the caller's key) -> the open clients for them.
_groups: dict[tuple[int, Hashable], list[SharedClient]] = {}


def shared_limits(keepalive_expiry: float | None) -> httpx.Limits:
    """No cap on concurrent requests (the pollers pace themselves; a cap would queue reads behind
    a slow answer), and at most :data:`KEEPALIVE_CONNECTIONS` kept open for the next reads: a burst
    of reads opens more, which close once idle instead of staying to slow the pool down."""
    return httpx.Limits(
        max_connections=None,
        max_keepalive_connections=KEEPALIVE_CONNECTIONS,
        keepalive_expiry=keepalive_expiry,
    )


def acquire(key: Hashable, build: Callable[[], httpx.AsyncClient]) -> SharedClient:
    """A client of the running loop for ``key`` with room for one more hook (built if none has)."""
    loop = asyncio.get_running_loop()
    group = (id(loop), key)
    usable = [
        shared for shared in _groups.get(group, ()) if shared.loop() is loop and not shared.client.is_closed
    ]
    chosen = next((shared for shared in usable if shared.users < USERS_PER_CLIENT), None)
    if chosen is None:
        chosen = SharedClient(build(), group, weakref.ref(loop))
        usable.append(chosen)
    _groups[group] = usable
    chosen.users += 1
    return chosen


async def release(shared: SharedClient) -> None:
    """Let go of a client from :func:`acquire`; its last user closes it."""
    shared.users -= 1
    if shared.users > 0:
        return
    group = _groups.get(shared.group, [])
    if shared in group:
        group.remove(shared)
    if not group:
        _groups.pop(shared.group, None)
    await shared.client.aclose()


def open_count() -> int:
    """How many shared clients are open (for tests and diagnostics)."""
    return sum(len(group) for group in _groups.values())
