"""Benchmark: a stored 1 GiB video streamed by the UI's media endpoint, beside a bare read of the file.

Writes one video (random bytes) and its provenance record as ``store_videos`` does, and records its
generation in a throwaway Airflow database (SQLite). Then, each run in a fresh subprocess (so each
peak-RSS figure is its own), taking turns: a bare ``open()`` read in 1 MiB chunks; the provider's
``media.recorded_video`` + ``media.read_range`` over the whole file; and ``GET /apimart/media``
through Airflow's own API app (auth, the XCom lookup, the record check, Range) with starlette's
TestClient, for the whole file (200) and its last 100 MB (206), the body counted and dropped. It
prints the figures and the goals beside them; it is a benchmark, not a test. See
benchmarks/README.md.

    python benchmarks/media_stream.py [--size 1GiB] [--range 100MB] [--repeat 3] [--dir /big/disk]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, airflow_env, cpu_seconds, median, rss_kb, run_child, verdict

STEP = 1024 * 1024
RATIO_GOAL = 0.8
RSS_GOAL_MB = 32.0
REMOTE, DAG, RUN, TASK, MAP_INDEX = "task_bench_media", "bench_media", "manual__bench", "clips", 0
VARIANTS = [
    "bare, whole file",
    "read_range, whole file",
    "app 200, whole file",
    "bare, tail",
    "app 206, tail",
]
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KIB|MIB|GIB)?", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", default="1GiB", help="the video's size (default %(default)s; 100MB, 2GiB)")
    parser.add_argument("--range", default="100MB", help="the tail a 206 asks for (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant (default %(default)s)")
    parser.add_argument("--dir", default=None, help="where the video goes (default: the temp folder)")
    args = parser.parse_args()
    size, tail = parse_size(args.size), parse_size(args.range)
    scratch = Path(tempfile.mkdtemp(prefix="apimart-bench-media-", dir=args.dir))
    try:
        env = airflow_env(
            scratch / "airflow-home",
            AIRFLOW__API_AUTH__JWT_SECRET="bench-media-jwt-secret-" + "0" * 64,
            AIRFLOW__API__SECRET_KEY="bench-media-secret-key",  # noqa: S106 - a throwaway server's
            AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        )
        started = time.perf_counter()
        summary = write_video(scratch / "videos", size)
        print(f"Wrote {human(size)} and its record (sha256 once, {time.perf_counter() - started:.1f} s).")
        done = subprocess.run(  # noqa: S603 - our venv's airflow, fixed arguments
            [str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"airflow db migrate failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        (scratch / "summary.json").write_text(json.dumps(summary))
        run_child(Path(__file__), ["record", str(scratch), "0", "0"], env)
        print(
            f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; {args.repeat} run(s) per variant, "
            "taking turns, each in a fresh subprocess; the file is in the page cache (just written).",
            flush=True,
        )
        runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
        for _ in range(max(1, args.repeat)):
            for number, variant in enumerate(VARIANTS):
                figures = run_child(Path(__file__), [str(number), str(scratch), str(size), str(tail)], env)
                expected = size if "whole" in variant else min(tail, size)
                if figures["bytes"] != expected:
                    raise SystemExit(f"{variant} read {figures['bytes']} bytes, not {expected}")
                runs[variant].append(figures)
        report(runs, size, tail)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def write_video(folder: Path, size: int) -> dict[str, Any]:
    """The video (bytes that do not compress), its record beside it, and the summary XCom's value."""
    folder.mkdir(parents=True)
    video = folder / f"{REMOTE}.mp4"
    hasher, block, written = hashlib.sha256(), os.urandom(STEP), 0
    with open(video, "wb") as file:
        while written < size:
            piece = written.to_bytes(8, "big") + block[8 : min(STEP, size - written)]
            piece = piece[: size - written]
            file.write(piece)
            hasher.update(piece)
            written += len(piece)
    sha256 = hasher.hexdigest()
    record = {  # as outputs/store.py _store_one writes it, the operator's provenance first
        "model": "wan2.7", "dag_id": DAG, "run_id": RUN, "task_id": TASK, "map_index": MAP_INDEX,
        "try_number": 1, "remote_task_id": REMOTE, "index": 1, "file": video.name,
        "source_url": f"https://cdn.apimart.example/v/{REMOTE}.mp4", "sha256": sha256, "bytes": size,
        "content_type": "video/mp4", "cost": 0.35, "created": 0, "completed": 0, "expires_at": None,
        "stored_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "provider_version": "bench",
    }  # fmt: skip
    (folder / f"{REMOTE}.json").write_text(json.dumps(record, indent=2) + "\n")
    output = {"uri": f"file://{video}", "sha256": sha256, "bytes": size, "content_type": "video/mp4"}
    return {
        "remote_task_id": REMOTE, "model": "wan2.7", "status": "completed",
        "video_urls": [record["source_url"]], "cost": 0.35, "actual_time": 90,
        "request": {"model": "wan2.7", "prompt": "a benchmark", "resolution": "720P"}, "outputs": [output],
    }  # fmt: skip


