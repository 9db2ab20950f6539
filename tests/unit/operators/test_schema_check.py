"""Every model checked against APIMart's schema before it is paid for, on the worker; strict or warn."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_apimart.decorators.video import ApimartVideoDecoratedOperator
from airflow_provider_apimart.exceptions import ApimartSchemaUnavailableError, ApimartValidationError
from airflow_provider_apimart.models.schemas import ModelSchema
from airflow_provider_apimart.operators.video import ApimartVideoGenerationOperator, ApimartWan27Operator
from airflow_provider_apimart.testing.catalogue import KLING_V3_SCHEMA, schema_answer
from airflow_provider_apimart.version_compat import AirflowFailException
from tests.unit.operators.fakes import FakeTaskInstance, make_context

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_apimart.testing import ApimartSimulator
    from tests.conftest import SleepRecorder


def generic(model: str = "kling-v3", **body: Any) -> ApimartVideoGenerationOperator:
    return ApimartVideoGenerationOperator(
        task_id="clip", model=model, body=body or {"prompt": "a fox"}, wait_for_completion=False
    )


def posts(simulator: ApimartSimulator) -> int:
    return len(simulator.state.requests_to("POST", "/v1/videos/generations"))


def schema_reads(simulator: ApimartSimulator) -> int:
    return len(simulator.state.requests_to("GET", "/v1/model-schema"))


def test_a_body_that_breaks_an_untyped_models_schema_sends_nothing(simulator: ApimartSimulator) -> None:
    operator = generic(prompt="a fox", duration=20, sound="yes", camera="dolly")
    with pytest.raises(ApimartValidationError) as caught:
        operator.execute(make_context())
    message = str(caught.value)
    assert isinstance(caught.value, AirflowFailException)
    assert message.startswith("Task 'clip': invalid kling-v3 request, nothing was sent to APIMart.")
    assert "duration: 20 is greater than the maximum of 15" in message
    assert "sound: 'yes' is not of type 'boolean'" in message
    assert "camera: Additional properties are not allowed" in message
    assert posts(simulator) == 0
    assert schema_reads(simulator) == 1


def test_a_body_that_matches_the_schema_is_submitted(simulator: ApimartSimulator) -> None:
    generic(prompt="a fox", duration=10, sound=True).execute(make_context())
    assert posts(simulator) == 1


def test_a_model_apimart_has_no_schema_for_is_refused_by_default(simulator: ApimartSimulator) -> None:
    with pytest.raises(
        ApimartValidationError, match=r"model: APIMart has no video_generation schema"
    ) as caught:
        generic("klingv3").execute(make_context())  # a typo
    assert "list_models()" in str(caught.value)
    assert posts(simulator) == 0


def test_schema_check_warn_sends_a_model_without_schema_unchecked(
    simulator: ApimartSimulator, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    simulator.config.schema_endpoint_status = 404  # as for a model APIMart publishes no schema for
    ti = FakeTaskInstance()
    ApimartVideoGenerationOperator(
        task_id="clip", model="kling-v3", body={"prompt": "a fox"}, schema_check="warn", poll_interval=0.05
    ).execute(make_context(ti))
    assert posts(simulator) == 1
    assert ti.xcoms["apimart_task"]["schema_sha256"] is None  # the record says nothing was checked
    assert "sending the request unchecked" in caplog.text + capsys.readouterr().out


def test_a_schema_outage_fails_the_try_of_an_untyped_model_and_a_retry_reads_again(
    simulator: ApimartSimulator, recorded_sleeps: SleepRecorder
) -> None:
    simulator.config.schema_endpoint_status = 503
    with pytest.raises(ApimartSchemaUnavailableError) as caught:
        generic().execute(make_context())
    assert not isinstance(caught.value, AirflowFailException)  # retried by Airflow, nothing paid
    assert "Task 'clip'" in str(caught.value)
    assert posts(simulator) == 0
    simulator.config.schema_endpoint_status = None
    generic().execute(make_context(FakeTaskInstance(try_number=2)))
    assert posts(simulator) == 1


def test_a_typed_model_goes_ahead_on_its_own_rules_when_the_schema_is_down(
    simulator: ApimartSimulator,
    recorded_sleeps: SleepRecorder,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    simulator.config.schema_endpoint_status = 503
    ApimartWan27Operator(task_id="clip", prompt="a fox", wait_for_completion=False).execute(make_context())
    assert posts(simulator) == 1
    assert "Could not read APIMart's schema for model wan2.7" in caplog.text + capsys.readouterr().out


def test_the_connection_can_make_every_task_strict(
    simulator: ApimartSimulator, monkeypatch: pytest.MonkeyPatch, recorded_sleeps: SleepRecorder
) -> None:
    conn = json.loads(simulator.connection_json())
    monkeypatch.setenv(
        "AIRFLOW_CONN_APIMART_DEFAULT", json.dumps({**conn, "extra": {"schema_check": "strict"}})
    )
    simulator.config.schema_endpoint_status = 503
    with pytest.raises(ApimartSchemaUnavailableError):
        ApimartWan27Operator(task_id="clip", prompt="a fox", wait_for_completion=False).execute(
            make_context()
        )
    assert posts(simulator) == 0


def test_a_mistyped_schema_check_fails_at_dag_parse() -> None:
    with pytest.raises(
        ValueError, match=r"Task 'clip': schema_check must be 'strict' or 'warn', got 'strcit'"
    ):
        ApimartWan27Operator(task_id="clip", prompt="a fox", schema_check="strcit")


def test_a_fan_out_in_one_process_reads_each_schema_once(simulator: ApimartSimulator) -> None:
    for map_index in range(5):
        generic().execute(make_context(FakeTaskInstance(map_index=map_index)))
    assert posts(simulator) == 5
    assert schema_reads(simulator) == 1


def test_the_taskflow_decorator_is_checked_the_same_way(simulator: ApimartSimulator) -> None:
    operator = ApimartVideoDecoratedOperator(
        task_id="clip", python_callable=lambda: {"prompt": "a", "duration": 99}, model="kling-v3"
    )
    with pytest.raises(ApimartValidationError, match="duration: 99 is greater than the maximum of 15"):
        operator.execute(make_context())
    assert posts(simulator) == 0


def test_the_provenance_record_names_the_schema_it_was_checked_against(
    simulator: ApimartSimulator, tmp_path: Path
) -> None:
    ti = FakeTaskInstance()
    ApimartVideoGenerationOperator(
        task_id="clip",
        model="kling-v3",
        body={"prompt": "a fox"},
        output_path=str(tmp_path),
        poll_interval=0.05,
    ).execute(make_context(ti))
    (record_path,) = tmp_path.glob("*.json")
    record = json.loads(record_path.read_text())
    schema = simulator.state.requests_to("GET", "/v1/model-schema")
    assert len(schema) == 1
    expected = ModelSchema.model_validate(schema_answer("kling-v3", KLING_V3_SCHEMA)).sha256
    assert record["submission"]["schema_sha256"] == expected
    assert ti.xcoms["apimart_task"]["schema_sha256"] == expected
