"""``kling-v2-6``: text- and image-to-video, std (720P, silent) or pro (1080P, audio).

Source: https://docs.apimart.ai/en/api-reference/videos/kling-v2-6/generation
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Final, Literal

from pydantic import AfterValidator, Field, model_validator

from airflow_provider_apimart.models.base import (
    Rendered,
    VideoGenerationRequest,
    WholeNumber,
    one_of,
    rule_violation,
    warn_base64_images,
)
from airflow_provider_apimart.models.images import ImageReference

KLING_V26: Final = "kling-v2-6"

#: What the API assumes when ``mode`` is not sent; the cross-field rules are judged against it.
DEFAULT_MODE = "std"


class KlingV26Request(VideoGenerationRequest):
    """Documented defaults when unset: mode std, duration 5, aspect_ratio 16:9, audio false."""

    MODEL_NAME: ClassVar[str] = KLING_V26

    model: Literal["kling-v2-6"] = KLING_V26
    # Required in both text- and image-to-video.
    prompt: Annotated[str, Field(min_length=1, max_length=2500)]
    mode: Literal["std", "pro"] | None = None
    duration: Annotated[WholeNumber, AfterValidator(one_of(5, 10))] | None = None
    aspect_ratio: Literal["16:9", "9:16", "1:1"] | None = None
    # No maximum length is documented for kling's negative_prompt, so none is enforced.
    negative_prompt: str | None = None
    # 1 image = first frame, 2 = first + last frame (pro only). None or [] = text-to-video.
    image_urls: Annotated[Rendered[list[ImageReference]], Field(max_length=2)] | None = None
    audio: bool | None = None
    watermark: bool | None = None

    @property
    def effective_mode(self) -> str:
        """The mode the API will use: the one given, else the documented default (std)."""
        return self.mode or DEFAULT_MODE

    def _mode_in_words(self) -> str:
        return f"mode is {self.effective_mode!r}{'' if self.mode else ' by default'}"

    @model_validator(mode="after")
    def _last_frame_needs_pro(self) -> KlingV26Request:
        if len(self.image_urls or []) == 2 and self.effective_mode != "pro":
            raise rule_violation(
                "mode",
                f"mode='pro' is required when 2 image_urls are given (last frame); {self._mode_in_words()}",
            )
        return self

    @model_validator(mode="after")
    def _audio_needs_pro(self) -> KlingV26Request:
        if self.audio and self.effective_mode != "pro":
            raise rule_violation(
                "audio",
                f"audio=true needs mode='pro' (std is always silent); {self._mode_in_words()}",
            )
        return self

    @model_validator(mode="after")
    def _audio_or_last_frame(self) -> KlingV26Request:
        if self.audio and len(self.image_urls or []) == 2:
            raise rule_violation(
                "audio",
                "audio=true cannot be combined with 2 image_urls (last frame); drop one of them",
            )
        return self

    @model_validator(mode="after")
    def _warn_about_accepted_oddities(self) -> KlingV26Request:
        warn_base64_images(KLING_V26, self.image_urls)
        return self
