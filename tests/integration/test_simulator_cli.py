"""`python -m airflow_provider_apimart.testing`: starts, prints what to export, serves, stops on Ctrl+C."""

from __future__ import annotations

import json
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
