"""Run example DAGs with dag.test() in one process: ``python run_example_dags.py DAG_ID...``.

The test suite starts it with AIRFLOW__CORE__DAGS_FOLDER pointing at example_dags/ (dag.test
needs the DAG file inside the DAGs folder) and prints one JSON line per DAG with its state.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path


def main(dag_ids: list[str]) -> int:
    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    sys.path.insert(0, str(folder))
    factories = {}
    for path in sorted(folder.glob("example_*.py")):
        # Each example file defines its @dag function under the DAG's own id.
        factories.update({k: v for k, v in runpy.run_path(str(path)).items() if k in dag_ids})
    for dag_id in dag_ids:
        run = factories[dag_id]().test()
        print("EXAMPLE RESULT " + json.dumps({"dag_id": dag_id, "state": str(run.state)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
