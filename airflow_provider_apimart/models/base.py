"""What every request model shares: the wire body, typed validation errors, common field types.

Field types keep the caller's value as given (a URL is not normalised, a resolution keeps its
case) so the body sent is exactly what the DAG author wrote, only checked.
"""

from __future__ import annotations

import ast
import json
import warnings
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from airflow_provider_apimart.exceptions import ApimartRequestWarning, ApimartValidationError
from airflow_provider_apimart.models.images import UPLOAD_IMAGE_LIMITS, ImageLimits, require_web_url
from airflow_provider_apimart.wording import shorten

if TYPE_CHECKING:
    from collections.abc import Callable

#: Shown instead of very long inputs (base64 images) in error messages.
MAX_SHOWN_INPUT_CHARS = 80

#: The list parameters of the documented models. On the generic model, whose fields have no types,
#: these names (and only these, so a JSON-text prompt stays text) get the rendered-text reading.
COLLECTION_PARAMETERS = frozenset({"image_urls", "image_with_roles", "video_urls"})

_LITERAL_NODES = (ast.Expression, ast.List, ast.Tuple, ast.Dict, ast.Load, ast.UnaryOp, ast.USub, ast.UAdd)
_LITERAL_VALUES = (str, int, float, type(None))  # bool is an int


def read_rendered_collection(value: Any) -> Any:
    """The list or dict a rendered Jinja template wrote as text (``"['a.png']"``, ``'["a.png"]'``).

    Airflow renders templates to strings unless the DAG sets ``render_template_as_native_obj``; a
    list parameter must not go out as one string. JSON is read first, then Python literals (only
    lists, tuples, dicts, strings, numbers, booleans and None; no names or calls). Anything else is
    returned as is, so validation reports it.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if (text[:1], text[-1:]) not in {("[", "]"), ("{", "}")}:
        return value
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        try:
            tree = ast.parse(text, mode="eval")
            if not all(_is_plain_literal(node) for node in ast.walk(tree)):
                return value
            parsed = ast.literal_eval(tree)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return value
    return parsed if isinstance(parsed, list | dict) else value


def _is_plain_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, _LITERAL_VALUES)
    return isinstance(node, _LITERAL_NODES)


def reject_bool(value: Any) -> Any:
    # pydantic's lax mode reads True as 1; a boolean duration or seed is always a mistake.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a whole number, not a boolean")
    return value


def one_of(*allowed: int, error: str = "allowed_values") -> Callable[[int], int]:
    """A check that a whole number is one of a closed set, naming the set (and the API's error type)."""
    listed = ", ".join(map(str, allowed))
    suffix = f" (the API answers {error})" if error != "allowed_values" else ""

    def check(value: int) -> int:
        if value not in allowed:
            raise PydanticCustomError(error, f"must be one of {listed}{suffix}")
        return value

    return check


WholeNumber = Annotated[int, BeforeValidator(reject_bool)]
"""An int that also accepts "5" (a rendered Jinja template) but never True/False."""

NonNegativeSeed = Annotated[int, BeforeValidator(reject_bool), Field(ge=0)]
"""All four pages say seed >= 0 and give no upper bound, so none is enforced."""

WebUrl = Annotated[str, AfterValidator(require_web_url)]
"""A public http(s) URL: audio and video inputs have no upload or base64 form."""

CollectionT = TypeVar("CollectionT")

Rendered = Annotated[CollectionT, BeforeValidator(read_rendered_collection)]
"""A list or dict parameter that may arrive as the text a template rendered (see
:func:`read_rendered_collection`): ``Rendered[list[WebUrl]]``."""


_warned: set[str] = set()


def warn_once(message: str) -> None:
    """An :class:`ApimartRequestWarning`, once per process: DAG files are parsed again and again."""
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, ApimartRequestWarning, stacklevel=2)


def warn_base64_images(model: str, image_urls: list[str] | None) -> None:
    """Base64 is on the model pages, yet the upload page says generation no longer takes it."""
    if image_urls and any(url.startswith("data:") for url in image_urls):
        warn_once(
            f"{model}: image_urls holds a base64 data URI. The model page allows it, but APIMart's upload "
            "page says generation endpoints no longer accept base64; if the task fails, upload the "
            "image first (POST /v1/uploads/images) and pass its URL."
        )


RequestT = TypeVar("RequestT", bound="VideoGenerationRequest")


