"""Benchmark: the provider's ``store_videos`` against a bare httpx copy, per video size.

Runs the APIMart simulator on 127.0.0.1 in this process and each download in a fresh subprocess,
so every peak-RSS figure belongs to one run alone. See benchmarks/README.md for what the figures
mean. It is a benchmark, not a test: it prints figures and the goals beside them.

    python benchmarks/download.py [--sizes 100MB,1GB] [--repeat 3] [--dir /big/disk]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RATIO_GOAL = 0.8
RSS_GOAL_MB = 64.0
#: Peak RSS growth that differs by less than this between sizes counts as flat.
FLAT_MB = 8.0
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="100MB,1GB", help="video sizes, comma-separated (default: %(default)s)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per size and client (default: %(default)s)"
    )
    parser.add_argument("--dir", default=None, help="where the copies go (default: the system temp folder)")
    args = parser.parse_args()
    sizes = [parse_size(size) for size in args.sizes.split(",") if size.strip()]
    return run(sizes, max(1, args.repeat), args.dir)


def parse_size(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise SystemExit(f"--sizes: {text!r} is not a size such as 100MB or 1GB")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "B").upper()])


def run(sizes: list[int], repeat: int, folder: str | None) -> int:
    from airflow_provider_apimart.testing import ApimartSimulator, SimulatorConfig

    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory(prefix="apimart-bench-", dir=folder) as scratch,
        ApimartSimulator(SimulatorConfig(render_seconds=0, unlimited_quota=True)) as simulator,
    ):
        print(
            f"Simulator at {simulator.base_url}; copies in {scratch}; {os.cpu_count()} CPUs; "
            f"{repeat} run(s) per size and client, each in a fresh subprocess.",
            flush=True,
        )
        for size in sizes:
            simulator.config.media_bytes = size
            status_file = Path(scratch) / "status.json"
            status_file.write_text(json.dumps(completed_status(simulator)))
            row = Row(size)
            for _ in range(repeat):  # alternate, so a slow spell of the machine hits both
                row.bare.append(measure("bare", status_file, Path(scratch), size))
                row.provider.append(measure("provider", status_file, Path(scratch), size))
            rows.append(row)
    report(rows, repeat)
    return 0


@dataclass
class Row:
    size: int
    provider: list[dict[str, Any]] = field(default_factory=list)
    bare: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def speed(runs: list[dict[str, Any]]) -> float:
        return statistics.median(float(run["mb_per_s"]) for run in runs)

    @staticmethod
    def growth(runs: list[dict[str, Any]]) -> float:
        return max(float(run["rss_growth_mb"]) for run in runs)

    @property
    def ratio(self) -> float:
        return self.speed(self.provider) / self.speed(self.bare)


def completed_status(simulator: Any) -> dict[str, Any]:
    """A completed task's status ``data``, as the operator would hand it to ``store_videos``."""
    import httpx

    headers = {"Authorization": f"Bearer {simulator.api_key}"}
    with httpx.Client(base_url=simulator.base_url, headers=headers) as api:
        submitted = api.post("/v1/videos/generations", json={"model": "wan2.7", "prompt": "benchmark"})
        task_id = submitted.raise_for_status().json()["data"][0]["task_id"]
        status: dict[str, Any] = api.get(f"/v1/tasks/{task_id}").raise_for_status().json()["data"]
    if status["status"] != "completed":
        raise SystemExit(f"the simulated render did not complete: {status}")
    return status


