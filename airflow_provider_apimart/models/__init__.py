"""Pydantic models: the single source of truth for what the APIMart API accepts and returns."""

from __future__ import annotations

from airflow_provider_apimart.models.base import (
    UPLOAD_IMAGE_LIMITS,
    ImageLimits,
    VideoGenerationRequest,
    read_rendered_collection,
)
from airflow_provider_apimart.models.generic import GenericVideoRequest
from airflow_provider_apimart.models.kling import KLING_V26, KlingV26Request
from airflow_provider_apimart.models.omni import OMNI_FLASH_EXT, OmniFlashExtRequest
from airflow_provider_apimart.models.requests import REQUEST_MODELS, build_request
from airflow_provider_apimart.models.responses import (
    TERMINAL_STATES,
    Balance,
    FailureKind,
    SubmitResponse,
    TaskError,
    TaskResult,
    TaskState,
    TaskStatus,
    UploadedImage,
    VideoOutput,
)
from airflow_provider_apimart.models.wan26 import WAN26_I2V_FLASH, Wan26I2VFlashRequest
from airflow_provider_apimart.models.wan27 import WAN27, ImageWithRole, Wan27Request

__all__ = [
    "KLING_V26",
    "OMNI_FLASH_EXT",
    "REQUEST_MODELS",
    "TERMINAL_STATES",
    "UPLOAD_IMAGE_LIMITS",
    "WAN26_I2V_FLASH",
    "WAN27",
    "Balance",
    "FailureKind",
    "GenericVideoRequest",
    "ImageLimits",
    "ImageWithRole",
    "KlingV26Request",
    "OmniFlashExtRequest",
    "SubmitResponse",
    "TaskError",
    "TaskResult",
    "TaskState",
    "TaskStatus",
    "UploadedImage",
    "VideoGenerationRequest",
    "VideoOutput",
    "Wan26I2VFlashRequest",
    "Wan27Request",
    "build_request",
    "read_rendered_collection",
]
