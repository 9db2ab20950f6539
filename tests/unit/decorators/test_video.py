"""``@task.apimart_video``: the function's return value is the request; the rest is the operator."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest
from airflow.sdk import DAG, task
from airflow.sdk.bases.decorator import DecoratedMappedOperator
from airflow.sdk.definitions.xcom_arg import PlainXComArg

from airflow_provider_apimart.decorators.video import (
    RESUME_BODY_KWARG,
    ApimartVideoDecoratedOperator,
    apimart_video_task,
)
from airflow_provider_apimart.exceptions import ApimartValidationError
from airflow_provider_apimart.get_provider_info import get_provider_info
from airflow_provider_apimart.operators.video import (
    ApimartVideoGenerationOperator,
    ApimartWan27Operator,
)
from airflow_provider_apimart.task_state import SUBMIT_RECORD_STATE_KEY, TASKFLOW_REQUEST_STATE_KEY
from airflow_provider_apimart.triggers.task import ApimartTaskTrigger
from airflow_provider_apimart.version_compat import AIRFLOW_V_3_3_PLUS, AirflowFailException
from tests.compat import TaskDeferred
from tests.unit.operators.fakes import FakeStateStore, FakeTaskInstance, make_context

if TYPE_CHECKING:
    from pathlib import Path

    from airflow.sdk.definitions.xcom_arg import XComArg

    from airflow_provider_apimart.testing import ApimartSimulator

SUCCESS_EVENT = {"status": "success", "reason": "completed", "message": "done"}


def decorated(
    returns: Any, *, model: str = "wan2.7", calls: list[dict[str, Any]] | None = None, **kwargs: Any
) -> ApimartVideoDecoratedOperator:
    """The operator of ``@task.apimart_video(model=...)`` on a function returning ``returns``;
    each call of the function (its arguments, and the context's ``ti``) is added to ``calls``."""

    def generate(prompt: str = "unused", ti: Any = None) -> Any:
        if calls is not None:
            calls.append({"prompt": prompt, "ti": ti})
        return returns

    return operator_of(apimart_video_task(model=model, poll_interval=0.05, **kwargs)(generate)())


def operator_of(output: XComArg) -> ApimartVideoDecoratedOperator:
    assert isinstance(output, PlainXComArg)
    assert isinstance(output.operator, ApimartVideoDecoratedOperator)
    return output.operator


def posted_bodies(simulator: ApimartSimulator) -> list[dict[str, Any] | None]:
    return [post.body for post in simulator.state.requests_to("POST", "/v1/videos/generations")]


# ---------------------------------------------------------------- registration and shape


def test_registered_as_task_apimart_video_through_provider_discovery() -> None:
    assert get_provider_info()["task-decorators"] == [
        {
            "name": "apimart_video",
            "class-name": "airflow_provider_apimart.decorators.video.apimart_video_task",
        }
    ]
    assert task.apimart_video is apimart_video_task


def test_model_is_required_and_body_and_multiple_outputs_are_refused() -> None:
    with pytest.raises(TypeError, match="model"):
        apimart_video_task(lambda: "a fox")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="multiple_outputs"):
        apimart_video_task(model="wan2.7", multiple_outputs=True)
    with pytest.raises(TypeError, match="takes no body"):
        decorated("a fox", body={"prompt": "b"})


def test_a_dict_return_annotation_does_not_turn_on_multiple_outputs() -> None:
    @task.apimart_video(model="wan2.7")
    def clip(prompt: str) -> dict[str, Any]:
        return {"prompt": prompt}

    assert operator_of(clip("a fox")).multiple_outputs is False


def test_templated_fields_are_the_functions_arguments_and_the_operators() -> None:
    assert set(ApimartVideoDecoratedOperator.template_fields) == {
        "op_args", "op_kwargs", "model", "body", "output_path",
    }  # fmt: skip
    assert ApimartVideoDecoratedOperator.overwrite_rtif_after_execution


def test_nothing_is_validated_at_dag_parse_even_for_literal_arguments() -> None:
    operator = decorated({"prompt": "waves", "duration": 7}, model="kling-v2-6")
    assert operator.body == {}


