"""The operators: one submit, three ways to wait, XComs, typed failures, and never paying twice."""

from __future__ import annotations

import inspect
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from airflow_provider_apimart.exceptions import (
    ApimartConfigurationError,
    ApimartResponseError,
    ApimartTaskCancelledError,
    ApimartTaskFailedError,
    ApimartTaskRejectedError,
    ApimartTaskTimeoutError,
    ApimartTaskWaitError,
    ApimartValidationError,
)
from airflow_provider_apimart.hooks.apimart import ApimartHook
from airflow_provider_apimart.links.video import ApimartStoredVideoLink, ApimartVideoLink
from airflow_provider_apimart.models import REQUEST_MODELS
from airflow_provider_apimart.operators import video
from airflow_provider_apimart.operators.submission import RECORD_VERSION, fingerprint
from airflow_provider_apimart.operators.video import (
    ApimartBaseVideoOperator,
    ApimartKlingV26Operator,
    ApimartVideoGenerationOperator,
    ApimartWan27Operator,
)
from airflow_provider_apimart.sensors.task import ApimartTaskSensor
from airflow_provider_apimart.task_state import SUBMIT_RECORD_STATE_KEY
from airflow_provider_apimart.testing import ApimartSimulator, Outcome
from airflow_provider_apimart.triggers.task import ApimartTaskTrigger
from airflow_provider_apimart.version_compat import AIRFLOW_V_3_3_PLUS, AirflowFailException
from tests.compat import TaskDeferred
from tests.unit.operators.fakes import FakeStateStore, FakeTaskInstance, make_context

if TYPE_CHECKING:
    from tests.conftest import SleepRecorder

needs_state_store = pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS,
    reason="task_state_store is new in Airflow 3.3; older versions rely on the key alone",
)

#: Every model with typed rules, by the registry: a model added there is tested here (or fails
#: test_every_model_with_typed_rules_has_its_operator).
MODEL_OPERATORS: list[type[ApimartBaseVideoOperator]] = [
    video.MODEL_OPERATORS[model] for model in REQUEST_MODELS if model in video.MODEL_OPERATORS
]


def wan27(**kwargs: Any) -> ApimartWan27Operator:
    return ApimartWan27Operator(
        **{"task_id": "generate", "prompt": "a coastal road", "poll_interval": 0.05, **kwargs}
    )


def posts(simulator: ApimartSimulator) -> int:
    return len(simulator.state.requests_to("POST", "/v1/videos/generations"))


# ---------------------------------------------------------------- the operators' shape


def test_every_model_with_typed_rules_has_its_operator() -> None:
    assert list(video.MODEL_OPERATORS) == list(REQUEST_MODELS)
    for model, operator_class in video.MODEL_OPERATORS.items():
        assert REQUEST_MODELS[model] is operator_class.request_model


