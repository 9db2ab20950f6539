"""Retries inside the hook: bounded, Retry-After honoured, and never a blind second paid POST."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import httpx
import pytest

from airflow_provider_apimart.backoff import MAX_RETRY_AFTER
from airflow_provider_apimart.exceptions import (
    ApimartBadRequestError,
    ApimartConnectionError,
    ApimartRateLimitError,
    ApimartServerError,
    ApimartSubmitOutcomeUnknownError,
)
from airflow_provider_apimart.hooks.apimart import ApimartHook
from tests.conftest import BASE_URL, SECRET_API_KEY, SleepRecorder, connection_env

if TYPE_CHECKING:
    import respx

SUBMITTED = httpx.Response(200, json={"code": 200, "data": [{"status": "submitted", "task_id": "task_1"}]})
PENDING = httpx.Response(200, json={"code": 200, "data": {"id": "task_1", "status": "pending"}})
T2V = {"model": "wan2.7", "prompt": "a cat"}


def test_429_waits_exactly_the_retry_after_then_succeeds(
    api: respx.MockRouter, recorded_sleeps: SleepRecorder
) -> None:
    route = api.get("/v1/tasks/task_1").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), PENDING]
    )
    assert ApimartHook().get_task("task_1").status == "pending"
    assert route.call_count == 2
    assert recorded_sleeps.waits == [7.0]


def test_transient_server_errors_back_off_then_succeed(
    api: respx.MockRouter, recorded_sleeps: SleepRecorder
) -> None:
    route = api.get("/v1/tasks/task_1").mock(side_effect=[httpx.Response(502), httpx.Response(503), PENDING])
    ApimartHook().get_task("task_1")
    assert route.call_count == 3
    # 1 s then 2 s, each plus up to 1 s of jitter: the first failure counts as the first try.
    first, second = recorded_sleeps.waits
    assert 1.0 <= first <= 2.0
    assert 2.0 <= second <= 3.0


def test_network_errors_on_a_read_are_retried(api: respx.MockRouter, recorded_sleeps: SleepRecorder) -> None:
    route = api.get("/v1/tasks/task_1").mock(side_effect=[httpx.ReadTimeout("slow"), PENDING])
    ApimartHook().get_task("task_1")
    assert route.call_count == 2


def test_retries_are_bounded_by_the_connection_setting(
    api: respx.MockRouter, recorded_sleeps: SleepRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_APIMART_DEFAULT",
        connection_env(password=SECRET_API_KEY, host=BASE_URL, extra={"max_retries": 2}),
    )
    route = api.get("/v1/tasks/task_1").respond(500)
    with pytest.raises(ApimartServerError):
        ApimartHook().get_task("task_1")
    assert route.call_count == 3


def test_retry_after_longer_than_the_cap_is_raised_not_waited(
    api: respx.MockRouter, recorded_sleeps: SleepRecorder
) -> None:
    route = api.get("/v1/tasks/task_1").respond(429, headers={"Retry-After": str(int(MAX_RETRY_AFTER) + 1)})
    with pytest.raises(ApimartRateLimitError) as caught:
        ApimartHook().get_task("task_1")
    assert caught.value.retry_after == MAX_RETRY_AFTER + 1
    assert route.call_count == 1
    assert recorded_sleeps.waits == []


def test_client_errors_are_not_retried(api: respx.MockRouter, recorded_sleeps: SleepRecorder) -> None:
    route = api.post("/v1/videos/generations").respond(400, json={"error": {"type": "invalid_request_error"}})
    with pytest.raises(ApimartBadRequestError):
        ApimartHook().submit_video(T2V)
    assert route.call_count == 1


class TestSubmitWithoutIdempotencyKey:
    """A POST with no key is retried only where the API cannot have created (and billed) a job."""

    @pytest.mark.parametrize(
        "failure",
        [httpx.Response(500), httpx.Response(502), httpx.Response(504), httpx.ReadTimeout("no answer")],
        ids=["500", "502", "504", "read timeout"],
    )
    def test_lost_answer_is_not_retried_and_says_a_job_may_exist(
        self, api: respx.MockRouter, recorded_sleeps: SleepRecorder, failure: httpx.Response | Exception
    ) -> None:
        route = api.post("/v1/videos/generations").mock(side_effect=[failure, SUBMITTED])
        with pytest.raises(ApimartSubmitOutcomeUnknownError, match="A job may exist and be billed"):
            ApimartHook().submit_video(T2V)
        assert route.call_count == 1

    def test_refused_connection_is_retried_because_nothing_was_sent(
        self, api: respx.MockRouter, recorded_sleeps: SleepRecorder
    ) -> None:
        route = api.post("/v1/videos/generations").mock(
            side_effect=[httpx.ConnectError("refused"), SUBMITTED]
        )
        assert ApimartHook().submit_video(T2V).task_id == "task_1"
        assert route.call_count == 2

    def test_rate_limit_is_retried_because_the_api_refused_it(
        self, api: respx.MockRouter, recorded_sleeps: SleepRecorder
    ) -> None:
        route = api.post("/v1/videos/generations").mock(
            side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), SUBMITTED]
        )
        ApimartHook().submit_video(T2V)
        assert route.call_count == 2
        assert recorded_sleeps.waits == [2.0]

    def test_unreachable_api_after_retries_is_a_retryable_connection_error(
        self, api: respx.MockRouter, recorded_sleeps: SleepRecorder
    ) -> None:
        route = api.post("/v1/videos/generations").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(ApimartConnectionError) as caught:
            ApimartHook().submit_video(T2V)
        assert not caught.value.request_sent
        assert route.call_count == 4


def test_submit_with_idempotency_key_retries_server_errors_with_the_same_key(
    api: respx.MockRouter, recorded_sleeps: SleepRecorder
) -> None:
    route = api.post("/v1/videos/generations").mock(
        side_effect=[httpx.Response(502), httpx.ReadTimeout("lost"), SUBMITTED]
    )
    ApimartHook().submit_video(T2V, idempotency_key="run-1-task-a")
    assert route.call_count == 3
    keys = {call.request.headers["Idempotency-Key"] for call in route.calls}
    bodies = {call.request.content for call in route.calls}
    assert keys == {"run-1-task-a"}
    assert len(bodies) == 1
    assert json.loads(bodies.pop()) == T2V


def test_async_polls_retry_transient_errors_too(
    api: respx.MockRouter, recorded_sleeps: SleepRecorder
) -> None:
    route = api.get("/v1/tasks/task_1").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.ConnectError("refused"),
            PENDING,
        ]
    )

    async def poll() -> str:
        async with ApimartHook() as hook:
            return (await hook.aget_task("task_1")).status

    assert asyncio.run(poll()) == "pending"
    assert route.call_count == 3
    assert recorded_sleeps.waits[0] == 3.0
