"""The registry of request models: which class validates a body, by its ``model`` name.

The single place that knows them all: the generic operator, the hook, the image checks, the
simulator and the tests look a model up here, so a model added to :data:`REQUEST_MODELS` is
validated, limited and tested everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.models.base import CheckedBody, VideoGenerationRequest
from airflow_provider_apimart.models.generic import GenericVideoRequest
from airflow_provider_apimart.models.kling import KlingV26Request
from airflow_provider_apimart.models.omni import OmniFlashExtRequest
from airflow_provider_apimart.models.wan26 import Wan26I2VFlashRequest
from airflow_provider_apimart.models.wan27 import Wan27Request

if TYPE_CHECKING:
    from collections.abc import Mapping

REQUEST_MODELS: dict[str, type[VideoGenerationRequest]] = {
    request_class.MODEL_NAME: request_class
    for request_class in (Wan26I2VFlashRequest, Wan27Request, OmniFlashExtRequest, KlingV26Request)
}


def request_class_for(model: object) -> type[VideoGenerationRequest]:
    """The request model of ``model``; the generic one (only the name is checked) for the others."""
    return REQUEST_MODELS.get(model, GenericVideoRequest) if isinstance(model, str) else GenericVideoRequest


def checked_body_of(request: VideoGenerationRequest | CheckedBody | Mapping[str, Any]) -> CheckedBody:
    """The body to send for ``request``: a plain mapping is validated first (:func:`build_request`)."""
    if isinstance(request, CheckedBody):
        return request
    validated = request if isinstance(request, VideoGenerationRequest) else build_request(request)
    return validated.checked_body()


def build_request(body: Mapping[str, Any]) -> VideoGenerationRequest:
    """Validate a wire-style body with its model's rules (generic rules for unknown models).

    Raises :class:`~airflow_provider_apimart.exceptions.ApimartValidationError` naming every
    broken rule, so nothing invalid is ever sent or paid for.
    """
    return request_class_for(body.get("model")).validated(dict(body))
