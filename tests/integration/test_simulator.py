"""ApimartHook against the simulator over real loopback HTTP: every documented scenario."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from airflow_provider_apimart.exceptions import (
    ApimartAuthenticationError,
    ApimartBadRequestError,
    ApimartNotFoundError,
    ApimartPaymentRequiredError,
    ApimartRejectedError,
    ApimartSubmitOutcomeUnknownError,
)
from airflow_provider_apimart.hooks._answers import Call, error_from_response
from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.models import SubmitResponse, TaskState, TaskStatus
from airflow_provider_apimart.redaction import Redactor
from airflow_provider_apimart.testing import ApimartSimulator, Fault, Outcome
from tests.conftest import SleepRecorder, connection_env

T2V: dict[str, Any] = {"model": "wan2.7", "prompt": "A coastal road at sunset"}
POLL_INTERVAL = 0.05


def wait_until_finished(hook: ApimartHook, remote_task_id: str, *, timeout: float = 10) -> TaskStatus:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        status = hook.get_task(remote_task_id)
        if not seen or seen[-1] != status.status:
            seen.append(status.status)
        if status.is_terminal:
            return status
        time.sleep(POLL_INTERVAL)
    raise AssertionError(f"task {remote_task_id} still not finished after {timeout} s: {seen}")


@pytest.fixture
def fast(apimart_simulator: ApimartSimulator) -> ApimartSimulator:
    apimart_simulator.config.render_seconds = 0.4
    return apimart_simulator


def test_submit_poll_to_completion_and_download_the_video(fast: ApimartSimulator) -> None:
    with ApimartHook() as hook:
        remote_task_id = hook.submit_video(T2V).task_id
        statuses = []
        while not (status := hook.get_task(remote_task_id)).is_terminal:
            statuses.append(status.state)
            time.sleep(POLL_INTERVAL)
    assert statuses[0] in {TaskState.SUBMITTED, TaskState.PENDING}
    assert TaskState.PROCESSING in statuses
    assert status.state is TaskState.COMPLETED
    assert status.progress == 100
    assert status.cost == 0.4
    assert status.expires_at is not None
    assert status.expires_at > time.time() + 86_000
    (video_url,) = status.video_urls
    video = httpx.get(video_url)
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"  # an ISO base media (MP4) file
    assert fast.state.paid_count() == 1


def test_progress_rises_while_processing(fast: ApimartSimulator) -> None:
    fast.config.render_seconds = 1.0
    with ApimartHook() as hook:
        remote_task_id = hook.submit_video(T2V).task_id
        progress: list[float] = []
        while not (status := hook.get_task(remote_task_id)).is_terminal:
            assert status.progress is not None
            progress.append(status.progress)
            time.sleep(0.1)
    assert progress == sorted(progress)
    assert len(set(progress)) >= 3


def test_object_shaped_submit_answer_for_a_client_that_asks_no_version(fast: ApimartSimulator) -> None:
    # The hook always asks for 2026-07-27; a legacy client gets the Veo3 page's shape.
    fast.config.submit_response_shape = "object"
    answer = httpx.post(
        f"{fast.base_url}/v1/videos/generations",
        json=T2V,
        headers={"Authorization": f"Bearer {fast.api_key}"},
    )
    data = answer.json()["data"]
    assert (data["object"], data["status"]) == ("video.generation.task", "pending")
    assert SubmitResponse.model_validate(answer.json()).task_id == data["id"]


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"model": "Omni-Flash-Ext", "prompt": "a", "duration": 5}, "invalid_duration"),
        ({"model": "Omni-Flash-Ext", "prompt": "a", "resolution": "8k"}, "invalid_resolution"),
        (
            {"model": "Omni-Flash-Ext", "prompt": "a", "image_urls": ["https://a/1", "https://a/2"]},
            "unsupported_image_count",
        ),
        ({"model": "Omni-Flash-Ext", "prompt": ""}, "invalid_request_error"),
    ],
)
def test_each_documented_400_from_the_server(
    apimart_simulator: ApimartSimulator, body: dict[str, Any], error_type: str
) -> None:
    # The hook validates too, so the raw body is posted to see the simulator's own answer.
    response = httpx.post(
        f"{apimart_simulator.base_url}/v1/videos/generations",
        json=body,
        headers={"Authorization": f"Bearer {apimart_simulator.api_key}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == error_type
    assert apimart_simulator.state.paid_count() == 0


def test_malformed_json_is_an_invalid_request(apimart_simulator: ApimartSimulator) -> None:
    response = httpx.post(
        f"{apimart_simulator.base_url}/v1/videos/generations",
        content=b"{not json",
        headers={"Authorization": f"Bearer {apimart_simulator.api_key}"},
    )
    assert (response.status_code, response.json()["error"]["type"]) == (400, "invalid_request_error")


def test_the_hook_reads_the_simulators_400_as_a_typed_error(apimart_simulator: ApimartSimulator) -> None:
    # The hook validates with the same models, so it never sends such a body; its error reader
    # must still understand the simulator's answer the way it would the API's.
    response = httpx.post(
        f"{apimart_simulator.base_url}/v1/videos/generations",
        json={"model": "kling-v2-6", "prompt": "a", "duration": 7},
        headers={"Authorization": f"Bearer {apimart_simulator.api_key}"},
    )
    error = error_from_response(
        response, Call("POST", "/v1/videos/generations", Redactor.of(apimart_simulator.api_key))
    )
    assert isinstance(error, ApimartBadRequestError)
    assert (error.http_status, error.error_type) == (400, "invalid_duration")
    assert "duration: must be one of 5, 10" in error.api_message


def test_unknown_model_is_accepted_as_the_generic_operator_sends_it(fast: ApimartSimulator) -> None:
    with ApimartHook() as hook:
        status = wait_until_finished(
            hook, hook.submit_video({"model": "veo3", "prompt": "a", "x": 1}).task_id
        )
    assert status.state is TaskState.COMPLETED
    assert fast.state.paid_submissions[0].model == "veo3"


def test_wrong_key_is_401(apimart_simulator: ApimartSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_APIMART_DEFAULT", connection_env(password="wrong-key", host=apimart_simulator.base_url)
    )
    with ApimartHook() as hook, pytest.raises(ApimartAuthenticationError):
        hook.submit_video(T2V)
    assert ApimartHook().test_connection()[1].startswith("APIMart rejected the API key (HTTP 401)")
    assert apimart_simulator.state.paid_count() == 0


def test_spent_balance_is_402_and_the_balance_falls_with_each_paid_submit(fast: ApimartSimulator) -> None:
    fast.config.balance = 1.0
    with ApimartHook() as hook:
        assert hook.get_balance().remain_balance == 1.0
        hook.submit_video(T2V)
        hook.submit_video(T2V)
        assert hook.get_balance().remain_balance == pytest.approx(0.2)
        with pytest.raises(ApimartPaymentRequiredError):
            hook.submit_video(T2V)
    assert fast.state.paid_count() == 2


def test_429_then_success_honouring_retry_after(apimart_simulator: ApimartSimulator) -> None:
    apimart_simulator.config.rate_limit_per_second = 1
    apimart_simulator.config.retry_after_seconds = 1
    with ApimartHook() as hook:
        remote_task_id = hook.submit_video(T2V).task_id
        hook.get_task(remote_task_id)  # over the limit: 429, then a retry after Retry-After
    polls = apimart_simulator.state.requests_to("GET", "/v1/tasks/")
    assert len(polls) == 2
    assert polls[1].at - polls[0].at >= 1.0


def test_failed_task_reports_the_documented_error(fast: ApimartSimulator) -> None:
    fast.config.default_outcome = Outcome.FAILED
    with ApimartHook() as hook:
        status = wait_until_finished(hook, hook.submit_video(T2V).task_id)
        balance = hook.get_balance()
    assert status.state is TaskState.FAILED
    assert status.error is not None
    assert status.error.code == "task_failed"
    assert status.cost == 0
    assert status.video_urls == []
    assert balance.remain_balance == fast.config.balance  # a failed render is refunded


def test_moderated_task_chosen_from_the_prompt(fast: ApimartSimulator) -> None:
    with ApimartHook() as hook:
        status = wait_until_finished(
            hook, hook.submit_video({**T2V, "prompt": "a cat [simulate:moderated]"}).task_id
        )
    assert status.state is TaskState.FAILED
    assert status.error is not None
    assert "content moderation" in (status.error.message or "")


def test_cancelled_task(fast: ApimartSimulator) -> None:
    fast.config.default_outcome = Outcome.CANCELLED
    with ApimartHook() as hook:
        assert wait_until_finished(hook, hook.submit_video(T2V).task_id).state is TaskState.CANCELLED


def test_expired_result_url_is_refused(fast: ApimartSimulator) -> None:
    fast.config.result_url_ttl = 0
    with ApimartHook() as hook:
        status = wait_until_finished(hook, hook.submit_video(T2V).task_id)
    assert status.expires_at is not None
    assert status.expires_at <= time.time()
    assert httpx.get(status.video_urls[0]).status_code == 403


def test_unknown_task_id_is_404(apimart_simulator: ApimartSimulator) -> None:
    with ApimartHook() as hook, pytest.raises(ApimartNotFoundError):
        hook.get_task("task_00000000000000000000000000")


def test_idempotent_replay_returns_the_same_task_and_charges_nothing(fast: ApimartSimulator) -> None:
    with ApimartHook() as hook:
        first = hook.submit_video(T2V, idempotency_key="dag/run/task/-1")
        second = hook.submit_video(T2V, idempotency_key="dag/run/task/-1")
        with pytest.raises(ApimartRejectedError) as conflict:
            hook.submit_video({**T2V, "prompt": "another"}, idempotency_key="dag/run/task/-1")
    assert first.task_id == second.task_id
    assert conflict.value.http_status == 409
    assert fast.state.paid_count() == 1
    posts = fast.state.requests_to("POST", "/v1/videos/generations")
    assert [post.headers["idempotency-key"] for post in posts] == ["dag/run/task/-1"] * 3


def test_twenty_percent_faults_still_complete_with_exactly_one_paid_job_each(
    fast: ApimartSimulator, recorded_sleeps: SleepRecorder
) -> None:
    fast.config.fault_rate = 0.2
    fast.config.slow_seconds = 0.01
    fast.config.seed = 7
    jobs = 20
    with ApimartHook(max_retries=6) as hook:
        remote_ids = [
            hook.submit_video(T2V, idempotency_key=f"fault-test-{job}").task_id for job in range(jobs)
        ]
        statuses = [wait_until_finished(hook, remote_task_id) for remote_task_id in remote_ids]
    assert all(status.state is TaskState.COMPLETED for status in statuses)
    assert fast.state.paid_count() == jobs
    assert all(fast.state.paid_count(f"fault-test-{job}") == 1 for job in range(jobs))
    posts = fast.state.requests_to("POST", "/v1/videos/generations")
    assert len(posts) > jobs, "the faults must have forced retried submits for this test to mean anything"


def test_dropped_answer_without_idempotency_key_is_not_resubmitted(
    apimart_simulator: ApimartSimulator,
) -> None:
    apimart_simulator.config.fault_rate = 1.0
    apimart_simulator.config.faults = (Fault.DROP,)
    with ApimartHook() as hook, pytest.raises(ApimartSubmitOutcomeUnknownError):
        hook.submit_video(T2V)
    # The job was created and billed before the answer was lost: the hook did not pay again.
    assert apimart_simulator.state.paid_count() == 1
    assert len(apimart_simulator.state.requests_to("POST", "/v1/videos/generations")) == 1


def test_image_upload_returns_a_url_the_simulator_serves(apimart_simulator: ApimartSimulator) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    headers = {"Authorization": f"Bearer {apimart_simulator.api_key}"}
    answer = httpx.post(
        f"{apimart_simulator.base_url}/v1/uploads/images",
        files={"file": ("frame.png", png, "image/png")},
        headers=headers,
    )
    assert answer.status_code == 200
    uploaded = answer.json()
    assert (uploaded["filename"], uploaded["content_type"], uploaded["bytes"]) == (
        "frame.png",
        "image/png",
        len(png),
    )
    assert httpx.get(uploaded["url"]).content == png


@pytest.mark.parametrize(
    ("files", "status"),
    [
        ({"file": ("notes.txt", b"hello", "text/plain")}, 400),
        ({"other": ("a.png", b"x", "image/png")}, 400),
        ({"file": ("big.png", b"\x00" * (20 * 1024 * 1024 + 1), "image/png")}, 413),
    ],
    ids=["unsupported format", "missing file field", "over 20 MB"],
)
def test_image_upload_limits(apimart_simulator: ApimartSimulator, files: dict[str, Any], status: int) -> None:
    headers = {"Authorization": f"Bearer {apimart_simulator.api_key}"}
    answer = httpx.post(f"{apimart_simulator.base_url}/v1/uploads/images", files=files, headers=headers)
    assert answer.status_code == status


def test_requests_are_recorded_without_the_key(apimart_simulator: ApimartSimulator) -> None:
    with ApimartHook() as hook:
        hook.submit_video(T2V, idempotency_key="k1")
    (post,) = apimart_simulator.state.requests
    assert (post.method, post.path, post.body) == ("POST", "/v1/videos/generations", T2V)
    assert "authorization" not in post.headers
    assert apimart_simulator.api_key not in repr(post)


def test_the_simulator_serves_500_concurrent_pollers_without_errors(fast: ApimartSimulator) -> None:
    fast.config.render_seconds = 4.0  # long enough that all 500 are polling at the same time
    with ApimartHook() as hook:
        remote_ids = [hook.submit_video(T2V).task_id for _ in range(10)]

    async def poller(remote_task_id: str) -> TaskStatus:
        # No retries inside the hook: any error the server gives surfaces here.
        async with ApimartHook(max_retries=0, keepalive_expiry=60) as poll_hook:
            while not (status := await poll_hook.aget_task(remote_task_id)).is_terminal:
                await asyncio.sleep(0.2)
            return status

    async def fan_out() -> list[TaskStatus | BaseException]:
        return await asyncio.gather(*(poller(remote_ids[i % 10]) for i in range(500)), return_exceptions=True)

    results = asyncio.run(fan_out())
    errors = [result for result in results if isinstance(result, BaseException)]
    assert errors == []
    assert all(isinstance(r, TaskStatus) and r.state is TaskState.COMPLETED for r in results)
    polls = fast.state.requests_to("GET", "/v1/tasks/")
    assert len(polls) > 500
    first_round = sorted(poll.at for poll in polls)[:500]
    assert first_round[-1] - first_round[0] < fast.config.render_seconds, "the pollers did not overlap"