@pytest.mark.parametrize("operator_class", MODEL_OPERATORS)
def test_each_operator_takes_exactly_its_models_documented_parameters(
    operator_class: type[ApimartBaseVideoOperator],
) -> None:
    documented = [name for name in operator_class.request_model.model_fields if name != "model"]
    assert list(operator_class.request_fields) == documented
    # The explicit signature an IDE shows: the same parameters, keyword-only, then **kwargs.
    spelled = [
        name
        for name, parameter in inspect.signature(operator_class.__init__).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    assert spelled == documented
    assert list(operator_class.template_fields) == [*documented, "output_path"]
    collections = {"image_urls", "image_with_roles", "video_urls"} & set(documented)
    assert operator_class.template_fields_renderers == dict.fromkeys(sorted(collections), "json")


def test_literal_invalid_values_fail_at_dag_parse_naming_the_task() -> None:
    with pytest.raises(ApimartValidationError, match=r"^Task 'k': invalid kling-v2-6 request"):
        ApimartKlingV26Operator(task_id="k", prompt="waves", duration=7)
    with pytest.raises(ApimartValidationError, match="audio=true needs mode='pro'"):
        ApimartKlingV26Operator(task_id="k", prompt="waves", audio=True)
    with pytest.raises(ApimartValidationError, match="duration"):
        ApimartVideoGenerationOperator(
            task_id="g", model="Omni-Flash-Ext", body={"prompt": "a", "duration": 5}
        )


def test_templated_values_are_checked_only_once_rendered(simulator: ApimartSimulator) -> None:
    operator = ApimartKlingV26Operator(task_id="k", prompt="waves", duration="{{ params.duration }}")
    operator.duration = "7"  # what rendering produced
    with pytest.raises(ApimartValidationError, match="duration"):
        operator.execute(make_context())
    assert posts(simulator) == 0


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"poll_interval": 0}, "poll_interval must be a finite number above 0"),
        ({"poll_interval": float("nan")}, "poll_interval must be a finite number above 0, got nan"),
        ({"poll_interval": float("inf")}, "poll_interval"),
        ({"poll_interval": "10"}, "poll_interval must be a number"),
        ({"first_poll_delay": -1}, "first_poll_delay must be a finite number at least 0"),
        ({"first_poll_delay": float("nan")}, "first_poll_delay"),
        ({"max_poll_interval": 5, "poll_interval": 10}, "max_poll_interval .at least poll_interval. must be"),
        ({"max_poll_interval": float("nan")}, "max_poll_interval"),
        ({"timeout": 0}, "timeout .seconds or a timedelta. must be a finite number above 0, got 0"),
        ({"timeout": -30}, "timeout"),
        ({"timeout": timedelta(0)}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"min_balance": float("nan")}, "min_balance must be a finite number at least 0"),
        ({"min_balance": -1}, "min_balance"),
    ],
)
def test_a_number_no_wait_can_use_fails_the_dag_at_parse_naming_task_and_argument(
    arguments: dict[str, Any], named: str, simulator: ApimartSimulator
) -> None:
    # nan polled with no delay at all; a timeout of 0 or less paid for a render and gave it up.
    with pytest.raises(ValueError, match=f"Task 'clip': {named}"):
        ApimartWan27Operator(task_id="clip", prompt="a", **arguments)
    assert posts(simulator) == 0


def test_a_sensor_timeout_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="Task 'watch': timeout must be a finite number above 0"):
        ApimartTaskSensor(task_id="watch", remote_task_id="task_1", timeout=0)


# ---------------------------------------------------------------- three ways to wait


def test_deferrable_submits_pushes_the_id_then_defers_to_the_trigger(simulator: ApimartSimulator) -> None:
    ti = FakeTaskInstance()
    operator = wan27(deferrable=True, timeout=600)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(make_context(ti))
    trigger = deferred.value.trigger
    assert isinstance(trigger, ApimartTaskTrigger)
    (paid,) = simulator.state.paid_submissions
    assert trigger.remote_task_id == paid.task_id == ti.xcoms["apimart_task_id"]
    assert trigger.apimart_conn_id == "apimart_default"
    _, stored = trigger.serialize()  # what the triggerer keeps in the metadata DB
    assert stored["poll_interval"] == 0.05
    assert stored["end_time"] is not None
    assert abs(stored["end_time"] - (time.time() + 600)) < 5
    assert deferred.value.method_name == "execute_complete"


def test_the_trigger_first_reads_when_the_operators_read_said(simulator: ApimartSimulator) -> None:
    """A render estimated at 300 s is not read again right after the deferral: the trigger's first
    read waits for the estimate, at most max_poll_interval (60 s)."""
    simulator.config.render_seconds = 300
    with pytest.raises(TaskDeferred) as deferred:
        wan27(deferrable=True).execute(make_context(FakeTaskInstance()))
    trigger = deferred.value.trigger
    assert isinstance(trigger, ApimartTaskTrigger)
    first_read_at = trigger.serialize()[1]["first_read_at"]
    assert first_read_at is not None
    assert 55 <= first_read_at - time.time() <= 60


