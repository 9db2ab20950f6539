"""ApimartBaseVideoOperator: submit one APIMart job per logical task, wait, hand the URLs on."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

from airflow_provider_apimart.exceptions import (
    ApimartError,
    ApimartIdempotencyIndeterminateError,
    ApimartIdempotencyKeyReusedError,
    ApimartRejectedError,
    ApimartValidationError,
)
from airflow_provider_apimart.handover import push_task_id
from airflow_provider_apimart.hooks import DEFAULT_CONN_ID
from airflow_provider_apimart.links.video import ApimartStoredVideoLink, ApimartVideoLink
from airflow_provider_apimart.models.generic import GenericVideoRequest
from airflow_provider_apimart.models.registry import build_request
from airflow_provider_apimart.operators.schema_check import check_mode
from airflow_provider_apimart.operators.spending import SpendLimitedMixin
from airflow_provider_apimart.operators.submission import (
    SubmitRecord,
    fingerprint,
    idempotency_key,
    load_record,
    reattachable_status,
    save_record,
    stored_record,
    why_the_body_changed,
)
from airflow_provider_apimart.task_state import state_store
from airflow_provider_apimart.templating import is_literal
from airflow_provider_apimart.version_compat import conf
from airflow_provider_apimart.waiting.defaults import DEFAULT_FIRST_POLL_DELAY, DEFAULT_POLL_INTERVAL
from airflow_provider_apimart.waiting.outcome import ApimartWaitMixin
from airflow_provider_apimart.waiting.rules import checked_number

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_apimart.hooks.apimart import ApimartHook
    from airflow_provider_apimart.inputs import CheckedImage
    from airflow_provider_apimart.models.base import CheckedBody, VideoGenerationRequest
    from airflow_provider_apimart.models.responses import TaskStatus

#: The ``next_kwargs`` entry that carries the submit's record through a deferral.
RESUME_SUBMISSION_KWARG = "apimart_submission"
#: Templated arguments of every operator that are not part of the API request.
OPERATOR_TEMPLATE_FIELDS = ("output_path",)
#: The longest wait for one render unless ``timeout`` says otherwise (renders take minutes).
DEFAULT_RENDER_TIMEOUT = timedelta(hours=1)


class ApimartBaseVideoOperator(SpendLimitedMixin, ApimartWaitMixin, BaseOperator):
    """Submit one APIMart video job and hand its video URLs downstream.

    **What a retry or a clear does.** The POST carries an ``Idempotency-Key`` made from dag_id,
    run_id, task_id, map_index and the request (never the try number). On Airflow 3.3+ the remote
    task id is also kept in ``task_state_store`` as soon as the POST returns, so a new try of the
    same logical task reattaches instead of submitting: still rendering, it waits again;
    completed, it returns the URLs without any POST; failed, cancelled or unknown to the API, it
    submits afresh (a new key, since the old job is over). On Airflow 3.1-3.2 there is no state
    store: a new try POSTs again with the same key, and APIMart's handling of the key keeps it
    from paying twice. ``force_new_generation=True`` makes every try a new, paid job.

    :param apimart_conn_id: the ``apimart`` connection (API key, optional base URL).
    :param deferrable: wait in the triggerer and free the worker slot (default:
        ``[operators] default_deferrable``).
    :param wait_for_completion: False submits, pushes ``apimart_task_id`` and returns None.
    :param poll_interval: seconds between status checks; any positive, finite number.
    :param first_poll_delay: the fewest seconds before the first check after the one right after the
        submit (the API advises 5-10 s; default 5, plus up to 2 s of jitter); that check says when
        the next comes, by the render's estimate.
    :param max_poll_interval: the widest gap between checks while the render is far from its
        estimated end (default 60 s, or ``poll_interval`` if larger); near it, checks come every
        ``poll_interval``.
    :param timeout: longest wait for the render, in seconds or as a timedelta (default 1 h).
    :param force_new_generation: pay for a fresh video on every try instead of reattaching.
    :param output_path: where to keep the videos (templated): an absolute local path, a ``file://``
        URI or any ObjectStoragePath URI (``s3://conn_id@bucket/prefix``). Each video is streamed
        there with a provenance record beside it, ``return_value`` becomes the stored URIs, and a
        retry downloads nothing already stored. Unset: ``return_value`` is the API's URLs, which
        expire after about 24 h.
    :param min_balance: refuse to submit (permanently, before any POST) when the key's balance is
        below this; default from the connection's ``min_balance`` extra; unset: no check. A
        reattach to an earlier try's job does not check: it pays nothing.
    :param schema_check: what happens when APIMart's schema of the model cannot be read before the
        submit: ``"strict"`` sends nothing, ``"warn"`` sends the request unchecked. Default from the
        connection's ``schema_check`` extra, else ``strict`` for models without typed rules and
        ``warn`` for the four typed ones. A body that breaks the schema is refused in either mode.
    :param run_spend_limit: the most this DAG run may spend on APIMart jobs. Each paid submit first
        reserves its estimated cost; one that would cross the limit fails permanently before any
        POST. Default from the connection's extra of the same name; unset: no limit (docs: Spend limits).
    :param daily_spend_limit: the same, per UTC day, for every task on this connection.
    :param spend_prices: what each model's job costs, for the estimate (a dict or its JSON text):
        ``{"wan2.7": 0.4, "kling-v2-6": {"per_second": 0.09}}``. Default from the connection.
    :param spend_store_conn_id: a ``redis`` or ``postgres`` connection every worker shares for the
        limits' ledger; unset: a local file, right for one machine only.
    """

    #: The request model of this operator's APIMart model (the generic operator picks by name).
    request_model: ClassVar[type[VideoGenerationRequest]] = GenericVideoRequest
    #: The API parameters this operator takes, by the API's own names.
    request_fields: ClassVar[tuple[str, ...]] = ()

    operator_extra_links = (ApimartStoredVideoLink(), ApimartVideoLink())
    ui_color = "#f3e8ff"

    def __init__(
        self,
        *,
        apimart_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        wait_for_completion: bool = True,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        first_poll_delay: float = conf.getfloat(
            "apimart", "first_poll_delay", fallback=DEFAULT_FIRST_POLL_DELAY
        ),
        max_poll_interval: float | None = None,
        timeout: float | timedelta = DEFAULT_RENDER_TIMEOUT,
        force_new_generation: bool = False,
        output_path: str | None = None,
        min_balance: float | None = None,
        schema_check: str | None = None,
        run_spend_limit: float | None = None,
        daily_spend_limit: float | None = None,
        spend_prices: dict[str, Any] | str | None = None,
        spend_store_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.configure_spend(
            run_spend_limit=run_spend_limit,
            daily_spend_limit=daily_spend_limit,
            spend_prices=spend_prices,
            spend_store_conn_id=spend_store_conn_id,
        )
        self.schema_check = check_mode(schema_check, where=f"Task {self.task_id!r}")
        self.configure_wait(
            apimart_conn_id=apimart_conn_id,
            deferrable=deferrable,
            poll_interval=poll_interval,
            first_poll_delay=first_poll_delay,
            max_poll_interval=max_poll_interval,
            output_path=output_path,
        )
        self.wait_for_completion = wait_for_completion
        where = f"Task {self.task_id!r}"
        self.timeout_seconds = checked_number("timeout (seconds or a timedelta)", timeout, where=where)
        self.force_new_generation = force_new_generation
        self.min_balance = (
            None
            if min_balance is None
            else checked_number("min_balance", min_balance, where=where, inclusive=True)
        )
        #: What the submit (or the earlier try's, on a reattach) said; for the XCom and the records.
        self._submission: SubmitRecord | None = None
        #: This try uploaded image files and sends their new URLs.
        self._uploaded_images = False
        #: This try's request as the user wrote it, validated and serialised once (:meth:`checked_body`).
        self._body: CheckedBody | None = None

    # ------------------------------------------------------------------ the request

    def request_body(self) -> dict[str, Any]:
        """The wire body from the (rendered) parameters that were set."""
        body = {name: getattr(self, name) for name in self.request_fields if getattr(self, name) is not None}
        return {"model": self.request_model.MODEL_NAME, **body}

    def build_request(self) -> VideoGenerationRequest:
        """Validate the body with its model; an invalid one fails here, naming this task."""
        try:
            return build_request(self.request_body())
        except ApimartValidationError as error:
            raise error.for_task(self.task_id) from None

    def checked_body(self) -> CheckedBody:
        """This try's request, validated and serialised once; a resumed task (a new process)
        builds it once more from its rendered parameters."""
        if self._body is None:
            self._body = self.build_request().checked_body()
        return self._body

    def _check_literal_request(self) -> None:
        """At DAG parse: a request made only of literal values is validated now."""
        names = {*self.request_fields, *self.template_fields} - set(OPERATOR_TEMPLATE_FIELDS)
        if all(is_literal(getattr(self, name)) for name in names):
            self.build_request()

    def wait_timeout_seconds(self) -> float:
        return self.timeout_seconds

    def model_name(self) -> str | None:
        return self.request_model.MODEL_NAME

    def provenance(self, context: Context) -> dict[str, Any]:
        return {
            **super().provenance(context),
            "request": self.checked_body().body,
            "submission": self.submission_summary(),
        }

    def submission_summary(self) -> dict[str, Any]:
        return self._submission.receipt() if self._submission is not None else {}

    def account_for(
        self, context: Context, hook: ApimartHook, cost: float | None, *, completed: bool
    ) -> dict[str, Any]:
        key = self._submission.idempotency_key if self._submission is not None else None
        return self.settle_spend(context, hook, key, cost, completed=completed)

    def request_summary(self) -> dict[str, Any] | None:
        return self.checked_body().body

    def resume_kwargs(self) -> dict[str, Any]:
        """The submit's record rides through the deferral: the resumed process has no other copy
        before Airflow 3.3 (and ``dag.test()`` may drop it; then the state store has it)."""
        return {RESUME_SUBMISSION_KWARG: self._submission.to_json()} if self._submission else {}

    def execute_complete(
        self,
        context: Context,
        event: dict[str, Any] | None = None,
        apimart_submission: dict[str, Any] | None = None,
    ) -> list[str]:
        """Resume after the trigger fired, knowing what the submit said."""
        self._submission = SubmitRecord.from_json(apimart_submission) or stored_record(context)
        return super().execute_complete(context, event)

    # ------------------------------------------------------------------ execute

    def execute(self, context: Context) -> list[str] | None:
        # Everything that needs no network first: the request's rules, then the local files.
        self._body = None  # this try's rendered values are checked afresh
        body = self.checked_body()
        images = self._check_images(body)
        with self.open_hook() as hook:
            remote_task_id, status = self._reattach_or_submit(context, hook, body, images)
            push_task_id(context, remote_task_id)
            if not self.wait_for_completion:
                self.log.info(
                    "Submitted APIMart task %s; not waiting for it (wait_for_completion=False).",
                    remote_task_id,
                )
                return None
            return self.wait_for_task(context, hook, remote_task_id, status)

    def _check_images(self, body: CheckedBody) -> list[CheckedImage]:
        """Images given as local paths or storage URIs: read and checked, before any request."""
        from airflow_provider_apimart.inputs import check_images, find_stored_images

        try:
            return check_images(find_stored_images(body.body), body.model)
        except ApimartValidationError as error:
            raise error.for_task(self.task_id) from None

    def _reattach_or_submit(
        self, context: Context, hook: ApimartHook, body: CheckedBody, images: list[CheckedImage]
    ) -> tuple[str, TaskStatus | None]:
        """The remote task of this logical task: an earlier try's (3.3+), else a new submit.

        Only when about to submit: the balance guard, then the uploads, then the POST.
        """
        from airflow_provider_apimart.inputs import fingerprint_body, upload_images, with_uploaded_urls
        from airflow_provider_apimart.operators.balance import check_balance
        from airflow_provider_apimart.operators.schema_check import check_body, read_model_schema

        # Files count by their content, not by their upload URL: every try sends the same key.
        request_fingerprint = fingerprint(fingerprint_body(body.body, images))
        record = None if self.force_new_generation else load_record(context, request_fingerprint)
        if record is not None:
            status = reattachable_status(hook, record.remote_task_id, self.log)
            if status is not None:
                self._submission = record
                return record.remote_task_id, status
        superseded = record.remote_task_id if record is not None else None
        if self.output_path:  # before paying: a render that cannot be kept is a lost video
            from airflow_provider_apimart.outputs.preflight import check_output_path

            check_output_path(self.output_path, task_id=self.task_id)
        min_balance = self.min_balance if self.min_balance is not None else hook.get_settings().min_balance
        if min_balance is not None:
            check_balance(hook, min_balance, task_id=self.task_id, log=self.log)
        # Before the uploads: a strict refusal costs none.
        schema = read_model_schema(hook, body, mode=self.schema_check, task_id=self.task_id, log=self.log)
        if images:
            urls = upload_images(hook, images, state_store(context), self.log)
            body = body.replaced(with_uploaded_urls(body.body, urls))  # the same checked values
            self._uploaded_images = True
        schema_sha256 = check_body(schema, body.body, task_id=self.task_id, log=self.log) if schema else None
        return self._submit(context, hook, body, request_fingerprint, superseded, schema_sha256)

    def _submit(
        self,
        context: Context,
        hook: ApimartHook,
        body: CheckedBody,
        request_fingerprint: str,
        superseded: str | None,
        schema_sha256: str | None,
        *,
        may_replace_replay: bool = True,
    ) -> tuple[str, TaskStatus | None]:
        """POST the job under this logical task's key, and read its status once.

        Only a job the API says it *replayed* (``Idempotency-Replayed: true``, never a guess from
        clocks) that is already over without a video is replaced, once, under a key of its own. A
        new job that failed at once is this try's outcome, never a reason to pay again.
        """
        key = idempotency_key(
            context, request_fingerprint, superseded, force_new_generation=self.force_new_generation
        )
        guard = self.spend_guard(context, hook)
        # Right before the paid POST, never for a reattach; the same key reserves only once.
        reserved_now = guard.reserve(key, body.body) if guard is not None else False
        submitted_at = time.time()
        try:
            submitted = hook.submit_video(body, idempotency_key=key)
        except ApimartIdempotencyKeyReusedError as error:
            raise error.explained(
                why_the_body_changed(self.task_id, uploaded=self._uploaded_images)
            ) from None
        except ApimartIdempotencyIndeterminateError as error:
            raise error.explained(f"(task {self.task_id!r})") from None
        except ApimartRejectedError:
            if guard is not None and reserved_now:  # refused outright: no job, nothing to hold
                guard.release(key)
            raise
        self._submission = SubmitRecord(
            submitted.task_id,
            request_fingerprint,
            key,
            submitted_at,
            request_id=submitted.request_id,
            replayed=submitted.replayed,
            response_version=submitted.response_version,
            schema_sha256=schema_sha256,
        )
        save_record(context, self._submission)
        if guard is not None:
            guard.submitted(key)
        if submitted.replayed:
            self.log.info(
                "APIMart returned the %s job this task already submitted: remote task %s, no new charge.",
                body.model,
                submitted.task_id,
            )
        else:
            self.log.info(
                "Submitted a %s job to APIMart: remote task %s (status %s).",
                body.model,
                submitted.task_id,
                submitted.status or "unknown",
            )
        status = submitted.synchronous_result
        if status is None:
            try:
                status = hook.get_task(submitted.task_id)
            except ApimartError as error:
                self.log.warning("Could not read APIMart task %s yet (%s).", submitted.task_id, error)
                return submitted.task_id, None
        if not (submitted.replayed and may_replace_replay and status.state.ended_without_video):
            return submitted.task_id, status
        self.log.warning(
            "APIMart returned this task's earlier job %s, which %s without a video: submitting a new "
            "job under a new key.",
            submitted.task_id,
            status.status,
        )
        return self._submit(
            context,
            hook,
            body,
            request_fingerprint,
            submitted.task_id,
            schema_sha256,
            may_replace_replay=False,
        )
