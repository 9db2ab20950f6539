"""Reading the API's answers in every shape the docs show (docs/api-behaviour.md)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import ValidationError

from airflow_provider_apimart.models import SubmitResponse, TaskState, TaskStatus, UploadedImage

COMPLETED_EXAMPLE: dict[str, Any] = {  # the Omni-Flash-Ext page, "Successful Result Example"
    "id": "task_01KS1H7ZYSJWH1N779S2FSHTKA",
    "status": "completed",
    "progress": 100,
    "created": 1779246294,
    "completed": 1779246534,
    "actual_time": 240,
    "estimated_time": 600,
    "cost": 0.4,
    "result": {"videos": [{"url": ["https://cdn.example.com/videos/abc.mp4"], "expires_at": 1779332760}]},
}
FAILED_EXAMPLE: dict[str, Any] = {  # the Omni-Flash-Ext page, "Failed Result Example"
    "id": "task_01KS1H7ZYSJWH1N779S2FSHTKA",
    "status": "failed",
    "progress": 100,
    "created": 1779246294,
    "completed": 1779246534,
    "actual_time": 240,
    "estimated_time": 600,
    "cost": 0,
    "error": {"message": "invalid duration 7, must be one of 4/6/8/10", "code": "task_failed"},
}


def test_submit_answer_with_data_list() -> None:
    answer = SubmitResponse.model_validate(
        {"code": 200, "data": [{"status": "submitted", "task_id": "task_01J9HA7JPQ9A0Z6JZ3V8M9W6PZ"}]}
    )
    assert answer.task_id == "task_01J9HA7JPQ9A0Z6JZ3V8M9W6PZ"
    assert answer.status == "submitted"


def test_submit_answer_with_data_object() -> None:
    answer = SubmitResponse.model_validate(
        {
            "code": 200,
            "data": {
                "id": "task_01K8",
                "object": "video.generation.task",
                "model": "veo3",
                "status": "pending",
                "progress": 0,
                "created": 1757000000,
                "type": "video",
                "task_info": {"can_cancel": True, "estimated_time": 300},
            },
        }
    )
    assert answer.task_id == "task_01K8"
    assert answer.status == "pending"


def test_submit_answer_object_with_task_id_instead_of_id() -> None:
    assert SubmitResponse.model_validate({"data": {"task_id": "task_x"}}).task_id == "task_x"


@pytest.mark.parametrize(
    "payload",
    [{"code": 200, "data": []}, {"code": 200, "data": {"status": "pending"}}, {"code": 200}],
    ids=["empty list", "object without id", "no data"],
)
def test_submit_answer_without_a_task_id_is_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SubmitResponse.model_validate(payload)


def test_completed_example_gives_urls_expiry_and_cost() -> None:
    status = TaskStatus.model_validate(COMPLETED_EXAMPLE)
    assert status.state is TaskState.COMPLETED
    assert status.is_terminal
    assert status.video_urls == ["https://cdn.example.com/videos/abc.mp4"]
    assert status.expires_at == 1779332760
    assert status.cost == 0.4
    assert status.actual_time == 240


def test_failed_example_keeps_the_string_error_code() -> None:
    status = TaskStatus.model_validate(FAILED_EXAMPLE)
    assert status.state is TaskState.FAILED
    assert status.error is not None
    assert status.error.code == "task_failed"
    assert status.error.message == "invalid duration 7, must be one of 4/6/8/10"
    assert status.video_urls == []


def test_integer_error_code_and_type_are_accepted() -> None:
    status = TaskStatus.model_validate(
        {
            "id": "t",
            "status": "failed",
            "error": {"code": 1301, "message": "moderated", "type": "content_policy"},
        }
    )
    assert status.error is not None
    assert (status.error.code, status.error.type) == (1301, "content_policy")


def test_result_url_as_a_plain_string() -> None:
    status = TaskStatus.model_validate(
        {
            "id": "t",
            "status": "completed",
            "result": {"videos": [{"url": "https://a/1.mp4", "expires_at": 5}]},
        }
    )
    assert status.video_urls == ["https://a/1.mp4"]


def test_video_urls_keep_result_order_and_expiry_is_the_earliest() -> None:
    status = TaskStatus.model_validate(
        {
            "id": "t",
            "status": "completed",
            "result": {
                "videos": [
                    {"url": ["https://a/1.mp4", "https://a/2.mp4"], "expires_at": 300},
                    {"url": "https://a/3.mp4", "expires_at": 200},
                ]
            },
        }
    )
    assert status.video_urls == ["https://a/1.mp4", "https://a/2.mp4", "https://a/3.mp4"]
    assert status.expires_at == 200


def test_only_id_and_status_are_required() -> None:
    status = TaskStatus.model_validate({"id": "t", "status": "pending"})
    assert (status.progress, status.cost, status.result, status.error, status.expires_at) == (None,) * 5
    with pytest.raises(ValidationError):
        TaskStatus.model_validate({"id": "t"})


def test_unknown_fields_are_kept() -> None:
    status = TaskStatus.model_validate({"id": "t", "status": "pending", "queue_position": 3})
    assert status.model_extra == {"queue_position": 3}


@pytest.mark.parametrize(
    ("raw", "state", "terminal"),
    [
        ("submitted", TaskState.SUBMITTED, False),
        ("pending", TaskState.PENDING, False),
        ("processing", TaskState.PROCESSING, False),
        ("in_progress", TaskState.PROCESSING, False),
        ("COMPLETED", TaskState.COMPLETED, True),
        ("failed", TaskState.FAILED, True),
        ("cancelled", TaskState.CANCELLED, True),
        ("canceled", TaskState.CANCELLED, True),
    ],
)
def test_status_values_map_to_states(raw: str, state: TaskState, terminal: bool) -> None:
    status = TaskStatus.model_validate({"id": "t", "status": raw})
    assert (status.state, status.is_terminal) == (state, terminal)


def test_unknown_status_keeps_polling_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        status = TaskStatus.model_validate({"id": "t", "status": "queued_upstream"})
    assert status.state is TaskState.UNKNOWN
    assert not status.is_terminal
    assert "undocumented task status 'queued_upstream'" in caplog.text


@pytest.mark.parametrize(
    ("error", "kind", "permanent"),
    [
        (
            {"message": "invalid duration 7, must be one of 4/6/8/10", "code": "task_failed"},
            "invalid_input",
            True,
        ),
        ({"message": "Rejected by content moderation", "code": "task_failed"}, "content_moderation", True),
        ({"message": "blocked", "code": "content_policy_violation"}, "content_moderation", True),
        ({"message": "upstream quota temporarily exhausted", "code": "task_failed"}, "task_failed", False),
        ({"message": "upstream timeout", "code": 5001}, "task_failed", False),
        ({}, "task_failed", False),
    ],
)
def test_failure_kind_decides_whether_a_retry_can_help(
    error: dict[str, Any], kind: str, permanent: bool
) -> None:
    from airflow_provider_apimart.models import TaskError

    failure = TaskError.model_validate(error)
    assert (failure.kind.value, failure.kind.is_permanent) == (kind, permanent)


def test_upload_answer_is_read_without_an_envelope_and_leniently() -> None:
    answer = {
        "url": "https://upload.apimart.ai/f/1.png",
        "filename": "cat.png",
        "content_type": "image/png",
        "bytes": 2072,
        "created_at": 1767225600,
        "expires_at": 1767484800,
    }
    uploaded = UploadedImage.model_validate(answer)
    assert (uploaded.url, uploaded.bytes, uploaded.created_at) == (answer["url"], 2072, 1767225600)
    assert uploaded.model_extra == {"expires_at": 1767484800}
    assert UploadedImage.model_validate({"url": "https://u/x.png"}).created_at is None
