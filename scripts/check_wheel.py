"""`make package-check`: what users install is what is tested.

Run by the python of a fresh virtualenv that holds only the built wheel (and a released Airflow
from the lock file): from a folder outside the checkout, it checks that the provider is imported
from that virtualenv, that Airflow discovers it, and that a DAG using it runs end to end with
`airflow dags test` against the simulator the wheel ships, storing its video.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import airflow_provider_apimart
from airflow_provider_apimart.testing import ApimartSimulator

CHECKOUT = Path(__file__).resolve().parents[1]
DAG_ID = "wheel_check"
DAG_FILE = f'''
from airflow.sdk import dag
from airflow_provider_apimart.operators.video import ApimartWan27Operator


@dag(dag_id="{DAG_ID}", schedule=None)
def wheel_check():
    ApimartWan27Operator(
        task_id="clip",
        prompt="A coastal road at sunset",
        deferrable=True,
        poll_interval=0.2,
        output_path="{{{{ var.value.video_store }}}}/{{{{ dag_run.run_after | ds }}}}",
    )


wheel_check()
'''


def say(message: str) -> None:
    print(f"[package-check] {message}", flush=True)


def main() -> int:
    installed = Path(airflow_provider_apimart.__file__).resolve()
    if (
        installed.parent == CHECKOUT / "airflow_provider_apimart"
        or Path(sys.prefix).resolve() not in installed.parents
    ):
        say(f"the provider was imported from the checkout ({installed}), not from the wheel")
        return 1
    say(f"airflow-provider-apimart {airflow_provider_apimart.__version__} imported from {installed.parent}")
    airflow = Path(sys.executable).parent / "airflow"
    with tempfile.TemporaryDirectory(prefix="apimart-wheel-check-") as work, ApimartSimulator() as simulator:
        home, dags, store = Path(work, "home"), Path(work, "dags"), Path(work, "videos")
        dags.mkdir()
        (dags / f"{DAG_ID}.py").write_text(DAG_FILE)
        env = {
            key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "PYTHONPATH"))
        }
        env.update(
            {
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__APIMART__FIRST_POLL_DELAY": "0",
                "AIRFLOW_VAR_VIDEO_STORE": str(store),
                **simulator.connection_env(),
            }
        )

        def run(*arguments: str) -> str:
            done = subprocess.run(  # noqa: S603 - the wheel venv's airflow, fixed arguments
                [str(airflow), *arguments], cwd=work, env=env, capture_output=True, text=True, timeout=600
            )
            if done.returncode != 0:
                raise SystemExit(
                    f"`airflow {' '.join(arguments)}` failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
                )
            return done.stdout

        run("db", "migrate")
        providers = json.loads(run("providers", "list", "--output", "json"))
        if not any(row.get("package_name") == "airflow-provider-apimart" for row in providers):
            say(f"Airflow does not list the provider: {providers}")
            return 1
        say("Airflow lists the provider; running a DAG with `airflow dags test` against the simulator")
        run("dags", "test", DAG_ID)
        videos = sorted(store.rglob("*.mp4"))
        if len(videos) != 1 or simulator.state.paid_count() != 1:
            say(
                f"expected one stored video and one paid job, got {videos} and {simulator.state.paid_count()}"
            )
            return 1
        say(f"the DAG ran: one paid job, its video stored at {videos[0].relative_to(store)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