def report(runs: dict[str, list[dict[str, Any]]], size: int, tail: int) -> None:
    def rate(variant: str) -> float:
        return median([float(run["mb_per_s"]) for run in runs[variant]])

    def growth(variant: str) -> float:
        return max(float(run["rss_growth_mb"]) for run in runs[variant])

    names = {"tail": f"last {human(min(tail, size))}", "whole file": f"whole {human(size)}"}
    print(f"\n{'variant':<28} | {'MB/s':>7} | vs bare | CPU s/GB | peak RSS +MB | RSS after warm-up")
    print("-" * 94)
    for variant in VARIANTS:
        shown = variant.replace("tail", names["tail"]).replace("whole file", names["whole file"])
        bare = "bare, tail" if "tail" in variant else "bare, whole file"
        cpu = median([float(run["cpu_s_per_gb"]) for run in runs[variant]])
        base = median([float(run["rss_base_mb"]) for run in runs[variant]])
        print(
            f"{shown:<28} | {rate(variant):>7.0f} | {rate(variant) / rate(bare):>6.2f}x | {cpu:>8.2f} | "
            f"{growth(variant):>12.1f} | {base:.0f} MB"
        )
    print()
    for variant in VARIANTS:
        speeds = ", ".join(f"{run['mb_per_s']:.0f}" for run in runs[variant])
        print(f"  {variant}, MB/s of every run: {speeds}")
    ratio = rate("read_range, whole file") / rate("bare, whole file")
    print(
        f"read_range / bare, whole file: {ratio:.2f}x (goal >= {RATIO_GOAL}): {verdict(ratio >= RATIO_GOAL)}."
    )
    worst = max(growth(variant) for variant in VARIANTS if not variant.startswith("bare"))
    print(
        f"Provider's peak RSS growth, highest run of any variant: {worst:.1f} MB "
        f"(goal: flat, < {RSS_GOAL_MB:.0f} MB for {human(size)}): {verdict(worst < RSS_GOAL_MB)}."
    )
    print(f"Peak RSS measured with {runs[VARIANTS[0]][0]['peak_method']}.")


def parse_size(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise SystemExit(f"{text!r} is not a size such as 100MB or 1GiB")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "B").upper()])