class VideoGenerationRequest(BaseModel):
    """Base of the request models: a flat body of ``model`` plus the parameters that were set.

    Build one with :meth:`validated` to get an
    :class:`~airflow_provider_apimart.exceptions.ApimartValidationError` (an ``AirflowFailException``) naming
    every broken rule, instead of pydantic's own error.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The APIMart model name this class validates (empty on the generic model).
    MODEL_NAME: ClassVar[str] = ""
    #: What a stored image input may be: the upload endpoint's limits unless the page is stricter.
    IMAGE_LIMITS: ClassVar[ImageLimits] = UPLOAD_IMAGE_LIMITS

    model: str

    @model_validator(mode="before")
    @classmethod
    def _read_rendered_extra_collections(cls, data: Any) -> Any:
        # Declared fields read rendered text through their Rendered type; undeclared ones (the
        # generic model's) have no type, so the known list parameters are read here.
        if cls.model_config.get("extra") != "allow" or not isinstance(data, dict):
            return data
        return {
            name: read_rendered_collection(value)
            if name in COLLECTION_PARAMETERS and name not in cls.model_fields
            else value
            for name, value in data.items()
        }

    @classmethod
    def validated(cls: type[RequestT], body: dict[str, Any]) -> RequestT:
        """Validate a wire-style body (``model`` optional) and raise our typed error if it breaks a rule."""
        payload = dict(body)
        if cls.MODEL_NAME:
            payload.setdefault("model", cls.MODEL_NAME)
        try:
            return cls.model_validate(payload)
        except ValidationError as error:
            name = cls.MODEL_NAME or str(payload.get("model") or "video generation")
            raise ApimartValidationError(name, describe_validation_error(error)) from None

    @classmethod
    def parameter_names(cls) -> tuple[str, ...]:
        """The API parameters this model documents (all but ``model``), in the model page's order."""
        return tuple(name for name in cls.model_fields if name != "model")

    def to_body(self) -> dict[str, Any]:
        """The JSON body to POST: ``model`` plus exactly the fields the caller set."""
        fields = self.model_dump(mode="json", exclude_unset=True, exclude={"model"})
        return {"model": self.model, **fields}

    def checked_body(self) -> CheckedBody:
        """This request as sent, serialised once: :class:`CheckedBody`."""
        return CheckedBody(self.to_body(), typed_rules=bool(self.MODEL_NAME))


@dataclass(frozen=True)
class CheckedBody:
    """A request body that its model validated, serialised once: what a try fingerprints, checks
    against APIMart's schema, reserves spend for, sends and records.

    Made by :meth:`VideoGenerationRequest.checked_body`, or from one by :meth:`replaced` (stored
    images swapped for their upload URLs); the hook sends it without validating it again. The
    ``body`` dict is never changed in place.
    """

    body: dict[str, Any]
    #: Checked by the typed rules of a documented model, not only by its name (the generic model).
    typed_rules: bool

    @property
    def model(self) -> str:
        return str(self.body["model"])

    def replaced(self, body: dict[str, Any]) -> CheckedBody:
        """The same request with ``body`` for its JSON (the same parameters, other image URLs)."""
        return replace(self, body=body)


def describe_validation_error(error: ValidationError) -> list[tuple[str, str]]:
    """Turn pydantic's errors into ``(parameter, explanation)`` pairs a DAG author can act on."""
    problems: list[tuple[str, str]] = []
    for detail in error.errors(include_url=False):
        location = ".".join(str(part) for part in detail["loc"])
        if detail["type"] == "extra_forbidden":
            problems.append((location, "is not a parameter of this model (see its model page)"))
            continue
        if detail["type"] == "apimart_rule":
            context = detail.get("ctx", {})
            problems.append((context["parameter"], context["message"]))
            continue
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "missing" or not location:
            problems.append((location or "request", message))
            continue
        given = detail.get("input")
        if detail["type"] == "string_too_long" and isinstance(given, str):
            # The length is what to act on, not the text (which may be thousands of characters).
            problems.append((location, f"{message} (got {len(given)} characters)"))
            continue
        problems.append((location, f"{message} (got {shorten(repr(given), MAX_SHOWN_INPUT_CHARS)})"))
    return problems


def rule_violation(parameter: str, message: str) -> PydanticCustomError:
    """A broken cross-parameter rule, reported under the parameter the user should change."""
    return PydanticCustomError(
        "apimart_rule", "{parameter}: {message}", {"parameter": parameter, "message": message}
    )
