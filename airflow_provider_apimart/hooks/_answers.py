"""Read an APIMart answer: its JSON payload (and its model) on success, else the typed exception it is.

The error body format is undocumented (docs/api-behaviour.md, "Errors"), so it is read defensively:
``error.{message,type,code}``, then a flat ``message``/``type``/``code``, then the raw text, cut short.
Whatever the API echoes, the key is hidden from every decoded field before anything reads it.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from airflow_provider_apimart.backoff import retry_after_seconds
from airflow_provider_apimart.exceptions import (
    ApimartAPIError,
    ApimartConfigurationError,
    ApimartConnectionError,
    ApimartError,
    ApimartResponseError,
    ApimartTransientAPIError,
    api_error_class,
)
from airflow_provider_apimart.wording import shorten

if TYPE_CHECKING:
    from airflow_provider_apimart.hooks._settings import ClientSettings
    from airflow_provider_apimart.redaction import Redactor

ModelT = TypeVar("ModelT", bound=BaseModel)

#: The answer header with which APIMart marks a submit it answered from an earlier job's key.
REPLAYED_HEADER = "Idempotency-Replayed"
#: The header of the response version asked for (on a submit) and answered.
RESPONSE_VERSION_HEADER = "X-APIMart-Response-Version"

#: How much of an unreadable body goes into an error message.
MAX_BODY_CHARS_IN_ERRORS = 300


@dataclass(frozen=True)
class Call:
    """One API call, for messages: what was asked, and the secret no message may contain."""

    method: str
    path: str
    redactor: Redactor
    #: The submit's Idempotency-Key, named by the errors that concern it.
    idempotency_key: str | None = None

    def redact(self, text: str) -> str:
        return self.redactor.text(text)

    def json(self, response: httpx.Response) -> Any:
        """The answer's JSON with the secret hidden in every string (raises ValueError if not JSON)."""
        payload = response.json()
        return self.redactor.json(payload) if self.redactor.may_hide_in(response.text) else payload


class Answer(NamedTuple):
    """A successful answer: its JSON payload and its headers."""

    payload: Any
    headers: httpx.Headers


def read_payload(response: httpx.Response, call: Call) -> Any:
    """The JSON of a successful answer, or the typed error it really is."""
    if response.status_code >= 400:
        raise error_from_response(response, call)
    try:
        payload = call.json(response)
    except ValueError:
        raise ApimartResponseError(
            f"APIMart answered HTTP {response.status_code} on {call.method} {call.path} with a body "
            f"that is not JSON: {shorten(call.redact(response.text), MAX_BODY_CHARS_IN_ERRORS)}"
        ) from None
    body_code = payload.get("code") if isinstance(payload, dict) else None
    if body_code is not None and not _is_success_code(body_code):
        # HTTP 200 carrying a failure code: an error all the same (docs/api-behaviour.md, "Errors").
        # A 2xx code is success: an accepted submit may say 202.
        raise _api_error(
            payload, call, class_status=_status_like(body_code), http_status=response.status_code
        )
    return payload


def parse_answer(model: type[ModelT], payload: Any, *, what: str) -> ModelT:
    """A successful answer's payload as ``model``; a shape the docs do not describe raises."""
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, detail['loc'])) or 'body'}: {detail['msg']}"
            for detail in error.errors(include_url=False)
        )
        raise ApimartResponseError(
            f"APIMart's {what} does not have the documented shape: {problems}"
        ) from None


def error_from_response(response: httpx.Response, call: Call) -> ApimartAPIError:
    """The typed exception for an HTTP error answer."""
    try:
        payload: Any = call.json(response)
    except ValueError:
        payload = None
    fallback = call.redact(response.text) or response.reason_phrase
    return _api_error(
        payload,
        call,
        class_status=response.status_code,
        http_status=response.status_code,
        fallback_message=fallback,
        retry_after=retry_after_seconds(response.headers),
    )


