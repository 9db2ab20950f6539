"""One pooled ``httpx.AsyncClient`` per event loop and connection settings, shared by the triggers.

A triggerer holding 5,000 deferred renders would otherwise keep 5,000 clients, each with its own
connection pool and its own keep-alive (TLS) connection to APIMart: about 60 objects and a socket
per trigger, for reads that each take a few milliseconds every 10-60 s. Shared, they keep a few
connections in all (docs/performance.md). A client is built when the first hook asks for it and
closed when the last one lets go, so nothing outlives the renders that use it, and a test's event
loop never inherits another's.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import httpx

#: Idle connections a shared client keeps open. Reads are short and spread out, so a few carry
#: thousands of triggers; more than this are closed once idle instead of held.
SHARED_KEEPALIVE_CONNECTIONS = 100


@dataclass
class _Shared:
    client: httpx.AsyncClient
    users: int
    #: The loop it serves: an id can be reused once a loop is gone, a weak reference cannot.
    loop: weakref.ref[asyncio.AbstractEventLoop]


#: What :func:`acquire` hands out: the id of the running loop, and the caller's key.
Handle = tuple[int, Hashable]

#: The open clients, and how many hooks hold each.
_clients: dict[Handle, _Shared] = {}


def shared_limits(keepalive_expiry: float | None) -> httpx.Limits:
    """No cap on concurrent requests (the pollers pace themselves; a cap would queue reads behind
    a slow answer), a bounded number of idle connections kept for reuse."""
    return httpx.Limits(
        max_connections=None,
        max_keepalive_connections=SHARED_KEEPALIVE_CONNECTIONS,
        keepalive_expiry=keepalive_expiry,
    )


def acquire(key: Hashable, build: Callable[[], httpx.AsyncClient]) -> tuple[Handle, httpx.AsyncClient]:
    """The running loop's client for ``key`` (built now if none is open), and the handle to release."""
    loop = asyncio.get_running_loop()
    handle = (id(loop), key)
    shared = _clients.get(handle)
    if shared is None or shared.client.is_closed or shared.loop() is not loop:
        shared = _clients[handle] = _Shared(build(), 0, weakref.ref(loop))
    shared.users += 1
    return handle, shared.client


async def release(handle: Handle) -> None:
    """Let go of a client from :func:`acquire`; the last user closes it."""
    shared = _clients.get(handle)
    if shared is None:
        return
    shared.users -= 1
    if shared.users <= 0:
        del _clients[handle]
        await shared.client.aclose()


def open_count() -> int:
    """How many shared clients are open (for tests and diagnostics)."""
    return len(_clients)
