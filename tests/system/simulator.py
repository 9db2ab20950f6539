"""The APIMart simulator as its own process (the CLI), watched and steered over HTTP.

What it was paid for, what it replayed and every request it saw come from
``GET /_simulator/records``; knobs change with ``POST /_simulator/config``. The key it accepts
comes from an environment variable (``--api-key-env``), so it is in no argv and no banner.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from tests.system.processes import Service, Services, wait_for

if TYPE_CHECKING:
    from pathlib import Path

KEY_VARIABLE = "APIMART_SYSTEM_SIMULATOR_KEY"
SUBMIT_PATH = "/v1/videos/generations"
_LISTENING = re.compile(r"APIMart simulator listening on (?P<url>http://127\.0\.0\.1:\d+)")


@dataclass(frozen=True)
class Counts:
    """What the simulator saw of one scenario's submits (selected by their prompts)."""

    posts: int
    paid: int
    replays: int
    paid_keys: dict[str, int] = field(default_factory=dict)


class SimulatorClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._http = httpx.Client(base_url=base_url, timeout=60)

    def records(self) -> dict[str, Any]:
        answer = self._http.get("/_simulator/records")
        answer.raise_for_status()
        records: dict[str, Any] = answer.json()
        return records

    def configure(self, **changes: object) -> dict[str, Any]:
        answer = self._http.post("/_simulator/config", json=changes)
        if answer.status_code != 200:
            raise AssertionError(f"the simulator refused {changes}: {answer.text}")
        config: dict[str, Any] = answer.json()
        return config

    def close(self) -> None:
        self._http.close()

    def counts(self, prompt_prefix: str, records: dict[str, Any] | None = None) -> Counts:
        """POSTs, paid jobs and replays of the submits whose prompt starts with ``prompt_prefix``."""
        records = records if records is not None else self.records()
        posts = [
            request
            for request in records["requests"]
            if request["method"] == "POST"
            and request["path"] == SUBMIT_PATH
            and isinstance(request["body"], dict)
            and str(request["body"].get("prompt", "")).startswith(prompt_prefix)
        ]
        keys = {post["headers"].get("idempotency-key") for post in posts} - {None}
        paid_keys: dict[str, int] = {}
        for paid in records["paid_submissions"]:
            if paid["idempotency_key"] in keys:
                paid_keys[paid["idempotency_key"]] = paid_keys.get(paid["idempotency_key"], 0) + 1
        replays = sum(replay["idempotency_key"] in keys for replay in records["replays"])
        return Counts(posts=len(posts), paid=sum(paid_keys.values()), replays=replays, paid_keys=paid_keys)

    def paid_task_ids(self, prompt_prefix: str) -> list[str]:
        """The remote task ids paid for under the prompts that start with ``prompt_prefix``."""
        records = self.records()
        keys = {
            request["headers"].get("idempotency-key")
            for request in records["requests"]
            if request["method"] == "POST"
            and request["path"] == SUBMIT_PATH
            and isinstance(request["body"], dict)
            and str(request["body"].get("prompt", "")).startswith(prompt_prefix)
        }
        return [paid["task_id"] for paid in records["paid_submissions"] if paid["idempotency_key"] in keys]


def start_simulator(
    services: Services, log_dir: Path, *, api_key: str, render_seconds: float, balance: float
) -> tuple[Service, SimulatorClient]:
    """``python -m airflow_provider_apimart.testing`` on a free port, logging every request."""
    env = {**os.environ, KEY_VARIABLE: api_key}
    service = services.add(
        Service(
            "simulator",
            [
                sys.executable,
                "-m",
                "airflow_provider_apimart.testing",
                "--port",
                "0",
                "--api-key-env",
                KEY_VARIABLE,
                "--render-seconds",
                str(render_seconds),
                "--balance",
                str(balance),
                "--log-requests",
            ],
            env=env,
            log_dir=log_dir,
        )
    )
    service.start()
    found: list[str] = []

    def listening() -> bool:
        service.check_running()
        match = _LISTENING.search(service.log_text())
        if match:
            found.append(match["url"])
        return bool(match)

    wait_for(listening, "the simulator to listen", timeout=60, interval=0.2)
    return service, SimulatorClient(found[0])