def measure(mode: str, status_file: Path, scratch: Path, size: int) -> dict[str, Any]:
    """One download in a fresh interpreter; its figures, after the copy was checked and removed."""
    out = scratch / mode
    out.mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(scratch / "airflow-home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    try:
        done = subprocess.run(  # noqa: S603 - our own script, with our own arguments
            [sys.executable, __file__, "--child", mode, str(status_file), str(out)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"the {mode} run failed:\n{done.stderr[-4000:]}")
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        if figures["bytes"] != size:
            raise SystemExit(f"the {mode} run copied {figures['bytes']} bytes, not {size}")
        return figures
    finally:
        shutil.rmtree(out, ignore_errors=True)


def report(rows: list[Row], repeat: int) -> None:
    print()
    print(
        f"{'size':>7} | {'provider MB/s':>13} | {'bare MB/s':>9} | {'ratio':>5} | "
        f"{'CPU s/GB prov/bare':>18} | {'peak RSS +MB prov/bare':>22} | RSS after imports prov/bare"
    )
    print("-" * 118)
    for row in rows:
        cpu = [
            statistics.median(float(run["cpu_s_per_gb"]) for run in runs) for runs in (row.provider, row.bare)
        ]
        base = [
            statistics.median(float(run["rss_base_mb"]) for run in runs) for runs in (row.provider, row.bare)
        ]
        print(
            f"{human(row.size):>7} | {row.speed(row.provider):>13.1f} | {row.speed(row.bare):>9.1f} | "
            f"{row.ratio:>5.2f} | {cpu[0]:>8.2f} / {cpu[1]:<7.2f} | "
            f"{row.growth(row.provider):>10.1f} / {row.growth(row.bare):<9.1f} | "
            f"{base[0]:.1f} / {base[1]:.1f} MB"
        )
    print()
    for row in rows:
        provider = ", ".join(f"{run['mb_per_s']:.0f}" for run in row.provider)
        bare = ", ".join(f"{run['mb_per_s']:.0f}" for run in row.bare)
        print(f"{human(row.size):>7}, MB/s of every run: provider {provider}; bare {bare}")
    runs = f"median of {repeat} runs" if repeat > 1 else "one run"
    ratio = min(row.ratio for row in rows)
    growths = [row.growth(row.provider) for row in rows]
    print(
        f"Throughput ratio provider/bare ({runs}), lowest: {ratio:.2f} (goal >= {RATIO_GOAL}): "
        f"{'met' if ratio >= RATIO_GOAL else 'MISSED'}."
    )
    print(
        f"Provider peak RSS growth, highest run: {max(growths):.1f} MB (goal < {RSS_GOAL_MB:.0f} MB): "
        f"{'met' if max(growths) < RSS_GOAL_MB else 'MISSED'}."
    )
    if len(rows) > 1:
        spread = growths[-1] - growths[0]
        print(
            f"Provider peak RSS growth from {human(rows[0].size)} to {human(rows[-1].size)}: "
            f"{growths[0]:.1f} -> {growths[-1]:.1f} MB ({spread:+.1f} MB): "
            f"{'flat' if abs(spread) < FLAT_MB else 'NOT flat'} (within {FLAT_MB:.0f} MB)."
        )
    print(f"Peak RSS measured with {rows[0].provider[0]['peak_method']}.")


def human(size: int) -> str:
    for unit in ("GB", "MB", "KB"):
        if size >= _UNITS[unit] and size % (_UNITS[unit] // 10) == 0:
            return f"{size / _UNITS[unit]:g} {unit}"
    return f"{size} B"


# ---------------------------------------------------------------- the child: one measured download


def child(mode: str, status_file: str, out: str) -> None:
    import gc
    import logging

    import httpx
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_apimart.http_basics import shared_ssl_context
    from airflow_provider_apimart.models.responses import TaskStatus
    from airflow_provider_apimart.outputs import store_videos

    status = TaskStatus.model_validate(json.loads(Path(status_file).read_text()))
    quiet = logging.getLogger("benchmark")
    quiet.setLevel(logging.WARNING)
    # Warm what a worker has warm after its first task: the SSL context and the local filesystem.
    shared_ssl_context()
    ObjectStoragePath(f"file://{out}").exists()
    gc.collect()
    base = rss_kb("VmRSS")
    peak_method = reset_peak()

    cpu_before = cpu_seconds()
    started = time.perf_counter()
    if mode == "provider":
        (stored,) = store_videos(out, status, provenance={"benchmark": True}, log=quiet)
        copied = stored.bytes
    else:
        copied = 0
        with (
            httpx.stream("GET", status.video_urls[0]) as response,
            open(Path(out) / "bare.mp4", "wb") as file,
        ):
            response.raise_for_status()
            for chunk in response.iter_bytes():
                file.write(chunk)
                copied += len(chunk)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before

    peak = rss_kb("VmHWM") if peak_method.startswith("VmHWM") else max_rss_kb()
    figures = {
        "bytes": copied,
        "seconds": seconds,
        "mb_per_s": copied / seconds / 1e6,
        "cpu_s_per_gb": cpu / (copied / 1e9),
        "rss_base_mb": base / 1024,
        "rss_growth_mb": max(0, peak - base) / 1024,
        "peak_method": peak_method,
    }
    print(json.dumps(figures))


def rss_kb(field: str) -> int:
    """A ``/proc/self/status`` memory figure (VmRSS now, VmHWM the peak), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def reset_peak() -> str:
    """Start the peak-RSS counter from now, so the imports' own peak is not counted."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return "ru_maxrss (includes the imports' peak: an upper bound)"
    return "VmHWM reset after imports (/proc/self/clear_refs)"


def cpu_seconds() -> float:
    """CPU time this process used so far (user and system), in seconds."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def max_rss_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        sys.exit(main())