def test_the_worker_loop_first_reads_when_the_operators_read_said(
    simulator: ApimartSimulator, recorded_sleeps: SleepRecorder
) -> None:
    simulator.config.render_seconds = 0.3
    simulator.config.estimated_time = 300  # the API expects a long render; it ends early
    assert wan27(deferrable=False).execute(make_context(FakeTaskInstance()))
    assert 29 <= recorded_sleeps.waits[0] <= 60  # within min(max_poll_interval, the estimate)


def test_polling_on_the_worker_returns_the_urls_and_the_summary(simulator: ApimartSimulator) -> None:
    ti = FakeTaskInstance()
    operator = wan27(deferrable=False)
    urls = operator.execute(make_context(ti))
    assert urls is not None
    (url,) = urls
    assert urlsplit(url).path.endswith(".mp4")
    summary = ti.xcoms["apimart_task"]
    assert summary["video_urls"] == urls
    assert summary["model"] == "wan2.7"
    assert summary["status"] == "completed"
    assert summary["cost"] == 0.4
    assert summary["remote_task_id"] == ti.xcoms["apimart_task_id"]
    assert summary["expires_at"] > time.time()
    assert ApimartVideoLink().get_link(operator, ti_key=None) == url
    assert ApimartStoredVideoLink().get_link(operator, ti_key=None) == ""
    assert summary["request"]["model"] == "wan2.7"
    assert summary["request"]["prompt"]


def test_wait_for_completion_false_submits_and_returns(simulator: ApimartSimulator) -> None:
    ti = FakeTaskInstance()
    assert wan27(wait_for_completion=False).execute(make_context(ti)) is None
    assert ti.xcoms["apimart_task_id"] == simulator.state.paid_submissions[0].task_id
    assert "apimart_task" not in ti.xcoms


def test_polling_on_the_worker_times_out_naming_the_remote_task(simulator: ApimartSimulator) -> None:
    simulator.config.render_seconds = 30
    with pytest.raises(ApimartTaskTimeoutError, match="task_") as caught:
        wan27(deferrable=False, timeout=0.3).execute(make_context())
    assert not isinstance(caught.value, AirflowFailException)


def test_a_render_failing_on_the_worker_is_a_typed_error_and_its_reason_is_recorded(
    simulator: ApimartSimulator,
) -> None:
    ti = FakeTaskInstance()
    with pytest.raises(ApimartTaskRejectedError, match="content_moderation") as caught:
        wan27(prompt="[simulate:moderated]").execute(make_context(ti))
    recorded = ti.xcoms["apimart_task"]
    assert recorded["status"] == "failed"
    assert recorded["error"] == {
        "reason": "content_moderation",
        "class": "ApimartTaskRejectedError",
        "message": str(caught.value),
    }
    assert recorded["request"] == {"model": "wan2.7", "prompt": "[simulate:moderated]"}
    assert recorded["remote_task_id"] == ti.xcoms["apimart_task_id"]


# ---------------------------------------------------------------- execute_complete


SUCCESS_EVENT_KEYS = {"status": "success", "reason": "completed", "message": "done"}


def test_success_event_fetches_the_urls(simulator: ApimartSimulator) -> None:
    operator = wan27(wait_for_completion=False)
    ti = FakeTaskInstance()
    operator.execute(make_context(ti))
    remote_task_id = ti.xcoms["apimart_task_id"]
    time.sleep(0.35)
    urls = operator.execute_complete(
        make_context(ti), {**SUCCESS_EVENT_KEYS, "remote_task_id": remote_task_id}
    )
    assert urls == ti.xcoms["apimart_task"]["video_urls"]


@pytest.mark.parametrize(
    "event", [None, {}, {"status": "finished"}, "success"], ids=["none", "empty", "unknown", "str"]
)
def test_missing_or_unknown_event_fails_loudly(event: Any) -> None:
    with pytest.raises(ApimartTaskWaitError, match="unexpected event"):
        wan27().execute_complete(make_context(), event)


