"""APIMart's own description of its models: the catalogue and each model's JSON Schema of a body.

``GET /v1/models`` lists the models; ``GET /v1/model-schema?model=<id>&operation=video_generation``
answers ``{"model", "operation", "input_schema"}``, where ``input_schema`` is a JSON Schema of the
request body without ``model``. APIMart adds and retires models every month, so for a model this
package has no typed rules for, the live schema is the only check before a paid submit.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from airflow_provider_apimart.wording import shorten

#: The operation a video submit belongs to, as the schema endpoint names it.
VIDEO_GENERATION = "video_generation"
#: How much of one schema rule's own message goes into ours.
MAX_SCHEMA_MESSAGE_CHARS = 160


class ModelInfo(BaseModel):
    """One entry of ``GET /v1/models``: ``id`` is the name to pass as ``model``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(min_length=1)


class ModelSchema(BaseModel):
    """The answer of ``GET /v1/model-schema``: what APIMart accepts in a body for one operation."""

    model_config = ConfigDict(extra="allow", frozen=True)

    model: str
    operation: str
    input_schema: dict[str, Any]

    @property
    def sha256(self) -> str:
        """A digest of ``input_schema`` (canonical JSON): which schema a stored body was checked against."""
        canonical = json.dumps(self.input_schema, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def schema_error(self) -> str | None:
        """Why ``input_schema`` is not a usable JSON Schema, or None when it is."""
        from jsonschema import SchemaError, validators

        try:
            validators.validator_for(self.input_schema).check_schema(self.input_schema)
        except SchemaError as error:
            return str(error.message)
        return None

    def problems(self, body: dict[str, Any]) -> list[tuple[str, str]]:
        """Each way ``body`` (``model`` left out) breaks the schema, as ``(parameter, explanation)``."""
        from jsonschema import validators

        validator_class = validators.validator_for(self.input_schema)
        validator = validator_class(self.input_schema, format_checker=validator_class.FORMAT_CHECKER)
        checked = {name: value for name, value in body.items() if name != "model"}
        found = sorted(validator.iter_errors(checked), key=lambda error: list(error.absolute_path))
        return [
            (
                ".".join(str(part) for part in error.absolute_path) or _parameter_of(error) or "request",
                f"{shorten(error.message, MAX_SCHEMA_MESSAGE_CHARS)} (APIMart's schema for {self.model})",
            )
            for error in found
        ]


def _parameter_of(error: Any) -> str | None:
    """The parameter a body-level error is about: the missing or the unexpected one."""
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return str(missing[0]) if missing else None
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        extra = sorted(name for name in error.instance if name not in known)
        return str(extra[0]) if extra else None
    return None
