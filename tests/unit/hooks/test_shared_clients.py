"""Hooks that share an async client: one per loop and settings, closed by the last hook to let go."""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING

import httpx
import pytest
import respx

from airflow_provider_apimart.hooks import _shared_clients
from airflow_provider_apimart.hooks.apimart import ApimartHook
from tests.conftest import BASE_URL, connection_env

if TYPE_CHECKING:
    from collections.abc import Iterator

PENDING = {"code": 200, "data": {"id": "task_1", "status": "processing", "progress": 10}}


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        router.get("/v1/tasks/task_1").respond(json=PENDING)
        yield router
    assert _shared_clients.open_count() == 0, "a test left a shared client open"


def sharing(conn_id: str = "apimart_default") -> ApimartHook:
    return ApimartHook(conn_id, keepalive_expiry=120, share_async_client=True)


def test_hooks_share_one_client_until_the_last_lets_go(api: respx.MockRouter) -> None:
    async def scenario() -> None:
        first, second = sharing(), sharing()
        await first.aget_task("task_1")
        await second.aget_task("task_1")
        client = await first.aget_conn()
        assert await second.aget_conn() is client
        await first.aclose()
        still_open = not client.is_closed
        assert still_open  # the second hook still reads through it
        assert (await second.aget_task("task_1")).status == "processing"
        await second.aclose()
        assert client.is_closed
        assert _shared_clients.open_count() == 0

    asyncio.run(scenario())


def test_a_hook_that_does_not_share_keeps_its_own_client(api: respx.MockRouter) -> None:
    async def scenario() -> None:
        async with sharing() as shared, ApimartHook() as own:
            assert await own.aget_conn() is not await shared.aget_conn()
            own_client = await own.aget_conn()
        assert own_client.is_closed

    asyncio.run(scenario())


def test_other_connection_settings_get_another_client(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_OTHER_KEY", connection_env(password="another-key", host=BASE_URL))

    async def scenario() -> None:
        async with sharing() as default, sharing("other_key") as other:
            assert await default.aget_conn() is not await other.aget_conn()
            assert _shared_clients.open_count() == 2

    asyncio.run(scenario())


def test_a_client_left_by_an_ended_loop_is_never_handed_to_another(api: respx.MockRouter) -> None:
    ended = asyncio.new_event_loop()
    ended.close()

    async def scenario() -> None:
        hook = sharing()
        stale = httpx.AsyncClient()
        # As if a loop that ended without closing its hooks had lived at this loop's address.
        group = (id(asyncio.get_running_loop()), (await hook.aget_settings(), 120))
        _shared_clients._groups[group] = [_shared_clients.SharedClient(stale, group, weakref.ref(ended), 1)]
        async with hook:
            assert await hook.aget_conn() is not stale
            assert (await hook.aget_task("task_1")).status == "processing"
        await stale.aclose()

    asyncio.run(scenario())


def test_a_full_client_makes_room_in_a_new_one(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pool per few dozen triggers: httpcore's pool slows down as it grows (encode/httpcore#1035)."""
    monkeypatch.setattr(_shared_clients, "USERS_PER_CLIENT", 2)

    async def scenario() -> None:
        hooks = [sharing() for _ in range(5)]
        clients = [await hook.aget_conn() for hook in hooks]
        assert [clients.index(client) for client in clients] == [0, 0, 2, 2, 4]
        await hooks[0].aclose()
        late = sharing()
        assert await late.aget_conn() is clients[0]  # the room the first hook left
        for hook in [*hooks[1:], late]:
            await hook.aclose()
        assert all(client.is_closed for client in clients)

    asyncio.run(scenario())
