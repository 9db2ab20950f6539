"""ApimartHook against a mocked APIMart (respx): requests sent, answers read, errors typed."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from airflow_provider_apimart import __version__
from airflow_provider_apimart.exceptions import (
    ApimartAuthenticationError,
    ApimartBadRequestError,
    ApimartConfigurationError,
    ApimartPaymentRequiredError,
    ApimartResponseError,
    ApimartValidationError,
)
from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.models import Wan27Request
from tests.conftest import BASE_URL, SECRET_API_KEY, connection_env

if TYPE_CHECKING:
    from collections.abc import Iterator

    import respx

SUBMITTED = {"code": 200, "data": [{"status": "submitted", "task_id": "task_01J9HA7JPQ9A0Z6JZ3V8M9W6PZ"}]}
T2V = {"model": "wan2.7", "prompt": "A coastal road at sunset"}


@pytest.fixture
def hook() -> Iterator[ApimartHook]:
    with ApimartHook() as apimart_hook:
        yield apimart_hook


def test_every_request_carries_bearer_key_user_agent_and_json_accept(
    api: respx.MockRouter, hook: ApimartHook
) -> None:
    route = api.get("/v1/tasks/task_1").respond(
        json={"code": 200, "data": {"id": "task_1", "status": "pending"}}
    )
    hook.get_task("task_1")
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {SECRET_API_KEY}"
    assert request.headers["User-Agent"] == f"airflow-provider-apimart/{__version__}"
    assert request.headers["Accept"] == "application/json"


def test_submit_posts_exactly_the_validated_body_and_returns_the_task_id(
    api: respx.MockRouter, hook: ApimartHook
) -> None:
    route = api.post("/v1/videos/generations").respond(json=SUBMITTED)
    answer = hook.submit_video({**T2V, "duration": 8})
    assert answer.task_id == "task_01J9HA7JPQ9A0Z6JZ3V8M9W6PZ"
    sent = route.calls.last.request
    assert json.loads(sent.content) == {**T2V, "duration": 8}
    assert sent.headers["Content-Type"] == "application/json"
    assert "Idempotency-Key" not in sent.headers


def test_submit_accepts_a_request_model(api: respx.MockRouter, hook: ApimartHook) -> None:
    route = api.post("/v1/videos/generations").respond(json=SUBMITTED)
    hook.submit_video(Wan27Request.validated({"prompt": "a cat"}))
    assert json.loads(route.calls.last.request.content) == {"model": "wan2.7", "prompt": "a cat"}


def test_submit_reads_the_object_shaped_answer(api: respx.MockRouter, hook: ApimartHook) -> None:
    api.post("/v1/videos/generations").respond(
        json={"code": 200, "data": {"id": "task_obj", "object": "video.generation.task", "status": "pending"}}
    )
    assert hook.submit_video(T2V).task_id == "task_obj"


@pytest.mark.parametrize(
    ("header", "replayed"), [(None, False), ("true", True), ("True ", True), ("false", False)]
)
def test_only_the_replayed_header_marks_a_replay_whatever_the_body_says(
    api: respx.MockRouter, hook: ApimartHook, header: str | None, replayed: bool
) -> None:
    """A replay means no new charge: the body (which the API does not document for it) cannot claim one."""
    api.post("/v1/videos/generations").respond(
        json={**SUBMITTED, "replayed": not replayed},
        headers={"Idempotency-Replayed": header} if header is not None else {},
    )
    assert hook.submit_video(T2V, idempotency_key="k").replayed is replayed


@pytest.mark.parametrize(
    "body",
    [
        {"model": "wan2.6-i2v-flash", "image_urls": []},
        {"model": "wan2.7"},
        {"model": "Omni-Flash-Ext", "prompt": "a", "image_urls": ["https://a/1.jpg", "https://a/2.jpg"]},
        {"model": "kling-v2-6", "prompt": "a", "audio": True},
    ],
    ids=["wan2.6", "wan2.7", "omni", "kling"],
)
def test_invalid_request_fails_before_any_http_call(
    api: respx.MockRouter, hook: ApimartHook, body: dict[str, Any]
) -> None:
    route = api.post("/v1/videos/generations").respond(json=SUBMITTED)
    with pytest.raises(ApimartValidationError):
        hook.submit_video(body)
    assert route.call_count == 0


def test_idempotency_key_is_sent_as_a_header(api: respx.MockRouter, hook: ApimartHook) -> None:
    route = api.post("/v1/videos/generations").respond(json=SUBMITTED)
    hook.submit_video(T2V, idempotency_key="dag.run.task.0-abc123")
    assert route.calls.last.request.headers["Idempotency-Key"] == "dag.run.task.0-abc123"


@pytest.mark.parametrize("key", ["", "has space", "x" * 192, "non-ascii-é"])
def test_malformed_idempotency_key_is_refused_before_sending(
    api: respx.MockRouter, hook: ApimartHook, key: str
) -> None:
    route = api.post("/v1/videos/generations").respond(json=SUBMITTED)
    with pytest.raises(ApimartValidationError, match="idempotency_key"):
        hook.submit_video(T2V, idempotency_key=key)
    assert route.call_count == 0


def test_get_task_quotes_the_id_into_the_path(api: respx.MockRouter, hook: ApimartHook) -> None:
    route = api.get("/v1/tasks/a%2F..%2Fb").respond(
        json={"code": 200, "data": {"id": "a/../b", "status": "pending"}}
    )
    assert hook.get_task("a/../b").id == "a/../b"
    assert route.called


def test_get_task_needs_an_id(hook: ApimartHook) -> None:
    with pytest.raises(ValueError, match="remote_task_id"):
        hook.get_task(" ")


def test_get_task_reads_a_completed_task(api: respx.MockRouter, hook: ApimartHook) -> None:
    api.get("/v1/tasks/task_1").respond(
        json={
            "code": 200,
            "data": {
                "id": "task_1",
                "status": "completed",
                "result": {"videos": [{"url": ["https://cdn/1.mp4"], "expires_at": 1779332760}]},
            },
        }
    )
    status = hook.get_task("task_1")
    assert status.video_urls == ["https://cdn/1.mp4"]
    assert status.is_terminal


def test_async_get_task_uses_one_client_for_many_polls(api: respx.MockRouter) -> None:
    api.get("/v1/tasks/task_1").respond(json={"code": 200, "data": {"id": "task_1", "status": "processing"}})

    async def poll_twice() -> tuple[str, bool]:
        async with ApimartHook() as async_hook:
            first = await async_hook.aget_task("task_1")
            client = await async_hook.aget_conn()
            second = await async_hook.aget_task("task_1")
            same_client = client is await async_hook.aget_conn()
        return first.status + second.status, same_client

    statuses, same_client = asyncio.run(poll_twice())
    assert statuses == "processingprocessing"
    assert same_client
    assert api.calls.call_count == 2


def test_http_200_with_a_failure_code_in_the_body_is_an_error(
    api: respx.MockRouter, hook: ApimartHook
) -> None:
    api.post("/v1/videos/generations").respond(json={"code": 402, "message": "insufficient balance"})
    with pytest.raises(ApimartPaymentRequiredError, match="insufficient balance") as caught:
        hook.submit_video(T2V)
    assert caught.value.http_status == 200
    assert caught.value.error_code == 402


def test_status_answer_of_the_wrong_shape_is_a_response_error(
    api: respx.MockRouter, hook: ApimartHook
) -> None:
    api.get("/v1/tasks/task_1").respond(json={"code": 200, "data": {"status": "pending"}})
    with pytest.raises(ApimartResponseError, match=r"data\.id|id: Field required"):
        hook.get_task("task_1")


def test_non_json_success_is_a_response_error(api: respx.MockRouter, hook: ApimartHook) -> None:
    api.get("/v1/tasks/task_1").respond(text="<html>maintenance</html>")
    with pytest.raises(ApimartResponseError, match="not JSON"):
        hook.get_task("task_1")


def test_balance_reads_the_flat_answer(api: respx.MockRouter, hook: ApimartHook) -> None:
    api.get("/v1/balance").respond(
        json={"success": True, "remain_balance": 12.5, "used_balance": 3.0, "unlimited_quota": False}
    )
    balance = hook.get_balance()
    assert (balance.remain_balance, balance.used_balance) == (12.5, 3.0)


def test_balance_success_false_is_an_authentication_error(api: respx.MockRouter, hook: ApimartHook) -> None:
    api.get("/v1/balance").respond(json={"success": False, "message": "token not found"})
    with pytest.raises(ApimartAuthenticationError, match="token not found"):
        hook.get_balance()


class TestTestConnection:
    def test_good_key_reports_the_balance(self, api: respx.MockRouter) -> None:
        api.get("/v1/balance").respond(json={"success": True, "remain_balance": 7, "unlimited_quota": False})
        assert ApimartHook().test_connection() == (
            True,
            f"Connected to APIMart at {BASE_URL}; remaining balance: 7.",
        )

    def test_bad_key_is_named_as_such(self, api: respx.MockRouter) -> None:
        api.get("/v1/balance").respond(
            401, json={"error": {"message": "Invalid token", "type": "authentication_error"}}
        )
        ok, message = ApimartHook().test_connection()
        assert not ok
        assert message == "APIMart rejected the API key (HTTP 401): Invalid token"

    def test_unreachable_host_is_named_as_such_after_one_attempt(self, api: respx.MockRouter) -> None:
        route = api.get("/v1/balance").mock(side_effect=httpx.ConnectError("Connection refused"))
        ok, message = ApimartHook().test_connection()
        assert not ok
        assert message.startswith(f"Could not connect to APIMart at {BASE_URL}")
        assert route.call_count == 1

    def test_missing_key_is_explained(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AIRFLOW_CONN_APIMART_DEFAULT", connection_env(host=BASE_URL))
        ok, message = ApimartHook().test_connection()
        assert not ok
        assert "has no API key" in message


def test_missing_key_fails_the_task_without_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_APIMART_DEFAULT", connection_env())
    with pytest.raises(ApimartConfigurationError, match="password field"):
        ApimartHook().get_task("task_1")


def test_bad_request_carries_status_type_and_message(api: respx.MockRouter, hook: ApimartHook) -> None:
    api.post("/v1/videos/generations").respond(
        400, json={"error": {"message": "duration must be 4/6/8/10", "type": "invalid_duration"}}
    )
    with pytest.raises(ApimartBadRequestError) as caught:
        hook.submit_video(T2V)
    assert str(caught.value) == (
        "APIMart answered HTTP 400 invalid_duration on POST /v1/videos/generations: duration must be 4/6/8/10"
    )
