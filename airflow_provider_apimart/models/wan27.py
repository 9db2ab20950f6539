"""``wan2.7``: one model for text-to-video, first(/last)-frame video and continuation.

Source: https://docs.apimart.ai/en/api-reference/videos/wan2.7/generation

The mode follows the inputs: any image or video input makes it image-to-video, none text-to-video.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
from airflow_provider_apimart.models.images import ImageReference, ImageUrlOrFile

WAN27: Final = "wan2.7"


class ImageWithRole(BaseModel):
    """One entry of ``image_with_roles``; the role defaults to ``first_frame`` on the API side."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The page says http/https; a stored file is uploaded first and sent as its URL.
    url: ImageUrlOrFile
    role: Literal["first_frame", "last_frame"] | None = None


class Wan27Request(VideoGenerationRequest):
    """Documented defaults when unset: resolution 1080P, duration 5, size 16:9,
    prompt_extend true, watermark false."""

    MODEL_NAME: ClassVar[str] = WAN27

    model: Literal["wan2.7"] = WAN27
    prompt: Annotated[str, Field(max_length=5000)] | None = None
    # 1 image = first frame, 2 = first + last. More than 2 is not documented either way, so it
    # is left to the API.
    image_urls: Rendered[list[ImageReference]] | None = None
    image_with_roles: Rendered[list[Rendered[ImageWithRole]]] | None = None
    video_urls: Rendered[list[WebUrl]] | None = None
    negative_prompt: Annotated[str, Field(max_length=500)] | None = None
    # The page lists the values in upper case only ("720P", "1080P").
    resolution: Literal["720P", "1080P"] | None = None
    duration: Annotated[WholeNumber, Field(ge=2, le=15)] | None = None
    size: Literal["16:9", "9:16", "1:1", "4:3", "3:4"] | None = None
    audio_url: WebUrl | None = None
    prompt_extend: bool | None = None
    watermark: bool | None = None
    seed: NonNegativeSeed | None = None

    @property
    def is_text_to_video(self) -> bool:
        """No image or video input: the API runs text-to-video."""
        return not (self.image_urls or self.image_with_roles or self.video_urls)

    @model_validator(mode="after")
    def _text_to_video_needs_prompt(self) -> Wan27Request:
        if self.is_text_to_video and not self.prompt:
            raise rule_violation(
                "prompt",
                "is required for text-to-video (no image_urls, image_with_roles or video_urls given)",
            )
        return self

    @model_validator(mode="after")
    def _one_way_to_pass_images(self) -> Wan27Request:
        if self.image_urls is not None and self.image_with_roles is not None:
            raise rule_violation(
                "image_with_roles",
                "cannot be combined with image_urls; pass the images one way or the other",
            )
        return self

    @model_validator(mode="after")
    def _continuation_has_no_audio(self) -> Wan27Request:
        # The page says audio_url conflicts with video_urls, image_urls and image_with_roles, yet
        # documents image + audio_url as "driving audio" (use case 6). Only the conflict the page
        # never contradicts is enforced: continuation with audio.
        if self.audio_url is not None and self.video_urls is not None:
            raise rule_violation(
                "audio_url",
                "cannot be combined with video_urls (video continuation takes no audio)",
            )
        return self

    @model_validator(mode="after")
    def _warn_about_accepted_oddities(self) -> Wan27Request:
        warn_base64_images(WAN27, self.image_urls)
        if self.size is not None and not self.is_text_to_video:
            warn_once(
                f"{WAN27}: size={self.size!r} is ignored in image-to-video; the input decides the "
                "aspect ratio."
            )
        return self
