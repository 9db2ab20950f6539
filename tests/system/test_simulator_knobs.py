"""The simulator knobs the system test relies on. Fast and unmarked: they run in `make test`.

``429`` and ``reset`` faults, ``submit_hold_seconds`` (the window in which the system test kills
the submitting process), the fault counts in the records, and ``--api-key-env`` (a secret key in
no argv and no banner).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import httpx
import pytest

from airflow_provider_apimart.testing import (
    ALL_FAULTS,
    DEFAULT_FAULTS,
    ApimartSimulator,
    Fault,
    SimulatorConfig,
)

T2V = {"model": "wan2.7", "prompt": "a lighthouse at dusk"}


def auth(simulator: ApimartSimulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {simulator.api_key}"}


def test_429_and_reset_are_opt_in_faults() -> None:
    assert Fault.HTTP_429 not in DEFAULT_FAULTS
    assert Fault.RESET not in DEFAULT_FAULTS
    assert set(ALL_FAULTS) == set(Fault)
    assert SimulatorConfig().faults == DEFAULT_FAULTS


def test_a_429_fault_says_retry_after_and_processes_nothing(apimart_simulator: ApimartSimulator) -> None:
    apimart_simulator.config.fault_rate = 1.0
    apimart_simulator.config.faults = (Fault.HTTP_429,)
    apimart_simulator.config.retry_after_seconds = 3
    answer = httpx.post(
        f"{apimart_simulator.base_url}/v1/videos/generations", json=T2V, headers=auth(apimart_simulator)
    )
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "3"
    assert answer.json()["error"]["type"] == "rate_limit_error"
    assert apimart_simulator.state.paid_count() == 0
    assert apimart_simulator.state.fault_counts() == {"429": 1}


def test_a_reset_fault_resets_the_connection_before_anything_is_processed(
    apimart_simulator: ApimartSimulator,
) -> None:
    apimart_simulator.config.fault_rate = 1.0
    apimart_simulator.config.faults = (Fault.RESET,)
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.post(
            f"{apimart_simulator.base_url}/v1/videos/generations",
            json=T2V,
            headers={**auth(apimart_simulator), "Idempotency-Key": "k"},
        )
    assert apimart_simulator.state.paid_count() == 0
    assert apimart_simulator.state.fault_counts() == {"reset": 1}
    # The server is fine afterwards, and the records say what was injected.
    apimart_simulator.config.fault_rate = 0.0
    records = httpx.get(f"{apimart_simulator.base_url}/_simulator/records").json()
    assert records["faults"] == {"reset": 1}
    assert records["counts"]["requests"] == {"POST /v1/videos/generations": 1}


def test_submit_hold_answers_late_after_billing_and_never_holds_a_replay(
    apimart_simulator: ApimartSimulator,
) -> None:
    apimart_simulator.config.submit_hold_seconds = 1.5
    url = f"{apimart_simulator.base_url}/v1/videos/generations"
    headers = {**auth(apimart_simulator), "Idempotency-Key": "held"}
    answers: list[httpx.Response] = []
    started = time.monotonic()
    submit = threading.Thread(target=lambda: answers.append(httpx.post(url, json=T2V, headers=headers)))
    submit.start()
    deadline = time.monotonic() + 5
    while apimart_simulator.state.paid_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert apimart_simulator.state.paid_count() == 1
    assert not answers, "the job is billed before its answer is sent"
    submit.join(timeout=10)
    assert time.monotonic() - started >= 1.5
    assert answers[0].status_code == 200

    replay_started = time.monotonic()
    replay = httpx.post(url, json=T2V, headers=headers)
    assert replay.headers["idempotency-replayed"] == "true"
    assert time.monotonic() - replay_started < 1.0
    assert apimart_simulator.state.paid_count() == 1


def test_cli_takes_a_secret_key_from_the_environment_and_never_prints_it() -> None:
    key = "sk-knob-SECRET-9d1e"
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_apimart.testing", "--api-key-env", "KNOB_KEY"],
        env={**os.environ, "KNOB_KEY": key},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.endswith("(API key: $KNOB_KEY)\n")
        base_url = banner.split()[4]
        assert process.stdout.readline() == "Press Ctrl+C to stop.\n"
        balance = f"{base_url}/v1/balance"
        assert httpx.get(balance, headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert httpx.get(balance, headers={"Authorization": "Bearer x"}).status_code == 401
    finally:
        process.terminate()
        output, errors = process.communicate(timeout=10)
    assert key not in output + errors


def test_cli_refuses_an_unset_key_variable() -> None:
    env = {name: value for name, value in os.environ.items() if name != "KNOB_MISSING"}
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_apimart.testing", "--api-key-env", "KNOB_MISSING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "KNOB_MISSING is not set" in result.stderr
