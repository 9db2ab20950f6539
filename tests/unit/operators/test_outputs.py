"""output_path on the operators and the sensor: durable files, the XComs, retries and asset events."""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any, cast

import pytest
from airflow.sdk import Asset, AssetAlias
from airflow.sdk.execution_time.context import OutletEventAccessors

from airflow_provider_apimart import publishing
from airflow_provider_apimart.exceptions import ApimartVideoExpiredError
from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.operators.video import ApimartWan27Operator
from airflow_provider_apimart.sensors.task import ApimartTaskSensor
from airflow_provider_apimart.version_compat import AIRFLOW_V_3_3_PLUS, AirflowFailException
from tests.conftest import SECRET_API_KEY, submit_remote_task
from tests.unit.operators.fakes import FakeStateStore, FakeTaskInstance, make_context

if TYPE_CHECKING:
    from pathlib import Path

    from airflow.sdk import Context

    from airflow_provider_apimart.testing import ApimartSimulator
    from tests.object_store import S3Store


def wan27(output_path: Path | str, **kwargs: Any) -> ApimartWan27Operator:
    return ApimartWan27Operator(
        task_id="clip", prompt="a coastal road", poll_interval=0.05, output_path=str(output_path), **kwargs
    )


def media_gets(simulator: ApimartSimulator) -> int:
    return len(simulator.state.media_gets())


def test_a_completed_task_stores_its_videos_and_returns_their_uris(
    simulator: ApimartSimulator, tmp_path: Path
) -> None:
    ti = FakeTaskInstance()
    uris = wan27(tmp_path).execute(make_context(ti))
    assert uris is not None
    (uri,) = uris
    remote_task_id = ti.xcoms["apimart_task_id"]
    video = tmp_path / f"{remote_task_id}.mp4"
    assert uri == video.as_uri()
    content = video.read_bytes()
    assert content[4:8] == b"ftyp"
    (output,) = ti.xcoms["apimart_task"]["outputs"]
    assert output == {
        "uri": uri,
        "sha256": hashlib.sha256(content).hexdigest(),
        "bytes": len(content),
        "content_type": "video/mp4",
    }
    record = json.loads((tmp_path / f"{remote_task_id}.json").read_text())
    assert record["sha256"] == output["sha256"]
    assert record["remote_task_id"] == remote_task_id
    assert record["model"] == "wan2.7"
    assert record["request"] == {"model": "wan2.7", "prompt": "a coastal road"}
    assert "?" not in record["source_url"]
    assert SECRET_API_KEY not in json.dumps(record)
    assert simulator.api_key not in json.dumps(record)


def test_without_output_path_nothing_changes(simulator: ApimartSimulator) -> None:
    ti = FakeTaskInstance()
    urls = ApimartWan27Operator(task_id="clip", prompt="a", poll_interval=0.05).execute(make_context(ti))
    assert urls == ti.xcoms["apimart_task"]["video_urls"]
    assert "outputs" not in ti.xcoms["apimart_task"]
    assert media_gets(simulator) == 0


@pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="reattaching needs task_state_store (Airflow 3.3+)")
def test_a_forced_retry_downloads_nothing_again(simulator: ApimartSimulator, tmp_path: Path) -> None:
    store = FakeStateStore()
    first = wan27(tmp_path).execute(make_context(FakeTaskInstance(try_number=1), store))
    gets_after_first_try = media_gets(simulator)
    second = wan27(tmp_path).execute(make_context(FakeTaskInstance(try_number=2), store))
    assert second == first
    assert gets_after_first_try == 1
    assert media_gets(simulator) == 1
    assert len(simulator.state.requests_to("POST", "/v1/videos/generations")) == 1


def test_expired_urls_are_read_again_once_then_fail_permanently(
    simulator: ApimartSimulator, tmp_path: Path
) -> None:
    simulator.config.result_url_ttl = 0
    with pytest.raises(ApimartVideoExpiredError, match="expired before they could be copied") as caught:
        wan27(tmp_path).execute(make_context())
    assert isinstance(caught.value, AirflowFailException)
    assert "task_" in str(caught.value)
    assert "expires_at" in str(caught.value)
    assert media_gets(simulator) == 2  # the first URL, then the one read again
    assert list(tmp_path.iterdir()) == []