@pytest.mark.parametrize(
    ("event", "error_class", "permanent"),
    [
        (
            {"status": "failed", "reason": "task_failed", "error_code": "task_failed"},
            ApimartTaskFailedError,
            False,
        ),
        (
            {"status": "failed", "reason": "content_moderation", "error_code": "x"},
            ApimartTaskRejectedError,
            True,
        ),
        ({"status": "failed", "reason": "invalid_input", "error_code": None}, ApimartTaskRejectedError, True),
        ({"status": "cancelled", "reason": "cancelled"}, ApimartTaskCancelledError, True),
        ({"status": "timeout", "reason": "deadline_exceeded"}, ApimartTaskTimeoutError, False),
        ({"status": "error", "reason": "authentication_failed"}, ApimartConfigurationError, True),
        ({"status": "error", "reason": "api_unreachable"}, ApimartTaskWaitError, False),
        ({"status": "error", "reason": "not_found"}, ApimartTaskWaitError, False),
    ],
)
def test_events_of_provider_0_1_still_map_to_typed_errors(
    event: dict[str, Any], error_class: type[Exception], permanent: bool
) -> None:
    full_event = {"remote_task_id": "task_XYZ", "message": "the API's words", **event}
    with pytest.raises(error_class) as caught:
        wan27().execute_complete(make_context(), full_event)
    assert isinstance(caught.value, AirflowFailException) is permanent
    assert "task_XYZ" in str(caught.value)


def test_failed_event_carries_the_api_message_and_code() -> None:
    event = {
        "status": "failed",
        "reason": "task_failed",
        "remote_task_id": "task_1",
        "message": "quota",
        "error_code": 7,
    }
    with pytest.raises(ApimartTaskFailedError) as caught:
        wan27().execute_complete(make_context(), event)
    assert (caught.value.error_code, caught.value.kind) == (7, "task_failed")
    assert "quota" in str(caught.value)


def test_completed_without_a_video_is_an_error_not_a_success(simulator: ApimartSimulator) -> None:
    from airflow_provider_apimart.models import TaskStatus

    with pytest.raises(ApimartResponseError, match="no video URL"):
        wan27().finish(
            make_context(), ApimartHook(), TaskStatus.model_validate({"id": "task_1", "status": "completed"})
        )


# ---------------------------------------------------------------- never paying twice


def test_idempotency_key_is_stable_across_tries_and_unique_per_logical_task(
    simulator: ApimartSimulator,
) -> None:
    keys = []
    for ti in (
        FakeTaskInstance(try_number=1),
        FakeTaskInstance(try_number=2),
        FakeTaskInstance(map_index=3),
        FakeTaskInstance(run_id="scheduled__2026-11-22"),
    ):
        wan27(wait_for_completion=False).execute(make_context(ti))
    keys = [
        post.headers["idempotency-key"]
        for post in simulator.state.requests_to("POST", "/v1/videos/generations")
    ]
    assert keys[0] == keys[1]
    assert len(set(keys)) == 3
    assert all(key.startswith("airflow-") and len(key) <= 191 for key in keys)
    assert simulator.state.paid_count() == 3  # the second try was replayed, not paid


def test_a_changed_request_gets_a_new_key(simulator: ApimartSimulator) -> None:
    wan27(wait_for_completion=False).execute(make_context())
    wan27(wait_for_completion=False, prompt="another road").execute(make_context())
    assert simulator.state.paid_count() == 2


@needs_state_store
def test_retry_reattaches_to_a_running_task_without_a_second_post(simulator: ApimartSimulator) -> None:
    simulator.config.render_seconds = 30
    store = FakeStateStore()
    with pytest.raises(TaskDeferred):
        wan27(deferrable=True).execute(make_context(FakeTaskInstance(try_number=1), store))
    ti = FakeTaskInstance(try_number=2)
    with pytest.raises(TaskDeferred) as deferred:
        wan27(deferrable=True).execute(make_context(ti, store))
    assert posts(simulator) == 1
    assert deferred.value.trigger.remote_task_id == store.values[SUBMIT_RECORD_STATE_KEY]["remote_task_id"]
    assert ti.xcoms["apimart_task_id"] == store.values[SUBMIT_RECORD_STATE_KEY]["remote_task_id"]


