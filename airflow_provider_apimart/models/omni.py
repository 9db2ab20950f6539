"""``Omni-Flash-Ext``: text-to-video, single-image video and 3-image fusion.

Source: https://docs.apimart.ai/en/api-reference/videos/omni-flash-ext/generation

This is the only page with an error table; the rules below reject, before any request, what it
says the API answers with HTTP 400.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Final, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from airflow_provider_apimart.models.base import (
    Rendered,
    VideoGenerationRequest,
    WebUrl,
    WholeNumber,
    one_of,
    rule_violation,
    warn_base64_images,
    warn_once,
)
from airflow_provider_apimart.models.images import ImageReference

OMNI_FLASH_EXT: Final = "Omni-Flash-Ext"

OMNI_RESOLUTIONS = ("720p", "1080p", "4k")
#: The page calls these the "common values"; whether others work is unknown.
COMMON_ASPECT_RATIOS = frozenset({"16:9", "9:16"})
SUPPORTED_IMAGE_COUNTS = (0, 1, 3)


def _resolution_any_case(value: str) -> str:
    # "Values are case-insensitive": 4K and 1080P pass and are sent as written.
    if value.lower() not in OMNI_RESOLUTIONS:
        raise PydanticCustomError(
            "invalid_resolution", "must be 720p, 1080p or 4k (any case); the API answers invalid_resolution"
        )
    return value


def _ratio_shape(value: str) -> str:
    width, separator, height = value.partition(":")
    if not (separator and width.isdigit() and height.isdigit()):
        raise PydanticCustomError("aspect_ratio", "must be a ratio like '16:9' or '9:16'")
    return value


AspectRatio = Annotated[str, AfterValidator(_ratio_shape)]


class OmniFlashExtRequest(VideoGenerationRequest):
    """Documented defaults when unset: duration 6, resolution 720p, aspect_ratio 16:9.

    No negative_prompt, seed, watermark or audio is documented for this model, so they are
    rejected as unknown parameters rather than sent.
    """

    MODEL_NAME: ClassVar[str] = OMNI_FLASH_EXT

    model: Literal["Omni-Flash-Ext"] = OMNI_FLASH_EXT
    # "prompt is empty" is an invalid_request_error; no maximum length is documented.
    prompt: Annotated[str, Field(min_length=1)]
    duration: Annotated[WholeNumber, AfterValidator(one_of(4, 6, 8, 10, error="invalid_duration"))] | None = (
        None
    )
    resolution: Annotated[str, AfterValidator(_resolution_any_case)] | None = None
    aspect_ratio: AspectRatio | None = None
    size: AspectRatio | None = None  # compatibility alias of aspect_ratio
    image_urls: Rendered[list[ImageReference]] | None = None
    # Documented on the published Omni-Flash-Ext page, not in its parameter table.
    video_urls: Annotated[Rendered[list[WebUrl]], Field(max_length=1)] | None = None

    @model_validator(mode="after")
    def _supported_image_count(self) -> OmniFlashExtRequest:
        count = len(self.image_urls or [])
        if count == 2:
            raise rule_violation(
                "image_urls",
                "2 images are not supported (no first+last-frame mode); use 0, 1 or 3 images "
                "(the API answers unsupported_image_count)",
            )
        if count > max(SUPPORTED_IMAGE_COUNTS):
            warn_once(
                f"{OMNI_FLASH_EXT}: {count} image_urls given; the page says 4 or more are not fully "
                "verified and not recommended. Sending them anyway."
            )
        return self

    @model_validator(mode="after")
    def _size_matches_aspect_ratio(self) -> OmniFlashExtRequest:
        if self.size is not None and self.aspect_ratio is not None and self.size != self.aspect_ratio:
            raise rule_violation(
                "size",
                f"is an alias of aspect_ratio and must match it when both are given "
                f"(size={self.size!r}, aspect_ratio={self.aspect_ratio!r})",
            )
        return self

    @model_validator(mode="after")
    def _warn_about_accepted_oddities(self) -> OmniFlashExtRequest:
        warn_base64_images(OMNI_FLASH_EXT, self.image_urls)
        for ratio in {self.aspect_ratio, self.size} - {None} - COMMON_ASPECT_RATIOS:
            warn_once(
                f"{OMNI_FLASH_EXT}: aspect ratio {ratio!r} is not one of the documented common values "
                "(16:9, 9:16); sending it anyway and letting the API decide."
            )
        return self
