"""`python -m airflow_provider_apimart.testing`: starts, prints what to export, serves, stops on Ctrl+C."""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import sys

import httpx


def test_cli_prints_the_base_url_and_a_ready_connection_then_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_apimart.testing", "--port", "0", "--render-seconds", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        listening = process.stdout.readline()
        export = process.stdout.readline()
        assert listening.startswith("APIMart simulator listening on http://127.0.0.1:")
        base_url = listening.split()[4]
        name, _, quoted = export.removeprefix("export ").strip().partition("=")
        assert name == "AIRFLOW_CONN_APIMART_DEFAULT"
        connection = json.loads(shlex.split(quoted)[0])
        assert connection == {"conn_type": "apimart", "password": "apimart-simulator-key", "host": base_url}
        answer = httpx.post(
            f"{base_url}/v1/videos/generations",
            json={"model": "wan2.7", "prompt": "a"},
            headers={"Authorization": f"Bearer {connection['password']}"},
        )
        assert answer.status_code == 200
    finally:
        # Two signals in a row, as `timeout` or a process group delivers them: still a clean stop.
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=10)
    assert exit_code == 0


LOG_LINE = re.compile(
    r"\d{4}-\d\d-\d\dT[\d:.]{12} (?P<method>[A-Z]+) (?P<path>/\S*) -> (?P<status>\d{3}) \([\d.]+ ms\)"
)


def test_cli_logs_requests_and_is_watched_and_steered_from_outside() -> None:
    key = "sk-cli-SECRET-key"
    process = subprocess.Popen(  # noqa: S603 - this package's own CLI, fixed arguments
        [
            sys.executable,
            "-m",
            "airflow_provider_apimart.testing",
            "--api-key",
            key,
            "--render-seconds",
            "0",
            "--media-bytes",
            "2000000",
            "--unlimited-quota",
            "--seed",
            "1",
            "--fault-rate",
            "0",
            "--log-requests",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().split()[4]
        process.stdout.readline()  # export ...
        assert process.stdout.readline() == "Press Ctrl+C to stop.\n"  # from here on: the log
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base_url, headers=headers) as api:
            task_id = api.post("/v1/videos/generations", json={"model": "wan2.7", "prompt": "a"}).json()[
                "data"
            ][0]["task_id"]
            url = api.get(f"/v1/tasks/{task_id}").json()["data"]["result"]["videos"][0]["url"][0]
            assert len(httpx.get(url).content) == 2_000_000
            assert api.get("/v1/balance").json()["remain_balance"] == -1
            steer = httpx.post(f"{base_url}/_simulator/config", json={"media_errors_remaining": 1})
            assert steer.status_code == 200
            assert httpx.get(url).status_code == 503
            records = httpx.get(f"{base_url}/_simulator/records").json()
        assert records["counts"]["paid_jobs"] == 1
        assert records["counts"]["media_gets"] == 2
        assert records["counts"]["requests"]["GET /v1/balance"] == 1
    finally:
        process.send_signal(signal.SIGINT)
        exit_code = process.wait(timeout=10)
    assert exit_code == 0
    log = process.stdout.read().splitlines()
    parsed = [LOG_LINE.fullmatch(line) for line in log]
    assert all(parsed), log
    # A line is written when its answer is complete, so a download may log after the next call.
    assert sorted((m["method"], m["path"], m["status"]) for m in parsed if m) == sorted(
        [
            ("POST", "/v1/videos/generations", "200"),
            ("GET", f"/v1/tasks/{task_id}", "200"),
            ("GET", f"/media/{task_id}.mp4", "200"),
            ("GET", "/v1/balance", "200"),
            ("POST", "/_simulator/config", "200"),
            ("GET", f"/media/{task_id}.mp4", "503"),
            ("GET", "/_simulator/records", "200"),
        ]
    )
    assert not any(key in line or "token=" in line for line in log)
