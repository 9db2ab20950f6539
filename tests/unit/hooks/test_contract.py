"""The 2026-07-27 contract at the hook: the version header, every answer shape, the idempotency
answers, and APIMart's catalogue (models, schemas)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import httpx
import pytest

from airflow_provider_apimart.exceptions import (
    ApimartIdempotencyIndeterminateError,
    ApimartIdempotencyInProgressError,
    ApimartIdempotencyKeyReusedError,
    ApimartNotFoundError,
)
from airflow_provider_apimart.hooks._retry import IN_PROGRESS_PATIENCE
from airflow_provider_apimart.hooks.apimart import RESPONSE_VERSION, ApimartHook
from airflow_provider_apimart.version_compat import AirflowFailException
from tests.conftest import BASE_URL, connection_env

if TYPE_CHECKING:
    import respx

    from tests.conftest import SleepRecorder

T2V = {"model": "wan2.7", "prompt": "A coastal road at sunset"}
KEY = "airflow-0123456789abcdef"
VERSIONED = {
    "code": 200,
    "request_id": "req_1",
    "data": {"id": "task_1", "object": "generation.task", "status": "queued"},
}
VERSION_HEADERS = {"X-APIMart-Response-Version": RESPONSE_VERSION}


def idempotency_answer(
    status: int, code: str, *, in_message: bool = False, retry_after: str | None = None
) -> httpx.Response:
    error = {"message": code, "type": "idempotency_error"} if in_message else {"message": "x", "code": code}
    headers = {"Retry-After": retry_after} if retry_after else {}
    return httpx.Response(status, json={"error": error}, headers=headers)


# ---------------------------------------------------------------- the request and the answer shapes


def test_every_submit_asks_for_the_response_version_and_repeats_it_unchanged_on_a_retry(
    api: respx.MockRouter, recorded_sleeps: SleepRecorder
) -> None:
    route = api.post("/v1/videos/generations").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=VERSIONED, headers=VERSION_HEADERS)]
    )
    ApimartHook().submit_video(T2V, idempotency_key=KEY)
    first, second = (call.request for call in route.calls)
    for request in (first, second):
        assert request.headers["X-APIMart-Response-Version"] == "2026-07-27"
        assert request.headers["Idempotency-Key"] == KEY
    assert first.content == second.content


def test_the_versioned_answer_gives_the_task_id_request_id_version_and_replay(api: respx.MockRouter) -> None:
    api.post("/v1/videos/generations").respond(
        200, json=VERSIONED, headers={**VERSION_HEADERS, "Idempotency-Replayed": "true"}
    )
    answer = ApimartHook().submit_video(T2V, idempotency_key=KEY)
    assert (answer.task_id, answer.status, answer.request_id) == ("task_1", "queued", "req_1")
    assert (answer.replayed, answer.response_version) == (True, "2026-07-27")
    assert answer.synchronous_result is None


def test_a_legacy_answer_still_reads_and_says_no_version(api: respx.MockRouter) -> None:
    api.post("/v1/videos/generations").respond(
        200, json={"code": 200, "data": [{"status": "submitted", "task_id": "task_old"}]}
    )
    answer = ApimartHook().submit_video(T2V, idempotency_key=KEY)
    assert (answer.task_id, answer.replayed, answer.response_version, answer.request_id) == (
        "task_old",
        False,
        None,
        None,
    )


def test_an_accepted_202_answer_is_a_submit_not_an_error(api: respx.MockRouter) -> None:
    api.post("/v1/videos/generations").respond(
        202, json={"code": 202, "data": {"id": "task_q", "status": "queued"}}
    )
    assert ApimartHook().submit_video(T2V, idempotency_key=KEY).task_id == "task_q"


def test_a_synchronous_result_is_read_as_a_finished_task(api: respx.MockRouter) -> None:
    result = {
        "id": "task_sync",
        "object": "generation.result",
        "status": "completed",
        "cost": 0.4,
        "result": {"videos": [{"url": ["https://cdn.test/v.mp4"], "expires_at": 1_900_000_000}]},
    }
    api.post("/v1/videos/generations").respond(
        200, json={"code": 200, "data": result}, headers=VERSION_HEADERS
    )
    status = ApimartHook().submit_video(T2V, idempotency_key=KEY).synchronous_result
    assert status is not None
    assert (status.id, status.is_terminal, status.video_urls) == (
        "task_sync",
        True,
        ["https://cdn.test/v.mp4"],
    )


# ---------------------------------------------------------------- the idempotency answers


def test_in_progress_waits_as_told_and_sends_the_same_key_and_body_again(
    api: respx.MockRouter, recorded_sleeps: SleepRecorder
) -> None:
    route = api.post("/v1/videos/generations").mock(
        side_effect=[
            idempotency_answer(409, "idempotency_in_progress", retry_after="2"),
            idempotency_answer(409, "idempotency_in_progress"),
            httpx.Response(200, json=VERSIONED, headers={"Idempotency-Replayed": "true"}),
        ]
    )
    assert ApimartHook().submit_video(T2V, idempotency_key=KEY).replayed
    requests = [call.request for call in route.calls]
    assert len(requests) == 3
    assert {request.headers["Idempotency-Key"] for request in requests} == {KEY}
    assert len({request.content for request in requests}) == 1
    assert recorded_sleeps.waits[0] == 2.0  # Retry-After, then a backoff
    assert 1.0 <= recorded_sleeps.waits[1] <= 4.0


def test_in_progress_is_waited_out_even_with_no_retries_configured(
    api: respx.MockRouter, recorded_sleeps: SleepRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_APIMART_DEFAULT", connection_env(password="k", host=BASE_URL, extra={"max_retries": 0})
    )
    route = api.post("/v1/videos/generations").mock(
        side_effect=[idempotency_answer(409, "idempotency_in_progress"), httpx.Response(200, json=VERSIONED)]
    )
    assert ApimartHook().submit_video(T2V, idempotency_key=KEY).task_id == "task_1"
    assert route.call_count == 2


def test_in_progress_for_longer_than_the_patience_is_left_to_an_airflow_retry(
    api: respx.MockRouter, recorded_sleeps: SleepRecorder
) -> None:
    api.post("/v1/videos/generations").mock(
        return_value=idempotency_answer(409, "idempotency_in_progress", retry_after="10")
    )
    with pytest.raises(ApimartIdempotencyInProgressError) as caught:
        ApimartHook().submit_video(T2V, idempotency_key=KEY)
    assert sum(recorded_sleeps.waits) == pytest.approx(IN_PROGRESS_PATIENCE)
    assert not isinstance(caught.value, AirflowFailException)  # a retry sends the same key again


def test_a_reused_key_fails_at_once_naming_the_key(api: respx.MockRouter) -> None:
    route = api.post("/v1/videos/generations").mock(
        return_value=idempotency_answer(409, "idempotency_key_reused")
    )
    with pytest.raises(ApimartIdempotencyKeyReusedError, match=KEY) as caught:
        ApimartHook().submit_video(T2V, idempotency_key=KEY)
    assert isinstance(caught.value, AirflowFailException)
    assert "different body" in str(caught.value)
    assert route.call_count == 1


def test_an_indeterminate_outcome_stops_and_sends_a_person_to_the_console(api: respx.MockRouter) -> None:
    route = api.post("/v1/videos/generations").mock(
        return_value=idempotency_answer(409, "idempotency_result_indeterminate")
    )
    with pytest.raises(ApimartIdempotencyIndeterminateError) as caught:
        ApimartHook().submit_video(T2V, idempotency_key=KEY)
    assert isinstance(caught.value, AirflowFailException)
    assert KEY in str(caught.value)
    assert "Check the APIMart console" in str(caught.value)
    assert route.call_count == 1


def test_unavailable_idempotency_was_not_executed_so_it_is_sent_again(
    api: respx.MockRouter, recorded_sleeps: SleepRecorder
) -> None:
    route = api.post("/v1/videos/generations").mock(
        side_effect=[idempotency_answer(503, "idempotency_unavailable"), httpx.Response(200, json=VERSIONED)]
    )
    assert ApimartHook().submit_video(T2V, idempotency_key=KEY).task_id == "task_1"
    assert route.call_count == 2


def test_a_code_given_in_the_message_is_read_as_well(api: respx.MockRouter) -> None:
    api.post("/v1/videos/generations").mock(
        return_value=idempotency_answer(409, "idempotency_result_indeterminate", in_message=True)
    )
    with pytest.raises(ApimartIdempotencyIndeterminateError):
        ApimartHook().submit_video(T2V, idempotency_key=KEY)


# ---------------------------------------------------------------- the catalogue


def test_list_models_reads_the_ids(api: respx.MockRouter) -> None:
    api.get("/v1/models").respond(
        json={"object": "list", "data": [{"id": "wan2.7"}, {"id": "kling-v3", "x": 1}]}
    )
    assert [model.id for model in ApimartHook().list_models()] == ["wan2.7", "kling-v3"]


@pytest.mark.parametrize("enveloped", [False, True], ids=["bare", "enveloped"])
def test_a_model_schema_is_read_bare_or_enveloped_and_kept_for_a_while(
    api: respx.MockRouter, enveloped: bool
) -> None:
    schema = {"model": "kling-v3", "operation": "video_generation", "input_schema": {"type": "object"}}
    route = api.get("/v1/model-schema").respond(json={"code": 200, "data": schema} if enveloped else schema)
    hook = ApimartHook()
    first = hook.get_model_schema("kling-v3")
    assert hook.get_model_schema("kling-v3") == first
    assert route.call_count == 1  # kept
    hook.get_model_schema("kling-v3", max_age=0)
    assert route.call_count == 2  # read again once older than max_age
    assert dict(route.calls.last.request.url.params) == {"model": "kling-v3", "operation": "video_generation"}
    assert first.sha256 == hashlib.sha256(b'{"type":"object"}').hexdigest()  # canonical JSON


def test_a_model_without_a_schema_is_not_found(api: respx.MockRouter) -> None:
    api.get("/v1/model-schema").respond(
        404, json={"error": {"message": "no such model", "code": "model_not_found"}}
    )
    with pytest.raises(ApimartNotFoundError):
        ApimartHook().get_model_schema("no-such-model")
