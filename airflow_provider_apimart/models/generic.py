"""Any other APIMart video model: only ``model`` is checked, every other field is sent as given."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from airflow_provider_apimart.models.base import VideoGenerationRequest


class GenericVideoRequest(VideoGenerationRequest):
    """For models this package has no page for: the API is the only judge of the other fields."""

    model_config = ConfigDict(extra="allow", frozen=True)

    model: Annotated[str, Field(min_length=1)]
