"""`make demo`: run the showcase DAG end to end and print the videos it made.

With no APIMART_API_KEY it runs against the built-in APIMart simulator: no key, no internet, no
cost. With APIMART_API_KEY set it uses the real API (APIMART_BASE_URL to override the host),
after saying plainly what that costs. Airflow runs in a throwaway AIRFLOW_HOME; the DAG runs
with `airflow dags test`, which also runs the deferrable tasks' triggers inline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow_provider_apimart.testing import ApimartSimulator, SimulatorConfig

REPO = Path(__file__).resolve().parents[1]
SHOWCASE = "example_apimart_pipeline"
RESULT_MARKER = "APIMART DEMO RESULT "
REAL_API_WARNING_SECONDS = 10
#: Lines of the DAG run worth showing as progress, by a phrase they contain.
PROGRESS_PHRASES = (
    "Submitted a",
    "in the triggerer",
    "% done",
    "completed:",
    "Reattached",
    "DagRun Finished",
)


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def airflow(home: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - the venv's own airflow, fixed arguments
        [str(Path(sys.executable).parent / "airflow"), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=home,
    )


def run_showcase(home: Path, env: dict[str, str]) -> dict[str, Any] | None:
    started = time.monotonic()
    say("Preparing the Airflow metadata database ...")
    migrate = airflow(home, env, "db", "migrate")
    migrate_output, _ = migrate.communicate()
    if migrate.returncode != 0:
        print(migrate_output[-3000:])
        return None
    say(f"Running {SHOWCASE} with `airflow dags test` (deferrable tasks' triggers run inline) ...")
    process = airflow(home, env, "dags", "test", SHOWCASE)
    result = None
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if RESULT_MARKER in line:
                result = json.loads(line.split(RESULT_MARKER, 1)[1])
            elif any(phrase in line for phrase in PROGRESS_PHRASES):
                say("  " + _readable(line))
        process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=30)
        raise
    say(
        f"Setting up and running took {time.monotonic() - started:.1f} s in all (the metadata database, "
        "Airflow's start-up and the DAG parse included; the line above is the DAG run alone)."
    )
    return result if process.returncode == 0 else None


def _readable(log_line: str) -> str:
    """A structlog line without its timestamp, level and logger name."""
    text = log_line.strip()
    if "DagRun Finished" in text:
        fields = dict(part.split("=", 1) for part in text.split(", ") if "=" in part)
        took = float(fields.get("run_duration", 0))
        return f"DAG run finished: state={fields.get('state')}, the run itself took {took:.1f} s"
    if "] " in text:
        text = text.split("] ", 1)[1]
    return text.split(" [airflow", 1)[0].split(" loc=", 1)[0].strip()


def print_result(result: dict[str, Any], videos_dir: Path) -> None:
    say("Generated videos, stored with output_path (the API's URLs expire; these files do not):")
    for video in result["videos"]:
        expires = video.get("expires_at")
        when = (
            datetime.fromtimestamp(expires, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            if expires
            else "?"
        )
        for output in video.get("outputs", []):
            digest = output["sha256"][:12]
            say(f"  {video['model']:<12} {output['uri']}  ({output['bytes']} bytes, sha256 {digest}...)")
        say(f"  {'':<12} from {video['remote_task_id']}, source URL expires {when}")
    say(f"Total cost: {result['total_cost']}")
    say("XCom 'apimart_task' of each generating task:")
    for video in result["videos"]:
        print(json.dumps(video, indent=2), flush=True)
    kept = sorted(videos_dir.rglob("*.mp4"))
    records = sorted(videos_dir.rglob("*.json"))
    say(f"{len(kept)} video file(s) and {len(records)} provenance record(s) under {videos_dir}")
    if records:
        say(f"One record ({records[0].name}):")
        print(records[0].read_text(), flush=True)


def main() -> int:
    api_key = os.environ.get("APIMART_API_KEY")
    home = Path(tempfile.mkdtemp(prefix="apimart-demo-"))
    videos_dir = Path(tempfile.mkdtemp(prefix="apimart-demo-videos-"))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "example_dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "APIMART_VIDEO_STORE": videos_dir.as_uri(),
    }
    if api_key:
        print(
            "\n  WARNING: APIMART_API_KEY is set, so this demo calls the REAL APIMart API and costs money:\n"
            f"  {SHOWCASE} submits 3 paid video generations (2 x wan2.7, 1 x kling-v2-6 pro).\n"
            f"  Press Ctrl+C within {REAL_API_WARNING_SECONDS} s to stop. "
            "Unset APIMART_API_KEY to use the simulator.\n",
            flush=True,
        )
        time.sleep(REAL_API_WARNING_SECONDS)
        connection = {"conn_type": "apimart", "password": api_key}
        if base_url := os.environ.get("APIMART_BASE_URL"):
            connection["host"] = base_url
        env["AIRFLOW_CONN_APIMART_DEFAULT"] = json.dumps(connection)
        env.setdefault("APIMART_POLL_INTERVAL", "10")
        result = run_showcase(home, env)
    else:
        with ApimartSimulator(SimulatorConfig(render_seconds=3)) as simulator:
            say(f"No APIMART_API_KEY: using the APIMart simulator at {simulator.base_url} (no cost).")
            env.update(simulator.connection_env())
            env.setdefault("APIMART_POLL_INTERVAL", "0.5")
            # Simulated renders take 3 s: the real API's 5 s settle before the first poll would
            # only make the demo slower.
            env.setdefault("AIRFLOW__APIMART__FIRST_POLL_DELAY", "0.5")
            result = run_showcase(home, env)
            say(f"The simulator saw {simulator.state.paid_count()} paid submissions.")
    if result is None:
        say(f"The showcase DAG failed; its Airflow home, with the task logs, is kept at {home}")
        return 1
    shutil.rmtree(home, ignore_errors=True)
    print_result(result, videos_dir)
    say(f"The throwaway Airflow home is removed; the videos stay so you can watch them: rm -r {videos_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