def test_a_fresh_url_from_the_second_read_is_used(simulator: ApimartSimulator, tmp_path: Path) -> None:
    remote_task_id = submit_remote_task()
    time.sleep(0.35)
    with ApimartHook() as hook:
        status = hook.get_task(remote_task_id)
        simulator.state.expire_media(remote_task_id)  # the URL in hand is now refused (403)
        simulator.config.renew_expired_urls = True  # a second read gets a fresh one
        (uri,) = wan27(tmp_path).finish(make_context(), hook, status)
    assert uri == (tmp_path / f"{remote_task_id}.mp4").as_uri()
    assert media_gets(simulator) == 2


def outlet_context(ti: FakeTaskInstance) -> tuple[Context, OutletEventAccessors]:
    events = OutletEventAccessors()
    context = cast("dict[str, Any]", make_context(ti))
    context["outlet_events"] = events
    return cast("Context", context), events


def test_an_outlet_asset_event_carries_the_outputs(simulator: ApimartSimulator, tmp_path: Path) -> None:
    asset = Asset("apimart_videos")
    ti = FakeTaskInstance()
    context, events = outlet_context(ti)
    wan27(tmp_path, outlets=[asset]).execute(context)
    extra = events[asset].extra
    summary = ti.xcoms["apimart_task"]
    assert extra == {
        "remote_task_id": summary["remote_task_id"],
        "model": "wan2.7",
        "cost": 0.4,
        "outputs": summary["outputs"],
    }


def test_an_asset_alias_gets_one_asset_per_stored_file(simulator: ApimartSimulator, tmp_path: Path) -> None:
    alias = AssetAlias("apimart_video_files")
    ti = FakeTaskInstance()
    context, events = outlet_context(ti)
    uris = wan27(tmp_path, outlets=[alias]).execute(context)
    assert uris is not None
    (uri,) = uris
    (alias_event,) = events[alias].asset_alias_events
    assert alias_event.dest_asset_key.uri == uri
    assert alias_event.extra["outputs"] == ti.xcoms["apimart_task"]["outputs"]


def test_without_output_path_the_event_carries_the_video_urls(simulator: ApimartSimulator) -> None:
    asset = Asset("apimart_videos")
    ti = FakeTaskInstance()
    context, events = outlet_context(ti)
    ApimartWan27Operator(task_id="clip", prompt="a", poll_interval=0.05, outlets=[asset]).execute(context)
    assert events[asset].extra["video_urls"] == ti.xcoms["apimart_task"]["video_urls"]
    assert "outputs" not in events[asset].extra


def test_the_sensor_stores_too(simulator: ApimartSimulator, tmp_path: Path) -> None:
    remote_task_id = submit_remote_task()
    ti = FakeTaskInstance()
    sensor = ApimartTaskSensor(
        task_id="wait", remote_task_id=remote_task_id, poll_interval=0.05, output_path=str(tmp_path)
    )
    (uri,) = sensor.execute(make_context(ti))
    assert uri == (tmp_path / f"{remote_task_id}.mp4").as_uri()
    assert ti.xcoms["apimart_task"]["outputs"][0]["uri"] == uri


def test_an_operator_stores_into_s3_and_returns_s3_uris(
    simulator: ApimartSimulator, s3_store: S3Store
) -> None:
    ti = FakeTaskInstance()
    (uri,) = wan27(s3_store.uri).execute(make_context(ti)) or []
    remote_task_id = ti.xcoms["apimart_task_id"]
    assert uri == f"{s3_store.uri}/{remote_task_id}.mp4"
    stored_names = sorted(key.rsplit("/", 1)[1] for key in s3_store.keys())  # noqa: SIM118 - not a dict
    assert stored_names == [f"{remote_task_id}.json", f"{remote_task_id}.mp4"]
    assert ti.xcoms["apimart_task"]["outputs"][0]["uri"] == uri


def test_stored_files_are_reported_to_hook_lineage(
    simulator: ApimartSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[str] = []

    class Collector:
        def add_output_asset(self, *, context: object, uri: str) -> None:
            assert isinstance(context, ApimartHook)
            reported.append(uri)

    monkeypatch.setattr(publishing, "get_hook_lineage_collector", Collector)
    (uri,) = wan27(tmp_path).execute(make_context()) or []
    assert reported == [uri]
