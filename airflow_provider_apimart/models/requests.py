"""Pick the request model for a body by its ``model`` name: the single place that knows them all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.models.generic import GenericVideoRequest
from airflow_provider_apimart.models.kling import KlingV26Request
from airflow_provider_apimart.models.omni import OmniFlashExtRequest
from airflow_provider_apimart.models.wan26 import Wan26I2VFlashRequest
from airflow_provider_apimart.models.wan27 import Wan27Request

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_apimart.models.base import VideoGenerationRequest

REQUEST_MODELS: dict[str, type[VideoGenerationRequest]] = {
    request_class.MODEL_NAME: request_class
    for request_class in (Wan26I2VFlashRequest, Wan27Request, OmniFlashExtRequest, KlingV26Request)
}


def build_request(body: Mapping[str, Any]) -> VideoGenerationRequest:
    """Validate a wire-style body with its model's rules (generic rules for unknown models).

    Raises :class:`~airflow_provider_apimart.exceptions.ApimartValidationError` naming every
    broken rule, so nothing invalid is ever sent or paid for.
    """
    model_name = body.get("model")
    request_class = (
        REQUEST_MODELS.get(model_name, GenericVideoRequest)
        if isinstance(model_name, str)
        else GenericVideoRequest
    )
    return request_class.validated(dict(body))
