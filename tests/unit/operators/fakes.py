"""A task instance and a task_state_store that stand in for Airflow's in unit tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from airflow.sdk import Context


@dataclass
class FakeTaskInstance:
    dag_id: str = "video_dag"
    run_id: str = "manual__2026-11-21T00:00:00+00:00"
    task_id: str = "generate"
    map_index: int = -1
    try_number: int = 1
    xcoms: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


@dataclass
class FakeStateStore:
    """Like ``context["task_state_store"]``: survives tries, JSON values only."""

    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


def make_context(ti: FakeTaskInstance | None = None, store: FakeStateStore | None = None) -> Context:
    context: dict[str, Any] = {"ti": ti or FakeTaskInstance()}
    if store is not None:
        context["task_state_store"] = store
    return cast("Context", context)
