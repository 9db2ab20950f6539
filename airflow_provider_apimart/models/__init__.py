"""Pydantic models: the single source of truth for what the APIMart API accepts and returns.

Every name below is importable from here, but each submodule loads only when one of its names is
first used: a DAG file that imports one operator validates its request at parse and needs its
model, not the answer models (which load when the task runs).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_apimart.models.base import (
        CheckedBody,
        VideoGenerationRequest,
        read_rendered_collection,
    )
    from airflow_provider_apimart.models.generic import GenericVideoRequest
    from airflow_provider_apimart.models.images import UPLOAD_IMAGE_LIMITS, ImageLimits
    from airflow_provider_apimart.models.kling import KLING_V26, KlingV26Request
    from airflow_provider_apimart.models.omni import OMNI_FLASH_EXT, OmniFlashExtRequest
    from airflow_provider_apimart.models.registry import REQUEST_MODELS, build_request
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
    from airflow_provider_apimart.models.schemas import VIDEO_GENERATION, ModelInfo, ModelSchema
    from airflow_provider_apimart.models.wan26 import WAN26_I2V_FLASH, Wan26I2VFlashRequest
    from airflow_provider_apimart.models.wan27 import WAN27, ImageWithRole, Wan27Request

#: Where ``__getattr__`` looks for a public name, in this order: the request models, which a DAG
#: parse needs, before the answer models, which only a running task does.
_SUBMODULES = (
    "base",
    "images",
    "generic",
    "kling",
    "omni",
    "wan26",
    "wan27",
    "registry",
    "responses",
    "schemas",
)

__all__ = [
    "KLING_V26",
    "OMNI_FLASH_EXT",
    "REQUEST_MODELS",
    "TERMINAL_STATES",
    "UPLOAD_IMAGE_LIMITS",
    "VIDEO_GENERATION",
    "WAN26_I2V_FLASH",
    "WAN27",
    "Balance",
    "CheckedBody",
    "FailureKind",
    "GenericVideoRequest",
    "ImageLimits",
    "ImageWithRole",
    "KlingV26Request",
    "ModelInfo",
    "ModelSchema",
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


def __getattr__(name: str) -> Any:
    if name in __all__:
        for submodule in _SUBMODULES:
            module = vars(import_module(f"{__name__}.{submodule}"))
            if name in module:
                globals()[name] = module[name]
                return module[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
