"""How the simulator behaves: time, money, limits, outcomes and faults. Change it while it runs."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

#: A scenario chosen from a DAG, with no code: put ``[simulate:failed]`` in the prompt.
OUTCOME_MARKER = re.compile(r"\[simulate:(?P<outcome>[a-z_]+)\]")


DEFAULT_MODERATION_MESSAGE = (
    "The request was rejected by content moderation: the prompt or an input image breaks the usage policy"
)


class Outcome(str, Enum):
    """How a simulated render ends."""

    COMPLETED = "completed"
    FAILED = "failed"  # the documented failure example: error.code "task_failed", cost 0
    MODERATED = "moderated"  # failed, with a content-moderation message
    CANCELLED = "cancelled"


class Fault(str, Enum):
    """A failure injected into an API call; media downloads have their own knobs (``media_*``)."""

    HTTP_500 = "500"  # answered before anything is processed
    HTTP_502 = "502"
    HTTP_503 = "503"
    DROP = "drop"  # processed (a submit creates and bills its job), then the answer is cut off
    SLOW = "slow"  # answered correctly after ``slow_seconds``
    HTTP_429 = "429"  # answered 429 with Retry-After (``retry_after_seconds``), nothing processed
    RESET = "reset"  # the connection is reset (TCP RST) before anything is processed or answered


#: Scripted answers to a submit that carries an Idempotency-Key (``idempotency_answers``):
#: 409 ``idempotency_in_progress`` / ``idempotency_key_reused`` / ``idempotency_result_indeterminate``,
#: or 503 ``idempotency_unavailable``. None of them creates or charges a job.
IdempotencyAnswer = Literal["in_progress", "key_reused", "result_indeterminate", "unavailable"]

#: The faults drawn unless ``faults`` says otherwise.
DEFAULT_FAULTS = (Fault.HTTP_500, Fault.HTTP_502, Fault.HTTP_503, Fault.DROP, Fault.SLOW)
#: Every fault the simulator can inject; ``429`` and ``reset`` are drawn only when asked for.
ALL_FAULTS = tuple(Fault)


@dataclass
class SimulatorConfig:
    """Scenario knobs; the defaults behave like a healthy API with a fast render.

    A test may change any field on ``simulator.config`` while the server runs.
    """

    #: The only key the simulator accepts as ``Authorization: Bearer <key>``.
    api_key: str = "apimart-simulator-key"
    #: Real seconds from submit to a finished render.
    render_seconds: float = 1.0
    #: What the API says a render takes, in the answer's ``estimated_time``. None: the render time
    #: itself (a render that meets its estimate); set it to simulate renders that beat or miss it.
    estimated_time: float | None = None

    def reported_estimate(self) -> float:
        """The ``estimated_time`` the simulator reports for a new task."""
        if self.estimated_time is not None:
            return self.estimated_time
        return math.ceil(self.render_seconds) if self.render_seconds >= 1 else round(self.render_seconds, 3)

    #: Starting balance; each paid submit takes ``cost_per_video``, a failed render refunds it.
    balance: float = 100.0
    cost_per_video: float = 0.4
    #: API requests allowed per second, across all callers; more get 429 with Retry-After.
    rate_limit_per_second: float | None = None
    retry_after_seconds: int = 1
    #: The submit answer without ``X-APIMart-Response-Version``: ``data`` as a list (all model
    #: pages) or as an object (Veo3 page). A request for version 2026-07-27 always gets its object.
    submit_response_shape: Literal["list", "object"] = "list"
    #: Version 2026-07-27 submits are answered ``generation.result``: the finished result at once.
    synchronous_results: bool = False
    #: The next submits with an Idempotency-Key get these answers, one each, in order (see
    #: ``IdempotencyAnswer``); a second submit under a key whose first is still held is answered
    #: ``idempotency_in_progress`` for real.
    idempotency_answers: tuple[IdempotencyAnswer, ...] = ()
    #: Seconds added to the ``created`` and ``completed`` stamps tasks report: an APIMart clock
    #: behind (negative) or ahead of the worker's.
    clock_offset_seconds: float = 0.0
    #: ``/v1/model-schema`` answers this HTTP status instead of a schema (a schema outage).
    schema_endpoint_status: int | None = None
    #: More models on offer, by id, each with the JSON Schema of its body (``model`` left out).
    extra_models: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: How renders end, unless the prompt carries an ``[simulate:<outcome>]`` marker.
    default_outcome: Outcome = Outcome.COMPLETED
    #: What a moderated render's ``error.message`` says: APIMart words it in the language asked
    #: for, and its wording varies (``NSFW``, ``Blocked by policy``, ``内容审核未通过``).
    moderation_message: str = DEFAULT_MODERATION_MESSAGE
    #: Seconds a result URL stays valid after completion; 0 or less gives already-expired URLs.
    result_url_ttl: float = 86_400
    #: Whether a status read of a completed task whose URL expired signs a fresh one (now + ttl),
    #: as re-reading the task would on an API that re-signs; False keeps the expired URL.
    renew_expired_urls: bool = False
    #: ``/v1/balance`` reports ``-1`` and ``unlimited_quota: true``, and submits never get 402.
    unlimited_quota: bool = False
    #: Size of every result video; None serves the bundled 4.5 KB sample. Larger files start with
    #: the sample (a real ``ftyp`` box) and go on with filler that depends on (task id, offset).
    media_bytes: int | None = None
    media_content_type: str = "video/mp4"
    #: The next ``media_errors_remaining`` media requests get 503 (each one counts down).
    media_errors_remaining: int = 0
    #: The next ``media_drops_remaining`` media answers longer than ``media_drop_after_bytes``
    #: lose their connection after that many body bytes (each one counts down).
    media_drop_after_bytes: int | None = None
    media_drops_remaining: int = 0
    #: Share of API calls that get a fault from ``faults``, chosen at random (seeded by ``seed``).
    fault_rate: float = 0.0
    faults: tuple[Fault, ...] = field(default_factory=lambda: DEFAULT_FAULTS)
    slow_seconds: float = 2.0
    seed: int | None = None
    #: A submit that creates a new job (already billed) is answered this many seconds later, or
    #: when its client goes away if sooner; a replay is not held. A system test kills the
    #: submitting process in that window; a second submit under the key meanwhile is in_progress.
    submit_hold_seconds: float = 0.0
