"""Stand-ins for what a running task gives the input steps."""

from __future__ import annotations

import json
from typing import Any


class FakeStateStore:
    """Airflow 3.3's ``task_state_store`` as a task sees it: JSON values that outlive the try."""

    def __init__(self) -> None:
        self.saved: dict[str, str] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return json.loads(self.saved[key]) if key in self.saved else default

    def set(self, key: str, value: Any) -> None:
        self.saved[key] = json.dumps(value)