@needs_state_store
def test_retry_of_a_completed_task_returns_its_urls_without_any_post(simulator: ApimartSimulator) -> None:
    store = FakeStateStore()
    wan27(wait_for_completion=False).execute(make_context(FakeTaskInstance(try_number=1), store))
    time.sleep(0.35)
    ti = FakeTaskInstance(try_number=2)
    urls = wan27().execute(make_context(ti, store))
    assert posts(simulator) == 1
    assert urls == ti.xcoms["apimart_task"]["video_urls"]


@needs_state_store
@pytest.mark.parametrize("ending", [Outcome.FAILED, Outcome.CANCELLED])
def test_retry_after_a_failed_or_cancelled_task_submits_afresh_under_a_new_key(
    simulator: ApimartSimulator, ending: Outcome
) -> None:
    simulator.config.default_outcome = ending
    store = FakeStateStore()
    wan27(wait_for_completion=False).execute(make_context(FakeTaskInstance(try_number=1), store))
    time.sleep(0.35)
    simulator.config.default_outcome = Outcome.COMPLETED
    urls = wan27().execute(make_context(FakeTaskInstance(try_number=2), store))
    assert urls
    requests = simulator.state.requests_to("POST", "/v1/videos/generations")
    assert len(requests) == 2
    assert requests[0].headers["idempotency-key"] != requests[1].headers["idempotency-key"]


@needs_state_store
def test_retry_after_the_api_forgot_the_task_submits_afresh(simulator: ApimartSimulator) -> None:
    store = FakeStateStore(
        {SUBMIT_RECORD_STATE_KEY: {"remote_task_id": "task_GONE", "request_fingerprint": "x"}}
    )
    operator = wan27(wait_for_completion=False)
    store.values[SUBMIT_RECORD_STATE_KEY]["request_fingerprint"] = _fingerprint_of(operator)
    operator.execute(make_context(FakeTaskInstance(try_number=2), store))
    assert posts(simulator) == 1
    assert store.values[SUBMIT_RECORD_STATE_KEY]["remote_task_id"] != "task_GONE"


def test_a_replayed_failed_job_is_replaced_once_without_a_state_store(simulator: ApimartSimulator) -> None:
    # Airflow 3.1-3.2: no state store; the same key hands back the earlier failed job.
    simulator.config.default_outcome = Outcome.FAILED
    wan27(wait_for_completion=False).execute(make_context(FakeTaskInstance(try_number=1)))
    time.sleep(0.35)
    simulator.config.default_outcome = Outcome.COMPLETED
    assert wan27().execute(make_context(FakeTaskInstance(try_number=2)))
    assert posts(simulator) == 3  # first try, the replay of its failed job, the new job
    assert simulator.state.paid_count() == 2


def test_force_new_generation_pays_on_every_try(simulator: ApimartSimulator) -> None:
    store = FakeStateStore()
    for try_number in (1, 2):
        wan27(wait_for_completion=False, force_new_generation=True).execute(
            make_context(FakeTaskInstance(try_number=try_number), store)
        )
    assert simulator.state.paid_count() == 2


def _fingerprint_of(operator: ApimartBaseVideoOperator) -> str:
    return fingerprint(operator.build_request().to_body())


# ---------------------------------------------------------------- the generic operator


def test_generic_operator_sends_an_unknown_models_body_as_given(simulator: ApimartSimulator) -> None:
    ti = FakeTaskInstance()
    urls = ApimartVideoGenerationOperator(
        task_id="g", model="veo3", body={"prompt": "a", "enhance": True}, poll_interval=0.05
    ).execute(make_context(ti))
    assert urls
    (post,) = simulator.state.requests_to("POST", "/v1/videos/generations")
    assert post.body == {"prompt": "a", "enhance": True, "model": "veo3"}
    assert ti.xcoms["apimart_task"]["model"] == "veo3"