def test_expand_maps_over_the_functions_arguments() -> None:
    with DAG("mapped", schedule=None):

        @task.apimart_video(model="wan2.7", deferrable=True)
        def clip(prompt: str) -> str:
            return prompt

        output = clip.expand(prompt=["a fox", "a boat", "a kite"])
    assert isinstance(output, PlainXComArg)
    mapped = output.operator
    assert isinstance(mapped, DecoratedMappedOperator)
    assert mapped.operator_class is ApimartVideoDecoratedOperator
    assert mapped.multiple_outputs is False
    assert mapped.partial_kwargs["model"] == "wan2.7"
    assert mapped.partial_kwargs["deferrable"] is True


# ---------------------------------------------------------------- the request is the function's value


def test_the_functions_dict_is_sent_as_the_body(simulator: ApimartSimulator) -> None:
    decorated({"prompt": "a coastal road", "duration": 5, "resolution": "720P"}).execute(make_context())
    assert posted_bodies(simulator) == [
        {"model": "wan2.7", "prompt": "a coastal road", "duration": 5, "resolution": "720P"}
    ]


def test_a_string_becomes_the_prompt(simulator: ApimartSimulator) -> None:
    decorated("a coastal road", model="kling-v2-6").execute(make_context())
    assert posted_bodies(simulator) == [{"model": "kling-v2-6", "prompt": "a coastal road"}]


def test_none_values_are_left_out_like_unset_operator_arguments(simulator: ApimartSimulator) -> None:
    decorated({"prompt": "a fox", "duration": None, "model": "wan2.7"}).execute(make_context())
    assert posted_bodies(simulator) == [{"model": "wan2.7", "prompt": "a fox"}]


def test_an_undocumented_model_gets_the_body_as_given(simulator: ApimartSimulator) -> None:
    ti = FakeTaskInstance()
    decorated({"prompt": "a", "enhance": True}, model="veo3").execute(make_context(ti))
    assert posted_bodies(simulator) == [{"prompt": "a", "enhance": True, "model": "veo3"}]
    assert ti.xcoms["apimart_task"]["model"] == "veo3"


def test_the_function_gets_its_arguments_and_the_context(simulator: ApimartSimulator) -> None:
    ti, calls = FakeTaskInstance(), list[dict[str, Any]]()
    decorated("a fox", wait_for_completion=False, calls=calls).execute(make_context(ti))
    assert calls == [{"prompt": "unused", "ti": ti}]


def test_the_functions_arguments_are_templated(simulator: ApimartSimulator) -> None:
    @task.apimart_video(model="wan2.7", wait_for_completion=False)
    def clip(subject: str, light: str) -> str:
        return f"{subject} at {light}"

    operator = operator_of(clip("{{ params.subject }}", light="{{ params.light }}"))
    context = make_context()
    context["params"] = {"subject": "a fox", "light": "dusk"}
    operator.render_template_fields(context)
    operator.execute(context)
    assert posted_bodies(simulator) == [{"model": "wan2.7", "prompt": "a fox at dusk"}]


# ---------------------------------------------------------------- a bad request costs nothing


@pytest.mark.parametrize(
    ("model", "returns", "match"),
    [
        (
            "kling-v2-6",
            {"prompt": "waves", "duration": 7},
            r"^Task 'generate': invalid kling-v2-6 request.*duration",
        ),
        ("wan2.6-i2v-flash", "a portrait turning", r"invalid wan2.6-i2v-flash request.*image_urls"),
        ("wan2.7", {"prompt": "a", "colour": "red"}, r"colour: is not a parameter"),
        ("wan2.7", 42, r"return value: .*a dict of API parameters or a prompt string, got int"),
        ("wan2.7", None, r"return value: .*got NoneType"),
        ("wan2.7", ["a fox"], r"return value: .*got list"),
        ("wan2.7", {1: "a"}, r"return value"),
        (
            "wan2.7",
            {"prompt": "a", "model": "kling-v2-6"},
            r"model: the function returned model 'kling-v2-6'",
        ),
        ("veo3", {"prompt": "a", "model": ""}, r"model: the function returned model ''"),
    ],
    ids=["rule", "missing", "unknown", "int", "none", "list", "key", "other-model", "empty-model"],
)
def test_an_invalid_request_fails_before_any_http_call_naming_the_task(
    simulator: ApimartSimulator, model: str, returns: Any, match: str
) -> None:
    operator = decorated(returns, model=model, task_id="generate")
    with pytest.raises(ApimartValidationError, match=match) as caught:
        operator.execute(make_context())
    assert caught.value.task_id == "generate"
    assert isinstance(caught.value, AirflowFailException)
    assert simulator.state.requests == []


