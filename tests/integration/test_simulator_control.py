"""The ``/_simulator/`` endpoints and the request log: a simulator watched and steered over HTTP."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from airflow_provider_apimart.testing import ApimartSimulator, Fault, Outcome, SimulatorConfig

if TYPE_CHECKING:
    from collections.abc import Iterator

T2V = {"model": "wan2.7", "prompt": "a"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
LOG_LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} "  # ISO 8601 time, to the millisecond
    r"(?P<method>[A-Z]+) (?P<path>/\S*) -> (?P<status>\d{3}) \(\d+\.\d ms\)"
)


@pytest.fixture
def api(apimart_simulator: ApimartSimulator) -> Iterator[httpx.Client]:
    apimart_simulator.config.render_seconds = 0
    headers = {"Authorization": f"Bearer {apimart_simulator.api_key}"}
    with httpx.Client(base_url=apimart_simulator.base_url, headers=headers) as client:
        yield client


@pytest.fixture
def control(apimart_simulator: ApimartSimulator) -> Iterator[httpx.Client]:
    """A client with no key: the control endpoints need none."""
    with httpx.Client(base_url=f"{apimart_simulator.base_url}/_simulator") as client:
        yield client


def run_a_scenario(api: httpx.Client) -> str:
    """A paid submit, a replay, a status read, a media GET and an upload; the task id."""
    first = api.post("/v1/videos/generations", json=T2V, headers={"Idempotency-Key": "k1"})
    api.post("/v1/videos/generations", json=T2V, headers={"Idempotency-Key": "k1"})
    task_id: str = first.json()["data"][0]["task_id"]
    url = api.get(f"/v1/tasks/{task_id}").json()["data"]["result"]["videos"][0]["url"][0]
    assert httpx.get(url).status_code == 200
    assert api.post("/v1/uploads/images", files={"file": ("a.png", PNG, "image/png")}).status_code == 200
    return task_id


def test_records_hold_payments_counts_balance_and_requests_without_the_key(
    apimart_simulator: ApimartSimulator, api: httpx.Client, control: httpx.Client
) -> None:
    task_id = run_a_scenario(api)
    answer = control.get("/records")
    assert answer.status_code == 200
    records = answer.json()
    assert records["counts"] == {
        "requests": {
            "POST /v1/videos/generations": 2,
            "GET /v1/tasks/{task_id}": 1,
            "GET /media/{task_id}.mp4": 1,
            "POST /v1/uploads/images": 1,
        },
        "paid_jobs": 1,
        "replays": 1,
        "uploads": 1,
        "media_gets": 1,
    }
    assert records["paid_submissions"] == [
        {"task_id": task_id, "model": "wan2.7", "cost": 0.4, "idempotency_key": "k1"}
    ]
    assert records["replays"] == [{"task_id": task_id, "idempotency_key": "k1"}]
    assert records["balance"] == {
        "success": True,
        "remain_balance": 99.6,
        "used_balance": 0.4,
        "unlimited_quota": False,
    }
    assert [r["path"] for r in records["requests"]] == [
        "/v1/videos/generations",
        "/v1/videos/generations",
        f"/v1/tasks/{task_id}",
        "/v1/uploads/images",
    ]
    assert records["requests"][0]["body"] == T2V
    assert records["requests"][0]["headers"]["idempotency-key"] == "k1"
    (media,) = records["media_requests"]
    assert (media["method"], media["path"], media["range"], media["status"]) == (
        "GET",
        f"/media/{task_id}.mp4",
        None,
        200,
    )
    assert records["uploads"][0]["sha256"]
    assert "authorization" not in answer.text.lower()
    assert apimart_simulator.api_key not in answer.text


def test_control_endpoints_need_no_key_and_are_never_faulted_limited_or_counted(
    apimart_simulator: ApimartSimulator, control: httpx.Client
) -> None:
    apimart_simulator.config.fault_rate = 1.0
    apimart_simulator.config.faults = (Fault.HTTP_503,)
    apimart_simulator.config.rate_limit_per_second = 1
    assert [control.get("/records").status_code for _ in range(5)] == [200] * 5
    assert httpx.get(f"{apimart_simulator.base_url}/v1/balance").status_code == 503
    assert control.get("/records").json()["counts"]["requests"] == {"GET /v1/balance": 1}


def test_config_changes_inject_faults_into_a_running_simulator(
    apimart_simulator: ApimartSimulator, api: httpx.Client, control: httpx.Client
) -> None:
    answer = control.post(
        "/config",
        json={"fault_rate": 1.0, "faults": ["503"], "default_outcome": "failed", "media_bytes": 2048},
    )
    assert answer.status_code == 200
    echoed = answer.json()
    assert (echoed["fault_rate"], echoed["faults"], echoed["default_outcome"]) == (1.0, ["503"], "failed")
    config = apimart_simulator.config
    assert (config.faults, config.default_outcome, config.media_bytes) == (
        (Fault.HTTP_503,),
        Outcome.FAILED,
        2048,
    )
    assert api.get("/v1/balance").status_code == 503
    assert control.post("/config", json={"fault_rate": 0}).status_code == 200
    assert api.get("/v1/balance").status_code == 200


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"fault_rate": 1.0, "no_such_knob": 1}, "Unknown config fields: no_such_knob"),
        ({"fault_rate": 1.0, "media_bytes": "lots"}, "Invalid config values"),
        ({"fault_rate": 1.0, "faults": ["fire"]}, "Invalid config values"),
        ([["fault_rate", 1.0]], "must be a JSON object"),
    ],
    ids=["unknown field", "wrong type", "unknown fault", "not an object"],
)
def test_a_bad_config_change_is_400_and_changes_nothing(
    apimart_simulator: ApimartSimulator, control: httpx.Client, body: Any, problem: str
) -> None:
    answer = control.post("/config", content=json.dumps(body))
    assert answer.status_code == 400
    assert problem in answer.json()["error"]
    assert apimart_simulator.config == SimulatorConfig()


def test_the_config_echo_leaves_the_key_out(
    apimart_simulator: ApimartSimulator, control: httpx.Client
) -> None:
    config = control.get("/config").json()
    assert "api_key" not in config
    assert config["media_content_type"] == "video/mp4"
    assert apimart_simulator.api_key not in json.dumps(config)


def test_reset_forgets_everything_but_the_config(
    apimart_simulator: ApimartSimulator, api: httpx.Client, control: httpx.Client
) -> None:
    apimart_simulator.config.cost_per_video = 1.0
    run_a_scenario(api)
    assert control.post("/reset").json() == {"reset": True}
    records = control.get("/records").json()
    assert records["counts"] == {"requests": {}, "paid_jobs": 0, "replays": 0, "uploads": 0, "media_gets": 0}
    assert records["requests"] == records["media_requests"] == records["paid_submissions"] == []
    assert records["balance"]["remain_balance"] == 100.0
    assert apimart_simulator.config.cost_per_video == 1.0


def test_balance_and_media_expiry_can_be_set_over_http(api: httpx.Client, control: httpx.Client) -> None:
    assert control.post("/balance", json={"amount": 0.3}).json()["remain_balance"] == 0.3
    assert api.post("/v1/videos/generations", json=T2V).status_code == 402
    assert control.post("/balance", json={"amount": "lots"}).status_code == 400
    control.post("/balance", json={"amount": 10})
    task_id = api.post("/v1/videos/generations", json=T2V).json()["data"][0]["task_id"]
    url = api.get(f"/v1/tasks/{task_id}").json()["data"]["result"]["videos"][0]["url"][0]
    assert control.post("/expire-media", json={"task_id": task_id}).json() == {"expired": task_id}
    assert httpx.get(url).status_code == 403
    assert control.post("/expire-media").json() == {"expired": "all"}
    assert control.post("/expire-media", json={"task_id": "task_UNKNOWN"}).status_code == 404


def test_the_request_log_has_one_line_per_request_without_key_or_query() -> None:
    lines: list[str] = []
    key = "sk-simulated-SECRET-key"
    config = SimulatorConfig(api_key=key, render_seconds=0)
    with (
        ApimartSimulator(config, request_log=lines.append) as simulator,
        httpx.Client(base_url=simulator.base_url, headers={"Authorization": f"Bearer {key}"}) as api,
    ):
        task_id = api.post("/v1/videos/generations", json=T2V).json()["data"][0]["task_id"]
        url = api.get(f"/v1/tasks/{task_id}").json()["data"]["result"]["videos"][0]["url"][0]
        httpx.get(url)
        api.get("/v1/balance", headers={"Authorization": "Bearer wrong"})
        httpx.get(f"{simulator.base_url}/_simulator/records")
    parsed = [LOG_LINE.fullmatch(line) for line in lines]
    assert all(parsed), lines
    # A line is written when its answer is complete, so a download may log after the next call.
    assert sorted((m["method"], m["path"], m["status"]) for m in parsed if m) == sorted(
        [
            ("POST", "/v1/videos/generations", "200"),
            ("GET", f"/v1/tasks/{task_id}", "200"),
            ("GET", f"/media/{task_id}.mp4", "200"),
            ("GET", "/v1/balance", "401"),
            ("GET", "/_simulator/records", "200"),
        ]
    )
    assert not any(key in line or "Bearer" in line or "token=" in line for line in lines)


def test_a_seed_set_while_running_makes_the_faults_repeatable() -> None:
    def statuses() -> list[int]:
        with ApimartSimulator() as simulator:
            headers = {"Authorization": f"Bearer {simulator.api_key}"}
            with httpx.Client(base_url=simulator.base_url, headers=headers) as api:
                simulator.config.fault_rate = 0.5
                simulator.config.faults = (Fault.HTTP_500, Fault.HTTP_503)
                api.get("/v1/balance")  # drawn before the seed is set
                simulator.config.seed = 11
                return [api.get("/v1/balance").status_code for _ in range(20)]

    first = statuses()
    assert first == statuses()
    assert {200, 500, 503} <= set(first)