def _api_error(
    payload: Any,
    call: Call,
    *,
    class_status: int | None,
    http_status: int,
    fallback_message: str = "",
    retry_after: float | None = None,
) -> ApimartAPIError:
    message, error_type, error_code = _describe_error_body(payload)
    if (
        error_code is None
        and isinstance(payload, dict)
        and str(payload.get("code")) not in {"None", str(http_status)}
    ):
        error_code = payload["code"]  # a failure code inside an HTTP 200 body
    error_class = (
        api_error_class(class_status, error_code, error_type, message) if class_status else ApimartAPIError
    )
    extra: dict[str, Any] = {}
    if issubclass(error_class, ApimartTransientAPIError):
        extra["retry_after"] = retry_after
    return error_class(
        shorten(call.redact(message or fallback_message or "no error message"), MAX_BODY_CHARS_IN_ERRORS),
        http_status=http_status,
        error_type=error_type,
        error_code=error_code,
        method=call.method,
        path=call.path,
        idempotency_key=call.idempotency_key,
        **extra,
    )


def _describe_error_body(payload: Any) -> tuple[str | None, str | None, int | str | None]:
    if not isinstance(payload, dict):
        return None, None, None
    nested = payload.get("error")
    if isinstance(nested, dict):
        source = nested
    else:
        source = payload
        if isinstance(nested, str):
            source = {**payload, "message": payload.get("message") or nested}
    message = source.get("message") or payload.get("message")
    error_type = source.get("type") or payload.get("type")
    error_code = source.get("code") if source is nested else None
    return (
        str(message) if message is not None else None,
        str(error_type) if error_type is not None else None,
        error_code if isinstance(error_code, int | str) else None,
    )


def _code_number(body_code: Any) -> int | None:
    try:
        return int(body_code)
    except (TypeError, ValueError):
        return None


def _is_success_code(body_code: Any) -> bool:
    code = _code_number(body_code)
    return code is not None and 200 <= code <= 299


def _status_like(body_code: Any) -> int | None:
    """A body ``code`` that looks like an HTTP error status picks the exception class."""
    code = _code_number(body_code)
    return code if code is not None and 400 <= code <= 599 else None


def transport_failure(error: httpx.TransportError, call: Call, settings: ClientSettings) -> ApimartError:
    """The typed error for a request that got no answer: a configuration error when no retry can
    help, else a connection error that says whether the request may have reached APIMart."""
    if isinstance(error, httpx.UnsupportedProtocol):
        return ApimartConfigurationError(
            f"Connection {settings.conn_id!r}: base URL {settings.base_url!r} is not usable ({error})."
        )
    if isinstance(error, httpx.LocalProtocolError):
        # The request could not even be written (an illegal header value): nothing left this
        # machine, and the same request would fail the same way.
        return ApimartConfigurationError(
            f"Connection {settings.conn_id!r}: {call.method} {call.path} could not be sent "
            f"({call.redact(str(error))}). Nothing reached APIMart."
        )
    if settings.scheme_assumed and _is_tls_failure(error):
        # "127.0.0.1:8090" became https://127.0.0.1:8090, and a plain-HTTP server answered: no
        # retry can fix that, and "[SSL: WRONG_VERSION_NUMBER]" alone does not say why.
        return ApimartConfigurationError(
            f"Connection {settings.conn_id!r}: its host has no scheme, so https:// was assumed "
            f"({settings.base_url}), and the TLS handshake failed ({call.redact(str(error))}). "
            "Write the scheme in the host, e.g. http://127.0.0.1:8089 for a local simulator."
        )
    # Connect-phase failures mean the request never left this machine.
    never_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    detail = call.redact(str(error)) or type(error).__name__
    if never_sent:
        message = (
            f"Could not connect to APIMart at {settings.base_url} for {call.method} {call.path}: {detail}"
        )
    else:
        message = (
            f"{call.method} {call.path} to APIMart at {settings.base_url} failed after the request was "
            f"sent ({type(error).__name__}: {detail})"
        )
    return ApimartConnectionError(message, request_sent=not never_sent)


def _is_tls_failure(error: httpx.TransportError) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "SSL" in str(error)


def submit_answer(answer: Answer) -> Any:
    """The submit payload with what only the headers say: ``replayed``, ``response_version``."""
    if not isinstance(answer.payload, dict):
        return answer.payload
    replayed = answer.headers.get(REPLAYED_HEADER, "").strip().lower() == "true"
    # The headers decide, never the body: set over whatever the body says.
    return {
        **answer.payload,
        "replayed": replayed,
        "response_version": answer.headers.get(RESPONSE_VERSION_HEADER),
        "request_id": answer.payload.get("request_id") or answer.headers.get("X-Request-Id"),
    }


def data_of(payload: Any) -> Any:
    return payload.get("data") if isinstance(payload, dict) else None
