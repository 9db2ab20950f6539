"""Operators that generate videos with APIMart: one per model, plus a generic one.

Every operator submits one job, waits for it (in the triggerer when deferrable, on the worker
otherwise, or not at all), and returns the list of video URLs as ``return_value``. A retry or a
clear of the same logical task does not pay twice: see :class:`ApimartBaseVideoOperator`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_apimart.exceptions import ApimartConfigurationError
from airflow_provider_apimart.handover import XCOM_TASK_ID, XCOM_TASK_SUMMARY
from airflow_provider_apimart.models.base import COLLECTION_PARAMETERS
from airflow_provider_apimart.models.kling import KlingV26Request
from airflow_provider_apimart.models.omni import OmniFlashExtRequest
from airflow_provider_apimart.models.wan26 import Wan26I2VFlashRequest
from airflow_provider_apimart.models.wan27 import Wan27Request
from airflow_provider_apimart.operators.base import (
    DEFAULT_RENDER_TIMEOUT,
    OPERATOR_TEMPLATE_FIELDS,
    ApimartBaseVideoOperator,
)
from airflow_provider_apimart.task_state import SUBMIT_RECORD_STATE_KEY

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

__all__ = [
    "DEFAULT_RENDER_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "MODEL_OPERATORS",
    "STATE_KEY",
    "XCOM_TASK_ID",
    "XCOM_TASK_SUMMARY",
    "ApimartBaseVideoOperator",
    "ApimartKlingV26Operator",
    "ApimartOmniFlashExtOperator",
    "ApimartVideoGenerationOperator",
    "ApimartWan26I2VFlashOperator",
    "ApimartWan27Operator",
]

#: The names 0.2 exported for :data:`DEFAULT_RENDER_TIMEOUT` and
#: :data:`~airflow_provider_apimart.task_state.SUBMIT_RECORD_STATE_KEY`; kept for DAGs that import them.
DEFAULT_TIMEOUT = DEFAULT_RENDER_TIMEOUT
STATE_KEY = SUBMIT_RECORD_STATE_KEY


def json_renderers(template_fields: Collection[str]) -> dict[str, str]:
    """The Rendered Template tab shows the list and dict parameters (and a generic ``body``) as JSON."""
    return {name: "json" for name in template_fields if name in COLLECTION_PARAMETERS or name == "body"}


class _ModelVideoOperator(ApimartBaseVideoOperator):
    """What the per-model operators share: their parameters, read from the request model once.

    Each subclass names its ``request_model`` and spells the model's parameters out in its
    ``__init__`` (for IDEs and the docs); ``request_fields``, ``template_fields`` and the
    renderers come from the model, so the three cannot disagree.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = vars(cls)  # a subclass that sets one of these in its body keeps its own
        if "request_fields" not in own:
            cls.request_fields = cls.request_model.parameter_names()
        if "template_fields" not in own:
            cls.template_fields = (*cls.request_fields, *OPERATOR_TEMPLATE_FIELDS)
        if "template_fields_renderers" not in own:
            cls.template_fields_renderers = json_renderers(cls.template_fields)

    def _set_request_fields(self, values: dict[str, Any]) -> None:
        for name in self.request_fields:
            setattr(self, name, values[name])
        self._check_literal_request()


class ApimartWan26I2VFlashOperator(_ModelVideoOperator):
    """``wan2.6-i2v-flash``: image-to-video from one first-frame image.

    The API parameters keep their API names; unset ones are not sent (the API's defaults apply).
    See the model page for each: exactly one ``image_urls`` entry, ``duration`` 2-15, and so on.
    """

    request_model = Wan26I2VFlashRequest

    def __init__(
        self,
        *,
        image_urls: list[str] | str,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        resolution: str | None = None,
        duration: int | str | None = None,
        audio: bool | None = None,
        audio_url: str | None = None,
        prompt_extend: bool | None = None,
        shot_type: str | None = None,
        seed: int | str | None = None,
        watermark: bool | None = None,
        template: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_request_fields(locals())


class ApimartWan27Operator(_ModelVideoOperator):
    """``wan2.7``: text-to-video, first(/last)-frame video, or continuation of a video.

    No ``image_urls``, ``image_with_roles`` or ``video_urls`` means text-to-video, where
    ``prompt`` is required.
    """

    request_model = Wan27Request

    def __init__(
        self,
        *,
        prompt: str | None = None,
        image_urls: list[str] | str | None = None,
        image_with_roles: list[dict[str, str]] | str | None = None,
        video_urls: list[str] | str | None = None,
        negative_prompt: str | None = None,
        resolution: str | None = None,
        duration: int | str | None = None,
        size: str | None = None,
        audio_url: str | None = None,
        prompt_extend: bool | None = None,
        watermark: bool | None = None,
        seed: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_request_fields(locals())


class ApimartOmniFlashExtOperator(_ModelVideoOperator):
    """``Omni-Flash-Ext``: text-to-video, one-image video, or 3-image fusion (never 2 images)."""

    request_model = OmniFlashExtRequest

    def __init__(
        self,
        *,
        prompt: str,
        duration: int | str | None = None,
        resolution: str | None = None,
        aspect_ratio: str | None = None,
        size: str | None = None,
        image_urls: list[str] | str | None = None,
        video_urls: list[str] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_request_fields(locals())


class ApimartKlingV26Operator(_ModelVideoOperator):
    """``kling-v2-6``: text- or image-to-video; ``mode="pro"`` for 1080P, audio, or a last frame."""

    request_model = KlingV26Request

    def __init__(
        self,
        *,
        prompt: str,
        mode: str | None = None,
        duration: int | str | None = None,
        aspect_ratio: str | None = None,
        negative_prompt: str | None = None,
        image_urls: list[str] | str | None = None,
        audio: bool | None = None,
        watermark: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_request_fields(locals())


class ApimartVideoGenerationOperator(ApimartBaseVideoOperator):
    """Any APIMart video model: ``model`` and the rest of the request ``body`` as the API takes it.

    Bodies for the four documented models are still checked with their rules; for other models
    only ``model`` is checked and the body is sent as given.
    """

    template_fields: Sequence[str] = ("model", "body", *OPERATOR_TEMPLATE_FIELDS)
    template_fields_renderers: ClassVar[dict[str, str]] = json_renderers(template_fields)

    def __init__(self, *, model: str, body: dict[str, Any] | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.body = body if body is not None else {}
        self._check_literal_request()

    def request_body(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise ApimartConfigurationError(
                f"Task {self.task_id!r}: body must render to a dict of API parameters, got {self.body!r}"
            )
        return {**self.body, "model": self.model}

    def model_name(self) -> str | None:
        return str(self.model)


#: The operator of each model with typed rules, by the model's API name.
MODEL_OPERATORS: dict[str, type[ApimartBaseVideoOperator]] = {
    operator.request_model.MODEL_NAME: operator
    for operator in (
        ApimartWan26I2VFlashOperator,
        ApimartWan27Operator,
        ApimartOmniFlashExtOperator,
        ApimartKlingV26Operator,
    )
}
