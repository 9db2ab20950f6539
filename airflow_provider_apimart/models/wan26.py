"""``wan2.6-i2v-flash``: image-to-video from exactly one first-frame image.

Source: https://docs.apimart.ai/en/api-reference/videos/wan2.6/i2v-flash-generation
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Final, Literal

from pydantic import Field, model_validator

from airflow_provider_apimart.models.base import (
    NonNegativeSeed,
    Rendered,
    VideoGenerationRequest,
    WebUrl,
    WholeNumber,
    rule_violation,
    warn_base64_images,
    warn_once,
)
from airflow_provider_apimart.models.images import ImageLimits, ImageReference
from airflow_provider_apimart.wording import MiB

WAN26_I2V_FLASH: Final = "wan2.6-i2v-flash"
#: Above this a wan2.6 prompt gets a warning: wan2.7's documented limit, the nearest one there is.
LONG_PROMPT_CHARS = 5000

#: Effect templates confirmed upstream (Alibaba); APIMart itself documents only "flying".
#: Other names are sent anyway with a warning: the API, not this list, decides.
KNOWN_EFFECT_TEMPLATES = frozenset(
    {"flying", "squish", "rotation", "poke", "inflate", "dissolve", "melt", "icecream", "carousel",
     "singleheart", "dance1", "dance2", "dance3", "dance4", "dance5", "mermaid", "graduation",
     "dragon", "money", "jellyfish", "pupil", "rose", "crystalrose", "hug", "frenchkiss",
     "coupleheart", "solaron", "magazine", "mech1", "mech2"}
)  # fmt: skip


class Wan26I2VFlashRequest(VideoGenerationRequest):
    """Documented defaults when unset: resolution 1080p, duration 5, audio true,
    prompt_extend true, shot_type single, watermark false."""

    MODEL_NAME: ClassVar[str] = WAN26_I2V_FLASH
    # The page: JPEG, JPG, PNG, BMP, WEBP, at most 10MB, 240-8000 px a side. The upload endpoint
    # takes no BMP, so a stored BMP is refused; BMP by URL is left to the API.
    IMAGE_LIMITS: ClassVar[ImageLimits] = ImageLimits(
        source=WAN26_I2V_FLASH,
        max_bytes=10 * MiB,
        content_types=frozenset({"image/jpeg", "image/png", "image/webp"}),
        min_side=240,
        max_side=8000,
    )

    model: Literal["wan2.6-i2v-flash"] = WAN26_I2V_FLASH
    image_urls: Annotated[Rendered[list[ImageReference]], Field(min_length=1, max_length=1)]
    # No maximum prompt length is documented for this model, so none is enforced; a prompt longer
    # than its sibling wan2.7 takes (LONG_PROMPT_CHARS) is sent with a warning.
    prompt: str | None = None
    negative_prompt: Annotated[str, Field(max_length=500)] | None = None
    resolution: Literal["720p", "1080p"] | None = None
    duration: Annotated[WholeNumber, Field(ge=2, le=15)] | None = None
    audio: bool | None = None
    audio_url: WebUrl | None = None
    prompt_extend: bool | None = None
    shot_type: Literal["single", "multi"] | None = None
    seed: NonNegativeSeed | None = None
    watermark: bool | None = None
    # Used by the page's "Effect Template" example but missing from its parameter list:
    # accepted as free text.
    template: str | None = None

    @model_validator(mode="after")
    def _shot_type_needs_prompt_extend(self) -> Wan26I2VFlashRequest:
        # prompt_extend defaults to true, so only an explicit false conflicts.
        if self.shot_type is not None and self.prompt_extend is False:
            raise rule_violation(
                "shot_type",
                f"shot_type={self.shot_type!r} requires prompt_extend=true (it is false); "
                "drop shot_type or enable prompt_extend",
            )
        return self

    @model_validator(mode="after")
    def _warn_about_accepted_oddities(self) -> Wan26I2VFlashRequest:
        warn_base64_images(WAN26_I2V_FLASH, self.image_urls)
        if self.prompt is not None and len(self.prompt) > LONG_PROMPT_CHARS:
            warn_once(
                f"{WAN26_I2V_FLASH}: the prompt is {len(self.prompt)} characters. The page gives no "
                f"limit, but wan2.7 takes at most {LONG_PROMPT_CHARS}: the API may cut or refuse it, and "
                "the render is paid either way. Sending it as given."
            )
        if self.audio is False and self.audio_url is not None:
            warn_once(f"{WAN26_I2V_FLASH}: audio=false wins over audio_url, so the video will be silent.")
        if self.template is not None and self.template not in KNOWN_EFFECT_TEMPLATES:
            warn_once(
                f"{WAN26_I2V_FLASH}: template={self.template!r} is not a known effect template (APIMart "
                "documents 'flying'); sending it anyway and letting the API decide."
            )
        return self
