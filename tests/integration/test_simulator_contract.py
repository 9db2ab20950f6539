"""The simulator speaks today's APIMart over real loopback HTTP: response version 2026-07-27, the
idempotency answers, the model catalogue and schemas, and APIMart's error body on every route."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_provider_apimart.testing import ApimartSimulator

VERSION = {"X-APIMart-Response-Version": "2026-07-27"}
T2V = {"model": "wan2.7", "prompt": "A coastal road at sunset"}


@pytest.fixture
def api(apimart_simulator: ApimartSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=apimart_simulator.base_url,
        headers={"Authorization": f"Bearer {apimart_simulator.api_key}"},
        timeout=10,
    ) as client:
        yield client


def submit(
    api: httpx.Client, body: dict[str, Any] = T2V, key: str = "k-1", *, versioned: bool = True
) -> httpx.Response:
    """A submit as APIMart's own client sends it (or, ``versioned=False``, as a legacy one does)."""
    headers = {"Idempotency-Key": key, **(VERSION if versioned else {})}
    return api.post("/v1/videos/generations", json=body, headers=headers)


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def test_a_versioned_submit_answers_an_object_with_a_request_id_and_echoes_the_version(
    api: httpx.Client,
) -> None:
    answer = submit(api)
    assert answer.status_code == 200
    assert answer.headers["X-APIMart-Response-Version"] == "2026-07-27"
    assert "Idempotency-Replayed" not in answer.headers
    body = answer.json()
    assert body["request_id"].startswith("req_")
    assert body["data"]["object"] == "generation.task"
    assert body["data"]["id"].startswith("task_")
    assert body["data"]["status"] == "queued"


def test_a_legacy_submit_still_answers_the_list_of_the_model_pages(api: httpx.Client) -> None:
    answer = submit(api, versioned=False)
    assert "X-APIMart-Response-Version" not in answer.headers
    (entry,) = answer.json()["data"]
    assert entry["status"] == "submitted"


def test_the_same_key_and_body_is_a_replay_and_another_body_a_reused_key(
    api: httpx.Client, apimart_simulator: ApimartSimulator
) -> None:
    first, second = submit(api), submit(api)
    assert second.headers["Idempotency-Replayed"] == "true"
    assert second.json()["data"]["id"] == first.json()["data"]["id"]
    reused = submit(api, {**T2V, "prompt": "another"})
    assert (reused.status_code, error_code(reused)) == (409, "idempotency_key_reused")
    assert apimart_simulator.state.paid_count() == 1


@pytest.mark.parametrize(
    ("answer", "status", "code"),
    [
        ("in_progress", 409, "idempotency_in_progress"),
        ("key_reused", 409, "idempotency_key_reused"),
        ("result_indeterminate", 409, "idempotency_result_indeterminate"),
        ("unavailable", 503, "idempotency_unavailable"),
    ],
)
def test_each_scripted_idempotency_answer_is_given_once_and_charges_nothing(
    api: httpx.Client, apimart_simulator: ApimartSimulator, answer: Any, status: int, code: str
) -> None:
    apimart_simulator.config.idempotency_answers = (answer,)
    scripted = submit(api)
    assert (scripted.status_code, error_code(scripted)) == (status, code)
    assert apimart_simulator.state.paid_count() == 0
    assert submit(api).status_code == 200  # the script is spent
    assert apimart_simulator.state.paid_count() == 1


def test_a_second_submit_while_the_first_is_held_is_in_progress(apimart_simulator: ApimartSimulator) -> None:
    apimart_simulator.config.submit_hold_seconds = 1.0
    headers = {"Authorization": f"Bearer {apimart_simulator.api_key}", "Idempotency-Key": "held", **VERSION}
    url = f"{apimart_simulator.base_url}/v1/videos/generations"
    with httpx.Client(timeout=10) as first, httpx.Client(timeout=10) as second:
        waiting = ThreadPoolExecutor(1).submit(first.post, url, json=T2V, headers=headers)
        time.sleep(0.3)
        racing = second.post(url, json=T2V, headers=headers)
        assert (racing.status_code, error_code(racing)) == (409, "idempotency_in_progress")
        assert racing.headers["Retry-After"] == "1"
        assert waiting.result(timeout=10).status_code == 200
        assert second.post(url, json=T2V, headers=headers).headers["Idempotency-Replayed"] == "true"
    assert apimart_simulator.state.paid_count() == 1


