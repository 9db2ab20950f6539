"""Triggers that start together look their connection up once; an edit, a failure or another loop
is never served from an old lookup."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_apimart.exceptions import ApimartConfigurationError
from airflow_provider_apimart.hooks import _shared_lookup
from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.triggers.task import ApimartTaskTrigger
from tests.conftest import connection_env, submit_remote_task

if TYPE_CHECKING:
    from airflow.sdk import Connection

    from airflow_provider_apimart.testing import ApimartSimulator


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every connection lookup the hooks make, each taking 20 ms (the others start meanwhile)."""
    made: list[str] = []
    look_up = ApimartHook.aget_connection

    async def slow_lookup(cls: type[ApimartHook], conn_id: str) -> Connection:
        made.append(conn_id)
        await asyncio.sleep(0.02)
        return await look_up(conn_id)

    monkeypatch.setattr(ApimartHook, "aget_connection", classmethod(slow_lookup))
    return made


def shared_hook(conn_id: str = "apimart_default", **kwargs: Any) -> ApimartHook:
    return ApimartHook(conn_id, share_connection_lookup=True, **kwargs)


def test_hooks_started_together_share_one_lookup(lookups: list[str]) -> None:
    async def start_fifty() -> list[str]:
        settings = await asyncio.gather(*(shared_hook().aget_settings() for _ in range(50)))
        return [item.base_url for item in settings]

    assert asyncio.run(start_fifty()) == ["https://apimart.test"] * 50
    assert lookups == ["apimart_default"]


def test_without_sharing_each_hook_looks_up(lookups: list[str]) -> None:
    async def start_three() -> None:
        await asyncio.gather(*(ApimartHook().aget_settings() for _ in range(3)))

    asyncio.run(start_three())
    assert len(lookups) == 3


def test_different_connections_or_overrides_are_looked_up_apart(
    lookups: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_APIMART_OTHER", connection_env(password="sk-other", host="http://other:1")
    )

    async def start() -> list[tuple[str, float]]:
        hooks = [shared_hook(), shared_hook("apimart_other"), shared_hook(timeout=7)]
        return [(s.base_url, s.timeout) for s in await asyncio.gather(*(h.aget_settings() for h in hooks))]

    assert asyncio.run(start()) == [
        ("https://apimart.test", 30.0),
        ("http://other:1", 30.0),
        ("https://apimart.test", 7.0),
    ]
    assert sorted(lookups) == ["apimart_default", "apimart_default", "apimart_other"]


def test_an_edited_connection_reaches_hooks_started_after_the_window(
    lookups: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def before_and_after_an_edit() -> tuple[str, str]:
        before = await shared_hook().aget_settings()
        monkeypatch.setenv(
            "AIRFLOW_CONN_APIMART_DEFAULT", connection_env(password="sk-new", host="http://new:2")
        )
        monkeypatch.setattr(_shared_lookup, "SHARED_LOOKUP_SECONDS", 0.0)
        after = await shared_hook().aget_settings()
        return before.base_url, after.base_url

    assert asyncio.run(before_and_after_an_edit()) == ("https://apimart.test", "http://new:2")
    assert len(lookups) == 2


def test_a_failed_lookup_is_not_kept(lookups: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_APIMART_DEFAULT")

    async def missing_then_created() -> str:
        failures = await asyncio.gather(
            *(shared_hook().aget_settings() for _ in range(3)), return_exceptions=True
        )
        assert all(isinstance(failure, ApimartConfigurationError) for failure in failures)
        monkeypatch.setenv(
            "AIRFLOW_CONN_APIMART_DEFAULT", connection_env(password="sk-key", host="http://fixed:3")
        )
        return (await shared_hook().aget_settings()).base_url

    assert asyncio.run(missing_then_created()) == "http://fixed:3"
    assert len(lookups) == 2  # one shared by the three that failed, one after the fix


def test_a_cancelled_waiter_does_not_cancel_the_lookup_the_others_wait_for(lookups: list[str]) -> None:
    async def one_cancelled() -> str:
        first = asyncio.ensure_future(shared_hook().aget_settings())
        second = asyncio.ensure_future(shared_hook().aget_settings())
        await asyncio.sleep(0)
        first.cancel()
        return (await second).base_url

    assert asyncio.run(one_cancelled()) == "https://apimart.test"
    assert len(lookups) == 1


def test_another_event_loop_looks_up_again(lookups: list[str]) -> None:
    for _ in range(2):  # as two dag.test() runs, or two tests, in one process
        asyncio.run(shared_hook().aget_settings())
    assert len(lookups) == 2


def test_triggers_started_together_look_their_connection_up_once(
    simulator: ApimartSimulator, lookups: list[str]
) -> None:
    simulator.config.render_seconds = 0
    remote_task_ids = [submit_remote_task(f"a cat {index}") for index in range(20)]

    async def run_all() -> list[str]:
        async def one(remote_task_id: str) -> str:
            trigger = ApimartTaskTrigger(remote_task_id, poll_interval=0.05, first_poll_delay=0)
            (event,) = [event async for event in trigger.run()]
            return str(event.payload["status"])

        return await asyncio.gather(*(one(remote_task_id) for remote_task_id in remote_task_ids))

    assert asyncio.run(run_all()) == ["success"] * 20
    assert lookups == ["apimart_default"]
