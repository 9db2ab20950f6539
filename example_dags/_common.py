"""What the example DAGs share: the poll interval, and where the videos are kept.

APIMart result URLs expire after about 24 hours, so every example stores its videos with
``output_path``: the operator streams each video there (with a provenance record beside it) and
returns the stored URIs. A local folder here; any ObjectStoragePath URI works, e.g.
``s3://aws_default@my-bucket/videos`` with the Amazon provider installed.
"""

from __future__ import annotations

import os

#: The docs advise polling every 5-10 s; the demo and tests set APIMART_POLL_INTERVAL=0.5 against
#: the simulator, whose renders take seconds.
POLL_INTERVAL = float(os.environ.get("APIMART_POLL_INTERVAL", "10"))
#: Where the videos go: one folder per DAG run, so a retry finds what an earlier try stored.
VIDEO_STORE = os.environ.get("APIMART_VIDEO_STORE", "file:///tmp/apimart-videos").rstrip("/")
OUTPUT_PATH = VIDEO_STORE + "/{{ dag.dag_id }}/{{ run_id | replace(':', '_') | replace('+', '_') }}"