# ---------------------------------------------------------------- the operator's behaviour, unchanged


def test_xcoms_and_idempotency_key_are_the_operators(simulator: ApimartSimulator) -> None:
    by_decorator, by_operator = FakeTaskInstance(), FakeTaskInstance()
    urls = decorated({"prompt": "a coastal road", "duration": 5}, task_id="generate").execute(
        make_context(by_decorator)
    )
    ApimartWan27Operator(task_id="generate", prompt="a coastal road", duration=5, poll_interval=0.05).execute(
        make_context(by_operator)
    )
    # The same logical task and request: the same key, so the operator's submit was a replay.
    first, second = simulator.state.requests_to("POST", "/v1/videos/generations")
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert simulator.state.paid_count() == 1
    decorator_summary, operator_summary = (
        by_decorator.xcoms["apimart_task"],
        by_operator.xcoms["apimart_task"],
    )
    # Only what each answer said differs: its request id, and that the second was a replay.
    assert (decorator_summary["replayed"], operator_summary["replayed"]) == (False, True)
    answer_fields = {"request_id", "replayed"}
    assert {k: v for k, v in decorator_summary.items() if k not in answer_fields} == {
        k: v for k, v in operator_summary.items() if k not in answer_fields
    }
    assert by_decorator.xcoms["apimart_task_id"] == by_operator.xcoms["apimart_task_id"]
    assert urls == by_decorator.xcoms["apimart_task"]["video_urls"]
    assert set(by_decorator.xcoms) == {"apimart_task_id", "apimart_task"}


def test_wait_for_completion_false_submits_and_returns(simulator: ApimartSimulator) -> None:
    ti = FakeTaskInstance()
    assert decorated("a fox", wait_for_completion=False).execute(make_context(ti)) is None
    assert ti.xcoms == {"apimart_task_id": simulator.state.paid_submissions[0].task_id}


def test_deferrable_defers_with_the_request_and_resumes_without_calling_the_function(
    simulator: ApimartSimulator, tmp_path: Path
) -> None:
    body = {"prompt": "a coastal road", "duration": 5}
    ti = FakeTaskInstance()
    operator = decorated(body, deferrable=True, output_path=str(tmp_path))
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(make_context(ti))
    trigger = deferred.value.trigger
    assert isinstance(trigger, ApimartTaskTrigger)
    assert trigger.remote_task_id == ti.xcoms["apimart_task_id"]
    assert deferred.value.method_name == "execute_complete"
    resume_kwargs = deferred.value.kwargs or {}
    assert resume_kwargs[RESUME_BODY_KWARG] == body
    assert resume_kwargs["apimart_submission"]["remote_task_id"] == trigger.remote_task_id
    time.sleep(0.35)
    # A resumed task is a fresh instance (its body unset) given the deferral's kwargs.
    calls: list[dict[str, Any]] = []
    resumed = decorated(body, deferrable=True, output_path=str(tmp_path), calls=calls)
    event = {**SUCCESS_EVENT, "remote_task_id": trigger.remote_task_id}
    (uri,) = resumed.execute_complete(make_context(ti), event, **(deferred.value.kwargs or {}))
    assert calls == []
    record = json.loads((tmp_path / f"{trigger.remote_task_id}.json").read_text())
    assert record["request"] == {"model": "wan2.7", **body}
    # What the submit answered reached the resumed process through the deferral.
    assert record["submission"]["response_version"] == "2026-07-27"
    assert record["submission"]["request_id"] == ti.xcoms["apimart_task"]["request_id"]
    assert uri == (tmp_path / f"{trigger.remote_task_id}.mp4").as_uri()
    assert ti.xcoms["apimart_task"]["outputs"][0]["uri"] == uri


@pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="task_state_store is new in Airflow 3.3")
def test_a_resume_without_the_deferral_kwargs_finds_the_request_in_the_state_store(
    simulator: ApimartSimulator, tmp_path: Path
) -> None:
    # dag.test() drops next_kwargs when its inline trigger fires (before apache/airflow#69942).
    store, ti = FakeStateStore(), FakeTaskInstance()
    with pytest.raises(TaskDeferred):
        decorated("a fox", deferrable=True, output_path=str(tmp_path)).execute(make_context(ti, store))
    assert store.values[TASKFLOW_REQUEST_STATE_KEY] == {"prompt": "a fox"}
    time.sleep(0.35)
    remote_task_id = ti.xcoms["apimart_task_id"]
    resumed = decorated("a fox", deferrable=True, output_path=str(tmp_path))
    resumed.execute_complete(make_context(ti, store), {**SUCCESS_EVENT, "remote_task_id": remote_task_id})
    record = json.loads((tmp_path / f"{remote_task_id}.json").read_text())
    assert record["request"] == {"model": "wan2.7", "prompt": "a fox"}


def test_a_resume_with_no_request_at_all_still_stores_the_paid_video(
    simulator: ApimartSimulator, tmp_path: Path
) -> None:
    # Only dag.test() on Airflow < 3.3 gets here: no next_kwargs, no state store.
    ti = FakeTaskInstance()
    decorated("a fox", wait_for_completion=False).execute(make_context(ti))
    time.sleep(0.35)
    remote_task_id = ti.xcoms["apimart_task_id"]
    resumed = decorated("a fox", deferrable=True, output_path=str(tmp_path))
    (uri,) = resumed.execute_complete(make_context(ti), {**SUCCESS_EVENT, "remote_task_id": remote_task_id})
    assert uri == (tmp_path / f"{remote_task_id}.mp4").as_uri()
    record = json.loads((tmp_path / f"{remote_task_id}.json").read_text())
    assert record["request"] is None
    assert record["model"] == "wan2.7"
    assert ti.xcoms["apimart_task"]["request"] is None  # the UI says nothing rather than guess


@pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="task_state_store is new in Airflow 3.3")
def test_a_retry_calls_the_function_again_and_reattaches_without_a_second_post(
    simulator: ApimartSimulator,
) -> None:
    simulator.config.render_seconds = 30
    store = FakeStateStore()
    with pytest.raises(TaskDeferred):
        decorated("a slow render", deferrable=True).execute(make_context(FakeTaskInstance(), store))
    calls: list[dict[str, Any]] = []
    retry = decorated("a slow render", deferrable=True, calls=calls)
    with pytest.raises(TaskDeferred) as deferred:
        retry.execute(make_context(FakeTaskInstance(try_number=2), store))
    assert len(calls) == 1
    assert len(posted_bodies(simulator)) == 1
    assert deferred.value.trigger.remote_task_id == store.values[SUBMIT_RECORD_STATE_KEY]["remote_task_id"]


def test_force_new_generation_pays_on_every_try(simulator: ApimartSimulator) -> None:
    for try_number in (1, 2):
        decorated("a fox", wait_for_completion=False, force_new_generation=True).execute(
            make_context(FakeTaskInstance(try_number=try_number))
        )
    assert simulator.state.paid_count() == 2


def test_the_generic_operator_and_the_decorator_share_execute() -> None:
    # The decorator reuses the operator's submit and wait: nothing of them is redefined here.
    for name in ("_reattach_or_submit", "_submit", "wait_for_task", "conclude", "finish", "build_request"):
        assert getattr(ApimartVideoDecoratedOperator, name) is getattr(ApimartVideoGenerationOperator, name)
