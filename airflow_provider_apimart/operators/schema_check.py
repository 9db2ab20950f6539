"""Every body checked against APIMart's own schema of its model, on the worker, before the paid POST.

The four typed models also keep their hand-written rules (checked at DAG parse); for any other
model APIMart's schema is the only judge, so what happens when it cannot be read is a setting:

- ``strict``: no schema, no submit. A model APIMart has no schema for fails permanently (a typo
  in ``model`` costs nothing); a schema endpoint that fails fails the try (a retry reads it again).
- ``warn``: the submit goes ahead unchecked, with a warning in the task log, and the records say
  that no schema was checked.

Default: ``strict`` for models without typed rules, ``warn`` for the four typed ones (their own
rules still hold); the connection's ``schema_check`` extra and the operator's ``schema_check``
argument override it. A body that breaks a schema that was read is refused in either mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from airflow_provider_apimart.exceptions import (
    ApimartBadRequestError,
    ApimartConnectionError,
    ApimartNotFoundError,
    ApimartResponseError,
    ApimartSchemaUnavailableError,
    ApimartTransientAPIError,
    ApimartValidationError,
)
from airflow_provider_apimart.models.schemas import VIDEO_GENERATION

if TYPE_CHECKING:
    from typing import Any

    from airflow_provider_apimart.hooks.apimart import ApimartHook
    from airflow_provider_apimart.models.base import CheckedBody
    from airflow_provider_apimart.models.schemas import ModelSchema

SchemaCheck = Literal["strict", "warn"]
SCHEMA_CHECK_MODES: tuple[SchemaCheck, ...] = ("strict", "warn")


def check_mode(value: str | None, *, where: str) -> SchemaCheck | None:
    """``value`` as a mode, or None (unset); anything else is a mistake caught where it is written."""
    if value is None or value in SCHEMA_CHECK_MODES:
        return value
    raise ValueError(f"{where}: schema_check must be 'strict' or 'warn', got {value!r}")


def default_mode(*, has_typed_rules: bool) -> SchemaCheck:
    return "warn" if has_typed_rules else "strict"


def read_model_schema(
    hook: ApimartHook, body: CheckedBody, *, mode: SchemaCheck | None, task_id: str, log: Any
) -> ModelSchema | None:
    """The schema of the body's model, or None where ``warn`` lets the submit go ahead without one.

    ``mode`` unset: the connection's ``schema_check``, else the default for the body's model.
    """
    model = body.model
    mode = mode or hook.get_settings().schema_check or default_mode(has_typed_rules=body.typed_rules)
    try:
        schema = hook.get_model_schema(model, VIDEO_GENERATION)
    except (ApimartNotFoundError, ApimartBadRequestError) as error:
        _no_schema(model, mode=mode, task_id=task_id, log=log, detail=str(error))
        return None
    except (ApimartTransientAPIError, ApimartConnectionError, ApimartResponseError) as error:
        _unreadable(model, mode=mode, task_id=task_id, log=log, detail=str(error))
        return None
    if schema.operation != VIDEO_GENERATION:
        raise ApimartValidationError(
            model,
            [("model", f"is not a video model: APIMart's schema for it is for {schema.operation!r}")],
            task_id=task_id,
        )
    unusable = schema.schema_error()
    if unusable is not None:
        _unreadable(model, mode=mode, task_id=task_id, log=log, detail=f"not a valid JSON Schema: {unusable}")
        return None
    return schema


def check_body(schema: ModelSchema, body: dict[str, Any], *, task_id: str, log: Any) -> str:
    """Refuse a body that breaks the schema, naming the task and each parameter; the schema's digest."""
    problems = schema.problems(body)
    if problems:
        raise ApimartValidationError(schema.model, problems, task_id=task_id)
    log.info(
        "The %s request matches APIMart's schema for the model (sha256 %s).", schema.model, schema.sha256[:12]
    )
    return schema.sha256


def _no_schema(model: str, *, mode: SchemaCheck, task_id: str, log: Any, detail: str) -> None:
    if mode == "strict":
        raise ApimartValidationError(
            model,
            [
                (
                    "model",
                    "APIMart has no video_generation schema for this model (check the name: "
                    "ApimartHook().list_models() lists them), so it is not sent; schema_check='warn' "
                    "sends it unchecked",
                )
            ],
            task_id=task_id,
        )
    log.warning(
        "APIMart has no schema for model %s (%s); sending the request unchecked (schema_check='warn').",
        model,
        detail,
    )


def _unreadable(model: str, *, mode: SchemaCheck, task_id: str, log: Any, detail: str) -> None:
    if mode == "strict":
        raise ApimartSchemaUnavailableError(
            f"Task {task_id!r}: could not read APIMart's schema for model {model!r}, so nothing was sent "
            f"({detail}). A retry reads it again; schema_check='warn' sends the request unchecked."
        )
    log.warning(
        "Could not read APIMart's schema for model %s (%s); sending the request unchecked "
        "(schema_check='warn').",
        model,
        detail,
    )
