"""What the benchmarks share: the fast status server, process figures, percentiles, verdicts.

Not a benchmark itself. Every benchmark script puts this folder on ``sys.path`` to import it.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import urllib.request
from contextlib import closing
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: The venv's ``bin`` folder (airflow, python), next to the interpreter that runs the benchmark.
BIN = Path(sys.executable).parent


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds() -> float:
    """CPU time this process used so far (user and system), in seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_kb(field: str = "VmRSS") -> int:
    """A ``/proc/self/status`` memory figure (VmRSS now, VmHWM the peak), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def raise_fd_limit() -> None:
    """One socket per poller: thousands of them need more than the usual 1,024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def percentile(values: list[float], share: float) -> float:
    """The ``share`` (0-1) percentile, nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def airflow_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a child that imports Airflow: its own AIRFLOW_HOME, no examples."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        **extra,
    }


def run_child(
    script: Path, args: list[str], env: dict[str, str], timeout: float | None = None
) -> dict[str, Any]:
    """Run ``script --child ...`` in a fresh interpreter; its last stdout line is its JSON figures."""
    done = subprocess.run(  # noqa: S603 - our own script, with our own arguments
        [sys.executable, str(script), "--child", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{script.name} child {args[:1]} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(lines[-1])
    return figures


#: The API key of the benchmarks' connection (and of the bare loops' Authorization header).
BENCH_API_KEY = "benchmark-api-key"


class StatusServer:
    """``_status_server.py`` in its own process on 127.0.0.1, for as long as the ``with`` lasts."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connection_env(self) -> dict[str, str]:
        """``apimart_default`` pointed at this server, as the triggers and hooks look it up."""
        # A key no answer contains: the hook hides the key in every answer it reads, and a key that
        # is part of the task ids ("bench_...") would hide the id the status read is checked by.
        conn = {"conn_type": "apimart", "password": BENCH_API_KEY, "host": self.base_url}
        return {"AIRFLOW_CONN_APIMART_DEFAULT": json.dumps(conn)}

    def __enter__(self) -> StatusServer:
        self.process = subprocess.Popen(  # noqa: S603 - our own script
            [sys.executable, str(HERE / "_status_server.py")],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("port "):
            self.__exit__()
            raise SystemExit(f"the status server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def polls(self, run: str) -> dict[str, int]:
        """Status reads the server answered for one run's tasks: {task id: reads}."""
        with urllib.request.urlopen(f"{self.base_url}/_stats/{run}", timeout=30) as answer:  # noqa: S310
            polls: dict[str, int] = json.loads(answer.read())["polls"]
        return polls