def test_generic_body_must_render_to_a_dict(simulator: ApimartSimulator) -> None:
    operator = ApimartVideoGenerationOperator(task_id="g", model="veo3", body="{{ params.body }}")
    operator.body = "not a dict"
    with pytest.raises(ApimartConfigurationError, match="body must render to a dict"):
        operator.execute(make_context())
    assert posts(simulator) == 0


# ---------------------------------------------------------------- exactly once, what a first user tripped on


def test_a_render_that_fails_at_once_is_not_paid_for_again(simulator: ApimartSimulator) -> None:
    # Seen with 0.1: 3 tasks, 6 paid jobs. A job that fails before the first look is this try's
    # outcome, not an earlier job the API replayed.
    simulator.config.render_seconds = 0
    simulator.config.default_outcome = Outcome.FAILED
    for map_index in range(3):
        with pytest.raises(ApimartTaskFailedError):
            wan27().execute(make_context(FakeTaskInstance(map_index=map_index)))
    assert posts(simulator) == 3
    assert len(simulator.state.paid_submissions) == 3


def test_a_replayed_submit_is_logged_as_a_replay_not_a_submit(
    simulator: ApimartSimulator, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    for try_number in (1, 2):
        wan27(wait_for_completion=False).execute(make_context(FakeTaskInstance(try_number=try_number)))
    logs = caplog.text + capsys.readouterr().out
    assert logs.count("Submitted a wan2.7 job") == 1
    assert "APIMart returned the wan2.7 job this task already submitted" in logs
    assert "no new charge" in logs
    assert simulator.state.paid_count() == 1


@needs_state_store
def test_a_retry_reattaches_with_a_record_written_by_provider_0_1(simulator: ApimartSimulator) -> None:
    simulator.config.render_seconds = 30
    operator = wan27(deferrable=True)
    remote_task_id = ApimartHook().submit_video(operator.build_request()).task_id
    store = FakeStateStore(
        {
            SUBMIT_RECORD_STATE_KEY: {
                "remote_task_id": remote_task_id,
                "request_fingerprint": _fingerprint_of(operator),
            }
        }
    )
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(make_context(FakeTaskInstance(try_number=2), store))
    assert deferred.value.trigger.remote_task_id == remote_task_id
    assert posts(simulator) == 1


@needs_state_store
def test_the_state_record_is_versioned_and_names_its_key(simulator: ApimartSimulator) -> None:
    store = FakeStateStore()
    wan27(wait_for_completion=False).execute(make_context(FakeTaskInstance(), store))
    record = store.values[SUBMIT_RECORD_STATE_KEY]
    (post,) = simulator.state.requests_to("POST", "/v1/videos/generations")
    assert record["version"] == RECORD_VERSION
    assert record["idempotency_key"] == post.headers["idempotency-key"]
    assert record["remote_task_id"] == simulator.state.paid_submissions[0].task_id


def test_the_hooks_an_operator_opens_are_closed(
    simulator: ApimartSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks: list[ApimartHook] = []
    original_init = ApimartHook.__init__

    def recording_init(self: ApimartHook, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        hooks.append(self)

    monkeypatch.setattr(ApimartHook, "__init__", recording_init)
    wan27(deferrable=False).execute(make_context())
    assert hooks
    assert all(hook._client is None for hook in hooks)


def test_a_missing_connection_is_a_configuration_error(simulator: ApimartSimulator) -> None:
    with pytest.raises(ApimartConfigurationError, match="'nowhere' does not exist") as caught:
        wan27(apimart_conn_id="nowhere").execute(make_context())
    assert isinstance(caught.value, AirflowFailException)
    assert posts(simulator) == 0