def human(size: int) -> str:
    for unit in ("GiB", "GB", "MiB", "MB"):
        scale = _UNITS[unit.upper()]
        if size >= scale and size % (scale // 8) == 0:
            return f"{size / scale:g} {unit}"
    return f"{size / 1e6:.1f} MB"


# ---------------------------------------------------------------- the children


def record_generation(scratch: Path) -> None:
    """The task instance and both XComs of the generation, as a worker leaves them."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.sdk.bases.xcom import BaseXCom
    from airflow.utils.session import create_session
    from sqlalchemy import insert, select

    summary = json.loads((scratch / "summary.json").read_text())
    now = datetime.now(timezone.utc)
    key = {"dag_id": DAG, "run_id": RUN, "task_id": TASK, "map_index": MAP_INDEX}
    # Not the scoped session: an ORM bulk insert of DagRun reads a hybrid that commits that one.
    with create_session(scoped=False) as session:
        session.execute(
            insert(DagRun),
            [{"dag_id": DAG, "run_id": RUN, "run_type": "manual", "run_after": now, "_state": "success"}],
        )
        run_id = session.scalar(select(DagRun.id).where(DagRun.dag_id == DAG))
        session.execute(
            insert(TaskInstance), [{**key, "try_number": 1, "pool": "default_pool", "state": "success"}]
        )
        values = {"apimart_task_id": REMOTE, "apimart_task": BaseXCom.serialize_value(summary)}
        rows = [{**key, "dag_run_id": run_id, "key": name, "value": value} for name, value in values.items()]
        session.execute(insert(XComModel), rows)
    print(json.dumps({"recorded": True}))


def child(variant: str, scratch: Path, size: int, tail: int) -> None:
    import gc

    start, length = (0, size) if "whole" in variant else (max(0, size - tail), min(tail, size))
    stream = prepare(variant, scratch, start, length)
    for _ in stream(0, STEP):  # warm what a server has warm after its first request
        pass
    gc.collect()
    base = rss_kb()
    peak_method = reset_peak()
    cpu_before, started, copied = cpu_seconds(), time.perf_counter(), 0
    for chunk in stream(start, length):
        copied += len(chunk)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    peak = rss_kb("VmHWM") if peak_method.startswith("VmHWM") else max_rss_kb()
    figures = {
        "bytes": copied,
        "mb_per_s": copied / seconds / 1e6,
        "cpu_s_per_gb": cpu / (copied / 1e9),
        "rss_base_mb": base / 1024,
        "rss_growth_mb": max(0, peak - base) / 1024,
        "peak_method": peak_method,
    }
    print(json.dumps(figures))


def prepare(variant: str, scratch: Path, start: int, length: int) -> Any:
    """A function (start, length) -> chunks, for the variant, with its imports done."""
    video = scratch / "videos" / f"{REMOTE}.mp4"
    if variant.startswith("bare"):

        def bare(start: int, length: int) -> Any:
            with open(video, "rb") as file:
                file.seek(start)
                while length > 0 and (chunk := file.read(min(STEP, length))):
                    length -= len(chunk)
                    yield chunk

        return bare
    if variant.startswith("read_range"):
        from airflow_provider_apimart.ui import media
        from airflow_provider_apimart.ui.generations import Generation, Outcome, TaskKey

        summary = json.loads((scratch / "summary.json").read_text())
        generation = Generation(
            TaskKey(DAG, RUN, TASK, MAP_INDEX),
            REMOTE,
            Outcome.COMPLETED,
            "success",
            1,
            datetime.now(timezone.utc),
            summary,
        )
        return lambda start, length: media.read_range(media.recorded_video(generation, 1).path, start, length)
    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    client = TestClient(create_app())
    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="bench", role="admin"))
    url = f"/apimart/media?dag_id={DAG}&run_id={RUN}&task_id={TASK}&map_index={MAP_INDEX}&n=1"

    def app(start: int, length: int) -> Any:
        whole = start == 0 and "200" in variant and length > STEP
        headers = {"Authorization": f"Bearer {token}"}
        if not whole:
            headers["Range"] = f"bytes={start}-{start + length - 1}"
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code != (200 if whole else 206):
                raise SystemExit(f"GET {url}: {response.status_code} {response.read()[:500]!r}")
            yield from response.iter_bytes()  # each chunk counted by the caller, then dropped

    return app


def reset_peak() -> str:
    """Start the peak-RSS counter from now, so the imports' own peak is not counted."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return "ru_maxrss (includes the imports' peak: an upper bound)"
    return "VmHWM reset after the warm-up (/proc/self/clear_refs)"


def max_rss_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        if sys.argv[2] == "record":
            record_generation(Path(sys.argv[3]))
        else:
            child(VARIANTS[int(sys.argv[2])], Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(main())