def test_a_held_answer_ends_when_its_client_goes_away(apimart_simulator: ApimartSimulator) -> None:
    # A killed worker's request is over: its retry gets the job back, not minutes of in_progress.
    apimart_simulator.config.submit_hold_seconds = 60
    headers = {"Authorization": f"Bearer {apimart_simulator.api_key}", "Idempotency-Key": "gone", **VERSION}
    url = f"{apimart_simulator.base_url}/v1/videos/generations"
    with httpx.Client(timeout=0.3) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.post(url, json=T2V, headers=headers)
    time.sleep(0.3)
    with httpx.Client(timeout=10) as client:
        assert client.post(url, json=T2V, headers=headers).headers["Idempotency-Replayed"] == "true"
    assert apimart_simulator.state.paid_count() == 1


def test_a_synchronous_result_is_the_finished_task(
    api: httpx.Client, apimart_simulator: ApimartSimulator
) -> None:
    apimart_simulator.config.synchronous_results = True
    data = submit(api).json()["data"]
    assert (data["object"], data["status"]) == ("generation.result", "completed")
    assert data["result"]["videos"][0]["url"]


def test_unknown_models_and_bodies_that_break_a_schema_are_refused(
    api: httpx.Client, apimart_simulator: ApimartSimulator
) -> None:
    unknown = submit(api, {"model": "no-such-model", "prompt": "a"}, key="k-2")
    assert (unknown.status_code, error_code(unknown)) == (400, "invalid_request_error")
    broken = submit(api, {"model": "kling-v3", "prompt": "a", "duration": 99}, key="k-3")
    assert broken.status_code == 400
    assert "duration: 99 is greater than the maximum of 15" in broken.json()["error"]["message"]
    assert apimart_simulator.state.paid_count() == 0


def test_the_model_list_names_every_model_on_offer(
    api: httpx.Client, apimart_simulator: ApimartSimulator
) -> None:
    apimart_simulator.config.extra_models = {"my-model": {"type": "object"}}
    ids = [model["id"] for model in api.get("/v1/models").json()["data"]]
    assert set(ids) == {
        "wan2.6-i2v-flash",
        "wan2.7",
        "Omni-Flash-Ext",
        "kling-v2-6",
        "kling-v3",
        "veo3",
        "my-model",
    }


def test_the_model_schema_answers_apimarts_shape_and_errors(api: httpx.Client) -> None:
    answer = api.get("/v1/model-schema", params={"model": "kling-v3", "operation": "video_generation"}).json()
    assert (answer["model"], answer["operation"]) == ("kling-v3", "video_generation")
    assert answer["input_schema"]["properties"]["duration"] == {
        "type": "integer",
        "minimum": 3,
        "maximum": 15,
    }
    missing = api.get("/v1/model-schema", params={"model": "nope"})
    assert (missing.status_code, error_code(missing)) == (404, "model_not_found")
    assert api.get("/v1/model-schema").status_code == 400
    assert (
        api.get("/v1/model-schema", params={"model": "wan2.7", "operation": "image_generation"}).status_code
        == 404
    )


def test_the_model_docs_answer_the_documented_object(api: httpx.Client) -> None:
    docs = api.get("/v1/model-docs", params={"model": "wan2.7"}).json()
    assert docs["object"] == "model.documentation"
    assert docs["doc_url"] == "https://docs.apimart.ai/en/api-reference/videos/wan2.7/generation"
    assert "| `duration` |" in docs["markdown"]
    assert isinstance(docs["stale"], bool)


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("GET", "/v1/no-such-route", 404, "not_found"),
    ("DELETE", "/v1/models", 405, "method_not_allowed"),
    ("PUT", "/v1/videos/generations", 405, "method_not_allowed"),
])  # fmt: skip
def test_unknown_routes_and_methods_answer_apimarts_json_error(
    api: httpx.Client, method: str, path: str, status: int, code: str
) -> None:
    answer = api.request(method, path)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert error_code(answer) == code


def test_created_stamps_follow_the_simulated_clock(
    api: httpx.Client, apimart_simulator: ApimartSimulator
) -> None:
    apimart_simulator.config.clock_offset_seconds = -4 * 3600
    task_id = submit(api).json()["data"]["id"]
    created = api.get(f"/v1/tasks/{task_id}").json()["data"]["created"]
    assert time.time() - created > 4 * 3600 - 5
