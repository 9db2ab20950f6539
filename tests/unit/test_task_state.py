"""What the provider leaves in task_state_store is read by later tries, across upgrades."""

from __future__ import annotations

from airflow_provider_apimart import task_state
from airflow_provider_apimart.operators import video


def test_the_keys_are_the_ones_earlier_releases_wrote() -> None:
    # A retry after an upgrade reads what the try before it stored: these strings never change.
    assert task_state.SUBMIT_RECORD_STATE_KEY == "apimart_remote_task"
    assert task_state.UPLOADS_STATE_KEY == "apimart_uploads"
    assert task_state.TASKFLOW_REQUEST_STATE_KEY == "apimart_taskflow_request"
    assert video.STATE_KEY == task_state.SUBMIT_RECORD_STATE_KEY  # the name 0.2 exported


def test_the_keys_are_distinct() -> None:
    keys = [value for name, value in vars(task_state).items() if name.endswith("_STATE_KEY")]
    assert len(keys) == len(set(keys)) == 3
