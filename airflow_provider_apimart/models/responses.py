"""What the API answers, read tolerantly: the docs disagree on several shapes
(docs/api-behaviour.md, "Where the model pages disagree").

Only what the provider cannot work without is required (a task id; a status). Every model
keeps fields it does not know (``extra="allow"``) so nothing the API adds is lost.
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from airflow_provider_apimart.models.images import require_web_url

log = logging.getLogger(__name__)


class TaskState(str, Enum):
    """A task's status as this provider understands it; ``UNKNOWN`` keeps polling."""

    SUBMITTED = "submitted"
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def ended_without_video(self) -> bool:
        """Over with nothing to hand on: a new try of the logical task submits afresh."""
        return self in (TaskState.FAILED, TaskState.CANCELLED)


TERMINAL_STATES = frozenset({TaskState.COMPLETED, TaskState.FAILED, TaskState.CANCELLED})

# Spellings seen in the docs and in APIMart's own client code, mapped to one state.
_STATE_ALIASES = {
    "canceled": TaskState.CANCELLED,
    "in_progress": TaskState.PROCESSING,
    "queued": TaskState.PENDING,  # the 2026-07-27 submit answer
}


def parse_state(raw_status: str) -> TaskState:
    """Case-insensitive status to state; anything unrecognised is ``UNKNOWN`` (non-terminal)."""
    normalised = raw_status.strip().lower()
    if normalised in _STATE_ALIASES:
        return _STATE_ALIASES[normalised]
    try:
        return TaskState(normalised)
    except ValueError:
        return TaskState.UNKNOWN


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


Number = int | float


# ---------------------------------------------------------------- submit: POST /v1/videos/generations


class SubmittedTaskEntry(_Lenient):
    """Shape A, on all four model pages: ``data`` is a list of ``{status, task_id}``."""

    task_id: Annotated[str, Field(min_length=1)]
    status: str | None = None


class SubmittedTaskObject(_Lenient):
    """Shape B (Veo3 page) and the 2026-07-27 response version: ``data`` is one object with ``id``.

    In the versioned answer ``object`` is ``generation.task`` (poll it) or ``generation.result``
    (a synchronous result, already terminal, in the shape of a task status).
    """

    id: str | None = None
    task_id: str | None = None
    status: str | None = None
    model: str | None = None
    object: str | None = None

    @model_validator(mode="after")
    def _has_an_id(self) -> SubmittedTaskObject:
        if not (self.id or self.task_id):
            raise ValueError("the submit answer's data object has neither 'id' nor 'task_id'")
        return self


#: ``data.object`` of a 2026-07-27 answer that is the result itself, not a task to poll.
SYNCHRONOUS_RESULT = "generation.result"


class SubmitResponse(_Lenient):
    """The answer to a submit, in any shape APIMart sends; ``task_id`` reads them all.

    ``replayed`` and ``response_version`` come from the answer's headers (set by the hook, never
    read from the body): ``Idempotency-Replayed: true`` means APIMart answered with the job an
    earlier submit under the same key made, so nothing new was paid.
    """

    code: int | str | None = None
    data: Annotated[list[SubmittedTaskEntry], Field(min_length=1)] | SubmittedTaskObject
    request_id: str | None = None
    replayed: bool = False
    response_version: str | None = None

    @property
    def task_id(self) -> str:
        if isinstance(self.data, list):
            return self.data[0].task_id
        return self.data.id or self.data.task_id or ""

    @property
    def status(self) -> str | None:
        return self.data[0].status if isinstance(self.data, list) else self.data.status

    @property
    def synchronous_result(self) -> TaskStatus | None:
        """The result of a ``generation.result`` answer, as a task status; None for a task to poll."""
        if isinstance(self.data, list) or self.data.object != SYNCHRONOUS_RESULT:
            return None
        fields = self.data.model_dump()
        return TaskStatus.model_validate({**fields, "id": self.task_id, "status": self.status or "completed"})


# ---------------------------------------------------------------- status: GET /v1/tasks/{task_id}


def _as_url_list(value: Any) -> Any:
    # result.videos[].url is a list in the current docs and a plain string in older ones.
    return [value] if isinstance(value, str) else value


class VideoOutput(_Lenient):
    url: Annotated[list[str], BeforeValidator(_as_url_list)] = Field(default_factory=list)
    expires_at: Number | None = None


class TaskResult(_Lenient):
    videos: list[VideoOutput] = Field(default_factory=list)


class FailureKind(str, Enum):
    """Why a render failed, as far as the API's words tell: decides whether a retry can help."""

    CONTENT_MODERATION = "content_moderation"  # the same request will be refused again
    INVALID_INPUT = "invalid_input"  # e.g. "invalid duration 7, must be one of 4/6/8/10"
    TASK_FAILED = "task_failed"  # upstream quota, upstream timeout, ...: may pass on a retry

    @property
    def is_permanent(self) -> bool:
        return self is not FailureKind.TASK_FAILED

    @property
    def advice(self) -> str:
        return _ADVICE[self]


