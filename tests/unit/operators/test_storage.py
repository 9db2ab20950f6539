"""Nothing paid for is lost to storage: output_path checked before the render is paid, and a store
that fails after it raises one typed error whose retry only downloads."""

from __future__ import annotations

import shutil
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_apimart.exceptions import ApimartConfigurationError, ApimartStorageError
from airflow_provider_apimart.operators.video import ApimartWan27Operator
from airflow_provider_apimart.version_compat import AirflowFailException
from tests.compat import TaskDeferred
from tests.unit.operators.fakes import FakeTaskInstance, make_context

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_apimart.testing import ApimartSimulator
    from tests.object_store import S3Store

#: A folder no worker can write, even as root (the issue's PermissionError row).
UNWRITABLE = "/sys/apimart-videos"


def wan27(output_path: str, **kwargs: Any) -> ApimartWan27Operator:
    return ApimartWan27Operator(
        task_id="clip", prompt="a coastal road", output_path=output_path, poll_interval=0.05, **kwargs
    )


def posts(simulator: ApimartSimulator) -> int:
    return len(simulator.state.requests_to("POST", "/v1/videos/generations"))


def refused_before_paying(simulator: ApimartSimulator, output_path: str) -> str:
    with pytest.raises(ApimartConfigurationError) as caught:
        wan27(output_path).execute(make_context())
    assert isinstance(caught.value, AirflowFailException)  # no retries burnt
    assert posts(simulator) == 0
    assert simulator.state.paid_count() == 0
    return str(caught.value)


def test_a_literal_relative_output_path_fails_at_dag_parse() -> None:
    with pytest.raises(
        ApimartConfigurationError, match=r"Task 'clip': output_path 'videos/out' is not absolute"
    ):
        wan27("videos/out")


def test_a_templated_relative_output_path_fails_before_anything_is_paid(simulator: ApimartSimulator) -> None:
    operator = wan27("videos/{{ ds }}")
    operator.output_path = "videos/2026-12-06"  # as rendered
    with pytest.raises(
        ApimartConfigurationError, match="Task 'clip': output_path 'videos/2026-12-06' is not"
    ):
        operator.execute(make_context())
    assert posts(simulator) == 0


def test_a_bucket_that_does_not_exist_fails_before_anything_is_paid(
    simulator: ApimartSimulator, s3_store: S3Store
) -> None:
    output_path = f"s3://{s3_store.conn_id}@no-such-bucket/clips"
    message = refused_before_paying(simulator, output_path)
    assert f"Task 'clip': output_path '{output_path}' cannot be written" in message
    assert "NoSuchBucket" in message or "FileNotFoundError" in message
    assert "Create the folder or bucket" in message


def test_a_folder_the_worker_cannot_write_fails_before_anything_is_paid(simulator: ApimartSimulator) -> None:
    message = refused_before_paying(simulator, UNWRITABLE)
    assert f"output_path '{UNWRITABLE}' cannot be written (PermissionError" in message


def test_a_scheme_without_a_filesystem_fails_before_anything_is_paid(simulator: ApimartSimulator) -> None:
    assert "cannot be written" in refused_before_paying(simulator, "nosuchfs://bucket/clips")


def test_the_check_leaves_nothing_behind(simulator: ApimartSimulator, tmp_path: Path) -> None:
    store = tmp_path / "clips"
    (uri,) = wan27(str(store)).execute(make_context()) or []
    video = uri.rsplit("/", 1)[1]
    assert {path.name for path in store.iterdir()} == {video, video.replace(".mp4", ".json")}  # no probe


def defer_then_resume(operator: ApimartWan27Operator, ti: FakeTaskInstance) -> Any:
    """Run to the deferral; return a function that resumes as the triggerer's event would."""
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(make_context(ti))
    trigger = deferred.value.trigger
    kwargs = deferred.value.kwargs or {}

    def resume() -> list[str]:
        event = {"status": "success", "remote_task_id": trigger.remote_task_id}
        return operator.execute_complete(make_context(ti), event, **kwargs)

    return resume


def test_a_local_store_that_breaks_after_the_render_raises_the_typed_error_and_a_retry_only_downloads(
    simulator: ApimartSimulator, tmp_path: Path
) -> None:
    simulator.config.render_seconds = 0.5
    store, ti = tmp_path / "clips", FakeTaskInstance(task_id="clip")
    resume = defer_then_resume(wan27(str(store), deferrable=True), ti)
    remote_task_id = ti.xcoms["apimart_task_id"]
    shutil.rmtree(store)
    store.write_text("a file where the folder was")  # the folder is gone while the job renders
    time.sleep(0.6)
    with pytest.raises(ApimartStorageError) as caught:
        resume()
    message = str(caught.value)
    assert not isinstance(caught.value, AirflowFailException)  # a retry costs nothing
    assert f"Task 'clip': the paid video of APIMart task {remote_task_id} could not be written to" in message
    assert "Its source URL lives until" in message
    assert "only downloads (no new charge)" in message
    assert f"get_task({remote_task_id!r})" in message
    recorded = ti.xcoms["apimart_task"]  # what the UI shows: paid, not stored, until when it lives
    assert (recorded["error"]["reason"], recorded["cost"]) == ("not_stored", 0.4)
    assert recorded["video_urls"]
    assert recorded["expires_at"] > time.time()
    store.unlink()
    (uri,) = resume()
    assert uri.endswith(f"{remote_task_id}.mp4")
    assert simulator.state.paid_count() == 1


def test_a_bucket_deleted_during_the_render_raises_the_typed_error_and_a_retry_only_downloads(
    simulator: ApimartSimulator, s3_store: S3Store
) -> None:
    simulator.config.render_seconds = 0.5
    ti = FakeTaskInstance(task_id="clip")
    resume = defer_then_resume(wan27(s3_store.uri, deferrable=True), ti)
    s3_store.client.delete_bucket(Bucket=s3_store.bucket)  # the check left it empty
    time.sleep(0.6)
    with pytest.raises(ApimartStorageError, match=f"APIMart task {ti.xcoms['apimart_task_id']} could not be"):
        resume()
    s3_store.client.create_bucket(Bucket=s3_store.bucket)
    (uri,) = resume()
    assert uri == f"{s3_store.uri}/{ti.xcoms['apimart_task_id']}.mp4"
    assert simulator.state.paid_count() == 1
