"""ApimartHook: the one place that talks HTTP to APIMart, for workers (sync) and the triggerer (async)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx
from airflow.sdk import BaseHook

from airflow_provider_apimart.exceptions import (
    ApimartAPIError,
    ApimartAuthenticationError,
    ApimartConfigurationError,
    ApimartConnectionError,
    ApimartError,
    ApimartResponseError,
    ApimartSubmitOutcomeUnknownError,
    ApimartValidationError,
)
from airflow_provider_apimart.hooks import DEFAULT_CONN_ID
from airflow_provider_apimart.hooks._answers import (
    RESPONSE_VERSION_HEADER,
    Answer,
    Call,
    data_of,
    parse_answer,
    read_payload,
    submit_answer,
    transport_failure,
)
from airflow_provider_apimart.hooks._retry import SINGLE_TRY, RetryPolicy
from airflow_provider_apimart.hooks._schema_cache import DEFAULT_SCHEMA_MAX_AGE, cached_schema
from airflow_provider_apimart.hooks._settings import ClientSettings, settings_from_connection
from airflow_provider_apimart.hooks._shared_lookup import shared_lookup
from airflow_provider_apimart.hooks._task_status import status_of, task_path
from airflow_provider_apimart.http_basics import USER_AGENT, shared_ssl_context
from airflow_provider_apimart.models.images import require_uploaded
from airflow_provider_apimart.models.registry import checked_body_of
from airflow_provider_apimart.models.responses import Balance, SubmitResponse, TaskStatus, UploadedImage
from airflow_provider_apimart.models.schemas import VIDEO_GENERATION, ModelInfo, ModelSchema
from airflow_provider_apimart.version_compat import (
    AirflowNotFoundException,
    amask_in_logs,
    conf,
    mask_in_logs,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_apimart.models.base import CheckedBody, VideoGenerationRequest

SUBMIT_PATH = "/v1/videos/generations"
BALANCE_PATH = "/v1/balance"
UPLOAD_PATH = "/v1/uploads/images"
MODELS_PATH = "/v1/models"
MODEL_SCHEMA_PATH = "/v1/model-schema"

#: The response version this provider speaks, sent on every submit (APIMart's own client does):
#: it keeps the answer's shape stable (``data`` an object with ``id``).
RESPONSE_VERSION = "2026-07-27"

#: What APIMart's own client accepts as an Idempotency-Key: 1-191 visible ASCII characters.
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,191}")


class ApimartHook(BaseHook):
    """Talk to the APIMart API with the key and base URL of an ``apimart`` connection.

    Sync methods (``submit_video``, ``upload_image``, ``get_task``, ``get_balance``) serve
    workers; ``aget_task`` serves the triggerer and never blocks its event loop. Each side keeps
    one pooled client, built on first use; use the hook as a (async) context manager, or call
    ``close``/``aclose``, to release it.

    :param apimart_conn_id: the Airflow connection holding the API key (password) and, optionally,
        a base URL (host).
    :param timeout: seconds to wait for one HTTP answer; overrides the connection's ``timeout``.
    :param max_retries: retries of a failed call inside the hook; overrides the connection's
        ``max_retries``.
    :param keepalive_expiry: seconds an idle pooled connection stays open; a poller sets it above
        its poll interval so each poll reuses the TLS connection.
    :param share_connection_lookup: let the async lookup reuse one made by another such hook of this
        event loop in the last few seconds (the trigger's: a triggerer starting hundreds of triggers
        at once looks the connection up once, not once each).
    """

    conn_name_attr = "apimart_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "apimart"
    hook_name = "APIMart"

    def __init__(
        self,
        apimart_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        keepalive_expiry: float | None = None,
        share_connection_lookup: bool = False,
    ) -> None:
        super().__init__()
        self.apimart_conn_id = apimart_conn_id
        self._timeout = timeout
        self._max_retries = max_retries
        self._keepalive_expiry = keepalive_expiry
        self._share_connection_lookup = share_connection_lookup
        self._settings: ClientSettings | None = None
        self._client: httpx.Client | None = None
        self._async_client: httpx.AsyncClient | None = None
        self._retry_policy_kept: RetryPolicy | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(apimart_conn_id={self.apimart_conn_id!r})"

    # ------------------------------------------------------------------ settings and clients

    def get_settings(self) -> ClientSettings:
        """The connection's settings, looked up once per hook."""
        if self._settings is None:
            try:
                conn = self.get_connection(self.apimart_conn_id)
            except AirflowNotFoundException:
                raise self._missing_connection() from None
            self._settings = self._settings_from(conn)
            if self._settings.api_key != conn.password:  # Airflow masks the password as stored
                mask_in_logs(self._settings.api_key)
        return self._settings

    async def aget_settings(self) -> ClientSettings:
        """Like :meth:`get_settings`, with the async lookup that is safe in the triggerer."""
        if self._settings is None:
            if self._share_connection_lookup:
                key = (self.apimart_conn_id, self._timeout, self._max_retries)
                self._settings = await shared_lookup(key, self._alook_up)
            else:
                self._settings = await self._alook_up()
        return self._settings

    async def _alook_up(self) -> ClientSettings:
        try:
            conn = await self.aget_connection(self.apimart_conn_id)
        except AirflowNotFoundException:
            raise self._missing_connection() from None
        settings = self._settings_from(conn)
        if settings.api_key != conn.password:
            await amask_in_logs(settings.api_key)
        return settings

    def _missing_connection(self) -> ApimartConfigurationError:
        return ApimartConfigurationError(
            f"Connection {self.apimart_conn_id!r} does not exist: create it (type APIMart, the API key "
            f"in its password) or set AIRFLOW_CONN_{self.apimart_conn_id.upper()}."
        )

    def _settings_from(self, conn: Any) -> ClientSettings:
        return settings_from_connection(conn, timeout=self._timeout, max_retries=self._max_retries)

    def _client_options(self, settings: ClientSettings) -> dict[str, Any]:
        limits = httpx.Limits(keepalive_expiry=self._keepalive_expiry) if self._keepalive_expiry else None
        return {
            "base_url": settings.base_url,
            "headers": {
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "Authorization": f"Bearer {settings.api_key}",
            },
            "timeout": settings.httpx_timeout,
            "verify": shared_ssl_context(),
            **({"limits": limits} if limits else {}),
        }

    def get_conn(self) -> httpx.Client:
        """The hook's sync httpx client (auth, base URL, timeouts set)."""
        if self._client is None:
            self._client = httpx.Client(**self._client_options(self.get_settings()))
        return self._client

    async def aget_conn(self) -> httpx.AsyncClient:
        """The hook's async httpx client; one per hook, kept for its lifetime."""
        if self._async_client is None:
            self._async_client = httpx.AsyncClient(**self._client_options(await self.aget_settings()))
        return self._async_client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        if self._async_client is not None:
            await self._async_client.aclose()
            self._async_client = None

    def __enter__(self) -> ApimartHook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> ApimartHook:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ one call, with retries

    def _retry_policy(self, settings: ClientSettings, *, retry: bool) -> RetryPolicy:
        if not retry or settings.max_retries == 0:
            # No logger for a single try: a poll then makes none (thousands of triggers share a heap).
            return SINGLE_TRY
        if self._retry_policy_kept is None:
            self._retry_policy_kept = RetryPolicy(max_retries=settings.max_retries, logger=self.log)
        return self._retry_policy_kept

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        replay_safe: bool = True,
        retry: bool = True,
    ) -> Answer:
        """One call, retried as policy allows; ``files`` (name -> (filename, content, type)) is multipart."""
        client = self.get_conn()
        settings = self.get_settings()
        call = Call(method, path, settings.redactor, (headers or {}).get("Idempotency-Key"))

        def attempt() -> Answer:
            try:
                response = client.request(
                    method, path, json=json, files=files, headers=headers, params=params
                )
            except httpx.TransportError as error:
                raise transport_failure(error, call, settings) from error
            return Answer(read_payload(response, call), response.headers)

        return self._retry_policy(settings, retry=retry).call(attempt, replay_safe=replay_safe)

    async def _arequest(self, method: str, path: str, *, retry: bool = True) -> Answer:
        client = await self.aget_conn()
        settings = await self.aget_settings()
        call = Call(method, path, settings.redactor)

        async def attempt() -> Answer:
            try:
                response = await client.request(method, path)
            except httpx.TransportError as error:
                raise transport_failure(error, call, settings) from error
            return Answer(read_payload(response, call), response.headers)

        return await self._retry_policy(settings, retry=retry).acall(attempt, replay_safe=True)

    # ------------------------------------------------------------------ the API

    def submit_video(
        self,
        request: VideoGenerationRequest | CheckedBody | Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> SubmitResponse:
        """Submit one generation job (billable) and return the answer with its ``task_id``.

        A plain mapping is validated with its model's rules first, so an invalid body raises
        :class:`~airflow_provider_apimart.exceptions.ApimartValidationError` without any HTTP call;
        a :class:`~airflow_provider_apimart.models.CheckedBody` (the operators') was validated
        already and is sent as it is. The POST
        asks for response version 2026-07-27 (``X-APIMart-Response-Version``). With ``idempotency_key`` (the
        ``Idempotency-Key`` header) a lost answer is retried safely, with the same key and body, and a 409
        ``idempotency_in_progress`` is asked again until the first request is done; without one, the POST is
        retried only where no job can have been created, and an answer lost after sending raises
        :class:`~airflow_provider_apimart.exceptions.ApimartSubmitOutcomeUnknownError` rather than risk
        paying twice. Stored image files must be uploaded first (:mod:`airflow_provider_apimart.inputs`); a
        path is never sent.

        ``replayed`` on the answer is True when APIMart says (``Idempotency-Replayed: true``) that it
        answered from an earlier job made under the same key: no new job, no new charge. It logs nothing:
        the operator that calls it writes the task log's line for the paid job; a direct caller logs the
        answer's ``task_id`` itself.
        """
        checked = checked_body_of(request)
        body = checked.body
        require_uploaded(checked.model, body)
        headers = {RESPONSE_VERSION_HEADER: RESPONSE_VERSION}
        if idempotency_key is not None:
            if not IDEMPOTENCY_KEY_PATTERN.fullmatch(idempotency_key):
                raise ApimartValidationError(
                    checked.model,
                    [("idempotency_key", "must be 1-191 visible ASCII characters with no spaces")],
                )
            headers["Idempotency-Key"] = idempotency_key
        try:
            answer = self._request(
                "POST", SUBMIT_PATH, json=body, headers=headers, replay_safe=idempotency_key is not None
            )
        except (ApimartConnectionError, ApimartAPIError) as error:
            if idempotency_key is None and _outcome_unknown(error):
                raise ApimartSubmitOutcomeUnknownError(
                    f"Submitting the {checked.model} job failed after the request may have reached "
                    f"APIMart ({error}). A job may exist and be billed: check the APIMart console before "
                    "running again. Pass an idempotency_key to make such retries safe."
                ) from error
            raise
        return parse_answer(SubmitResponse, submit_answer(answer), what="submit answer")

    def list_models(self) -> list[ModelInfo]:
        """The models APIMart offers now (``GET /v1/models``), by ``id``: the names ``model=`` takes."""
        payload = self._request("GET", MODELS_PATH).payload
        entries = data_of(payload)
        if not isinstance(entries, list):
            raise ApimartResponseError("APIMart's model list has no 'data' list.")
        return [parse_answer(ModelInfo, entry, what="model list entry") for entry in entries]

    def get_model_schema(
        self, model: str, operation: str = VIDEO_GENERATION, *, max_age: float | None = None
    ) -> ModelSchema:
        """The JSON Schema of a body for ``model`` (``GET /v1/model-schema``), reused for ``max_age``
        seconds within this process (default ``[apimart] model_schema_max_age``, 1 h). A model APIMart
        has no schema for raises ``ApimartNotFoundError``."""
        if max_age is None:
            max_age = conf.getfloat("apimart", "model_schema_max_age", fallback=DEFAULT_SCHEMA_MAX_AGE)

        def read() -> ModelSchema:
            payload = self._request(
                "GET", MODEL_SCHEMA_PATH, params={"model": model, "operation": operation}
            ).payload
            data = data_of(payload)
            # APIMart's own client reads the object bare; an enveloped one is read as well.
            shaped = data if isinstance(data, dict) and "input_schema" in data else payload
            return parse_answer(ModelSchema, shaped, what="model schema")

        return cached_schema((self.get_settings().base_url, model, operation), max_age, read)

    def upload_image(self, content: bytes, *, filename: str, content_type: str) -> UploadedImage:
        """Upload one image (JPEG, PNG, WebP or GIF, at most 20 MB) and return its URL, valid 72 hours.

        Free, so it is retried like a read: a lost answer at worst stores the image twice. A file
        the API refuses raises the typed error (413 for too large is an ``ApimartRejectedError``).
        https://docs.apimart.ai/en/api-reference/uploads/images
        """
        answer = self._request("POST", UPLOAD_PATH, files={"file": (filename, content, content_type)})
        return parse_answer(UploadedImage, answer.payload, what="upload answer")

    def get_task(self, remote_task_id: str, *, retry: bool = True) -> TaskStatus:
        """The current status of a remote task (not billable).

        ``retry=False`` makes one attempt: a poller that keeps its own count of failed polls.
        """
        return status_of(remote_task_id, self._request("GET", task_path(remote_task_id), retry=retry).payload)

    async def aget_task(self, remote_task_id: str, *, retry: bool = True) -> TaskStatus:
        """Async :meth:`get_task`, for triggers."""
        answer = await self._arequest("GET", task_path(remote_task_id), retry=retry)
        return status_of(remote_task_id, answer.payload)

    def get_balance(self) -> Balance:
        """The API key's balance (not billable). A ``success: false`` answer raises."""
        payload = self._request("GET", BALANCE_PATH).payload
        data = data_of(payload)
        balance = parse_answer(Balance, data if isinstance(data, dict) else payload, what="balance answer")
        if balance.success is False:
            # The documented failures with HTTP 200 are "token not found" and a missing header:
            # both mean the key is not usable.
            raise ApimartAuthenticationError(
                balance.message or "the balance endpoint answered success=false",
                http_status=200,
                method="GET",
                path=BALANCE_PATH,
            )
        return balance

    def test_connection(self) -> tuple[bool, str]:
        """Check the key and base URL on the non-billable balance endpoint, telling apart the causes.

        One attempt, no retries: the person pressing "Test" wants an answer in seconds.
        """
        probe = type(self)(self.apimart_conn_id, timeout=self._timeout, max_retries=0)
        try:
            settings = probe.get_settings()
            balance = probe.get_balance()
        except ApimartAuthenticationError as error:
            return False, f"APIMart rejected the API key (HTTP {error.http_status}): {error.api_message}"
        except ApimartError as error:
            return False, str(error)
        finally:
            probe.close()
        remaining = "unlimited" if balance.unlimited_quota else balance.remain_balance
        return True, f"Connected to APIMart at {settings.base_url}; remaining balance: {remaining}."


def _outcome_unknown(error: ApimartConnectionError | ApimartAPIError) -> bool:
    """Whether a failed submit may have created a job (the request arrived, the answer was lost)."""
    if isinstance(error, ApimartConnectionError):
        return error.request_sent
    return error.http_status >= 500 or error.http_status == 408