# The API documents one failure code ("task_failed") and puts the cause in the message, in the
# language asked for (``?language=zh|en|ko|ja``), so the message is read for the causes the
# task-status page names. A moderation refusal read as a passing failure would pay for a new job
# on every retry, so the words lean wide: the cost of the mistake the other way is one retry.
_FAILURE_WORDS: dict[FailureKind, tuple[str, ...]] = {
    FailureKind.CONTENT_MODERATION: (
        # English
        "moderat", "content policy", "content_policy", "policy", "sensitive", "inappropriate",
        "safety", "unsafe", "nsfw", "prohibited", "forbidden content", "blocked", "flagged",
        "violat", "harmful", "censor", "explicit", "porn", "sexual",
        # Chinese
        "审核", "违规", "敏感", "违禁", "不合规", "不当", "色情", "涉黄", "暴力", "内容安全", "安全策略",
        "屏蔽", "违反", "审查",
        # Japanese
        "不適切", "ポリシー", "審査", "規約", "違反", "センシティブ", "禁止",
        # Korean
        "검열", "유해", "정책", "부적절", "위반", "금지", "민감",
    ),
    FailureKind.INVALID_INPUT: (
        "invalid", "must be one of", "not supported", "unsupported",
        "无效", "不支持", "参数错误", "非法参数",
        "無効", "サポートされていません", "不正なパラメータ",
        "유효하지 않", "지원되지 않", "잘못된 매개변수",
    ),
}  # fmt: skip
_ADVICE = {
    FailureKind.CONTENT_MODERATION: "Not retried: APIMart's moderation refuses the same prompt and images "
    "again (a retry would pay for a new job). Change them, then clear the task.",
    FailureKind.INVALID_INPUT: "Not retried: the same parameters fail again. Fix them, then clear the task.",
    FailureKind.TASK_FAILED: "An Airflow retry submits a new job (and pays for it).",
}


def failure_kind(*words: object) -> FailureKind:
    """The kind of failure the API's words (message, code, type) describe."""
    text = " ".join(str(word) for word in words if word is not None).lower()
    for kind, markers in _FAILURE_WORDS.items():
        if any(marker in text for marker in markers):
            return kind
    return FailureKind.TASK_FAILED


class TaskError(_Lenient):
    """``error`` of a failed task: ``code`` is a string in the docs and an int in other clients."""

    message: str | None = None
    code: int | str | None = None
    type: str | None = None

    @property
    def kind(self) -> FailureKind:
        return failure_kind(self.message, self.code, self.type)


class TaskStatus(_Lenient):
    """``data`` of a task-status answer. Only ``id`` and ``status`` are always present."""

    id: str
    status: str
    progress: Number | None = None
    created: Number | None = None
    completed: Number | None = None
    estimated_time: Number | None = None
    actual_time: Number | None = None
    cost: Number | None = None
    result: TaskResult | None = None
    error: TaskError | None = None

    @field_validator("status")
    @classmethod
    def _warn_on_unknown_status(cls, status: str) -> str:
        if parse_state(status) is TaskState.UNKNOWN:
            log.warning(
                "APIMart reported an undocumented task status %r; treating it as still running "
                "for now (a wait ends if it lasts).",
                status,
            )
        return status

    @property
    def state(self) -> TaskState:
        return parse_state(self.status)

    @property
    def is_terminal(self) -> bool:
        return self.state.is_terminal

    @property
    def video_urls(self) -> list[str]:
        """Every video URL of the result, in result order (empty until completed)."""
        if self.result is None:
            return []
        return [url for video in self.result.videos for url in video.url]

    @property
    def expires_at(self) -> Number | None:
        """When the first of the result URLs stops working (unix seconds), if the API said."""
        expiries = (
            [video.expires_at for video in self.result.videos if video.expires_at is not None]
            if self.result
            else []
        )
        return min(expiries, default=None)


# ---------------------------------------------------------------- balance: GET /v1/balance


class Balance(_Lenient):
    """The API key's balance; ``remain_balance`` is -1 when the quota is unlimited."""

    success: bool | None = None
    message: str | None = None
    remain_balance: Number | None = None
    used_balance: Number | None = None
    unlimited_quota: bool | None = None


# ---------------------------------------------------------------- upload: POST /v1/uploads/images


class UploadedImage(_Lenient):
    """The upload answer, a bare object without the ``code``/``data`` envelope
    (https://docs.apimart.ai/en/api-reference/uploads/images). ``url`` is valid for 72 hours
    from ``created_at`` (unix seconds); only ``url`` is required. The operator sends ``url`` in
    place of the stored file without validating the body again, so it must be a web URL here."""

    url: Annotated[str, AfterValidator(require_web_url)]
    filename: str | None = None
    content_type: str | None = None
    bytes: int | None = None
    created_at: Number | None = None
