"""``@task.apimart_video``: a TaskFlow function returns the request, the operator pays for it once.

The function runs on the worker with the task's (templated) arguments and returns either a dict of
API parameters or a prompt string. Everything after that is
:class:`~airflow_provider_apimart.operators.video.ApimartVideoGenerationOperator`'s own execute:
the same validation before any request, Idempotency-Key, reattach on retry, waiting, XComs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from airflow.sdk.bases.decorator import DecoratedOperator, task_decorator_factory
from airflow.sdk.definitions.context import context_merge

from airflow_provider_apimart.exceptions import ApimartValidationError
from airflow_provider_apimart.operators.video import ApimartVideoGenerationOperator
from airflow_provider_apimart.task_state import TASKFLOW_REQUEST_STATE_KEY, state_store
from airflow_provider_apimart.waiting.outcome import ApimartWaitMixin

try:
    from airflow.sdk.bases.decorator import determine_kwargs
except ImportError:  # pragma: no cover - Airflow 3.1 keeps it in airflow.utils
    from airflow.utils.operator_helpers import (  # type: ignore[no-redef,attr-defined,unused-ignore]
        determine_kwargs,
    )

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence
    from datetime import timedelta

    from airflow.sdk import Context
    from airflow.sdk.bases.decorator import TaskDecorator
    from airflow.triggers.base import BaseTrigger

    from airflow_provider_apimart.task_state import StateStore

__all__ = ["ApimartVideoDecoratedOperator", "apimart_video_task"]

#: The ``next_kwargs`` entry that carries the function's request through a deferral.
RESUME_BODY_KWARG = "apimart_request_body"


class ApimartVideoDecoratedOperator(DecoratedOperator, ApimartVideoGenerationOperator):
    """The operator behind ``@task.apimart_video``: the function's return value is the ``body``.

    The function is called once per try, in :meth:`ApimartVideoDecoratedOperator.execute`, before anything is
    sent. A deferred task resumes with the request it deferred with (in the deferral's kwargs, and on 3.3+
    also in ``task_state_store``), so :meth:`execute_complete` never calls the function again. Keep the
    function deterministic for a given run: a retry calls it again, and a different request is a new, paid
    job.

    :param python_callable: returns a dict of API parameters (``None`` values are left out, as
        unset operator arguments are) or a prompt string (sent as ``{"prompt": ...}``).
    :param model: any APIMart model name (templated); the four documented models are validated
        by their own rules, others only by name.
    :param op_args: positional arguments of the function (templated).
    :param op_kwargs: keyword arguments of the function (templated).
    """

    template_fields: Sequence[str] = (
        *DecoratedOperator.template_fields,
        *ApimartVideoGenerationOperator.template_fields,
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        **DecoratedOperator.template_fields_renderers,
        **ApimartVideoGenerationOperator.template_fields_renderers,
    }
    custom_operator_name = "@task.apimart_video"
    # The Rendered Template tab then shows the body the function returned, not the empty one.
    overwrite_rtif_after_execution = True

    #: Where this try keeps the request when it defers (3.3+); set by ``execute()``.
    _resume_store: StateStore | None = None
    #: False only when a resumed task found no request to resume with (see :meth:`provenance`).
    _request_known = True

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        model: str,
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("multiple_outputs"):
            raise ValueError(
                "@task.apimart_video returns one list of video URLs: multiple_outputs is not supported."
            )
        if "body" in kwargs:
            raise TypeError("@task.apimart_video takes no body=: the decorated function returns it.")
        super().__init__(
            python_callable=python_callable,
            op_args=op_args,
            op_kwargs=op_kwargs,
            model=model,
            **kwargs,
        )

    def _check_literal_request(self) -> None:
        """Nothing to check at DAG parse: the request exists only once the function has run."""

    def execute(self, context: Context) -> list[str] | None:
        """Call the function for the request, then run the operator's own execute with it."""
        self._resume_store = state_store(context)
        context_merge(context, self.op_kwargs)
        kwargs = determine_kwargs(self.python_callable, self.op_args, context)
        self.body = self._body_from(self.python_callable(*self.op_args, **kwargs))
        self.log.info(
            "%s returned a %s request with %s.",
            getattr(self.python_callable, "__name__", "The function"),
            self.model,
            ", ".join(sorted(self.body)) or "no parameters",
        )
        result: list[str] | None = super().execute(context)
        return result

    def _body_from(self, returned: object) -> dict[str, Any]:
        """The request body from the function's value; anything unusable fails before any request."""
        if isinstance(returned, str):
            return {"prompt": returned}
        if not isinstance(returned, Mapping) or not all(isinstance(key, str) for key in returned):
            self._refuse(
                "return value",
                "the function must return a dict of API parameters or a prompt string, "
                f"got {type(returned).__name__}",
            )
        body = {key: value for key, value in returned.items() if value is not None}
        if body.pop("model", self.model) != self.model:
            self._refuse(
                "model",
                f"the function returned model {returned['model']!r}, but the task's model is "
                f"{self.model!r}: set it with @task.apimart_video(model=...)",
            )
        return body

    def _refuse(self, parameter: str, explanation: str) -> NoReturn:
        raise ApimartValidationError(str(self.model), [(parameter, explanation)], task_id=self.task_id)

    def defer(
        self,
        *,
        trigger: BaseTrigger,
        method_name: str,
        kwargs: dict[str, Any] | None = None,
        timeout: timedelta | int | float | None = None,
    ) -> NoReturn:
        """Defer with the request: the resumed task needs it (for the stored videos' records)."""
        if self._resume_store is not None:
            self._resume_store.set(TASKFLOW_REQUEST_STATE_KEY, self.body)
        super().defer(
            trigger=trigger,
            method_name=method_name,
            kwargs={**(kwargs or {}), RESUME_BODY_KWARG: self.body},
            timeout=timeout,
        )

    def execute_complete(
        self,
        context: Context,
        event: dict[str, Any] | None = None,
        apimart_submission: dict[str, Any] | None = None,
        apimart_request_body: dict[str, Any] | None = None,
    ) -> list[str]:
        """Resume with the deferred request; the function is not called again."""
        body = apimart_request_body
        if body is None and (store := state_store(context)) is not None:
            body = store.get(TASKFLOW_REQUEST_STATE_KEY)
        if isinstance(body, dict):
            self.body = body
        else:
            self._request_known = False
        return super().execute_complete(context, event, apimart_submission)

    def request_summary(self) -> dict[str, Any] | None:
        """The body sent, or None for a resumed task that lost its request."""
        return super().request_summary() if self._request_known else None

    def provenance(self, context: Context) -> dict[str, Any]:
        """The operator's record, or, for a resumed task that lost its request, one without it."""
        if self._request_known:
            return super().provenance(context)
        # Only dag.test() on Airflow < 3.3 loses the request: keep the video, say what is missing.
        self.log.warning("The request of this deferred task was not kept: its records name none.")
        return {**ApimartWaitMixin.provenance(self, context), "request": None}


def apimart_video_task(
    python_callable: Callable[..., Any] | None = None,
    *,
    model: str,
    multiple_outputs: bool | None = None,
    **kwargs: Any,
) -> TaskDecorator:
    """``@task.apimart_video(model=...)``: the decorated function returns the request.

    Takes the operator's arguments (``apimart_conn_id``, ``deferrable``, ``output_path``,
    ``retries``, ...). ``return_value`` is the list of video URLs (or stored URIs), so
    ``multiple_outputs`` is refused rather than inferred from a ``-> dict`` annotation.
    """
    if multiple_outputs:
        raise ValueError(
            "@task.apimart_video returns one list of video URLs: multiple_outputs is not supported."
        )
    return task_decorator_factory(
        python_callable=python_callable,
        multiple_outputs=False,
        decorated_operator_class=ApimartVideoDecoratedOperator,
        model=model,
        **kwargs,
    )
