"""Where a wire body holds images that are stored files, and the body with those files replaced.

Image inputs are ``image_urls[]`` (every model) and ``image_with_roles[].url`` (wan2.7). An entry
is a stored file when :func:`~airflow_provider_apimart.models.base.is_stored_file` says so (an
absolute path or a non-http(s) storage URI); URLs and data URIs are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.exceptions import ApimartValidationError
from airflow_provider_apimart.models.base import is_stored_file

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from airflow_provider_apimart.inputs.check import CheckedImage


@dataclass(frozen=True)
class ImageInput:
    """One stored image of a body: the parameter that holds it, for messages, and the file as written."""

    parameter: str  # "image_urls[0]", "image_with_roles[1].url"
    reference: str  # "/data/in/cat.png", "s3://conn@bucket/cat.png"


def find_stored_images(body: Mapping[str, Any]) -> list[ImageInput]:
    """The stored-file images of a validated wire body (``build_request(...).to_body()``), in order."""
    return [
        ImageInput(parameter, value) for parameter, value in _image_entries(body) if is_stored_file(value)
    ]


def with_uploaded_urls(body: Mapping[str, Any], urls: Mapping[str, str]) -> dict[str, Any]:
    """The body to send: each stored file replaced by its uploaded URL (``urls``: file -> URL)."""
    return _replaced(body, urls, missing="has no uploaded URL")


def fingerprint_body(body: Mapping[str, Any], checked: Sequence[CheckedImage]) -> dict[str, Any]:
    """The body to fingerprint (Idempotency-Key): each stored file replaced by ``sha256:<digest>``
    of its content, so the key is the same on every try although each upload URL differs, and
    changes when the file does."""
    digests = {image.reference: f"sha256:{image.sha256}" for image in checked}
    return _replaced(body, digests, missing="was not checked")


def require_uploaded(model: str, body: Mapping[str, Any]) -> None:
    """Refuse to send a body that still names stored files: the API cannot read them."""
    if stored := find_stored_images(body):
        raise ApimartValidationError(
            model,
            [
                (image.parameter, f"{image.reference} is a stored file; upload it first and send its URL")
                for image in stored
            ],
        )


def _image_entries(body: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    image_urls = body.get("image_urls")
    if isinstance(image_urls, list):
        for index, value in enumerate(image_urls):
            if isinstance(value, str):
                yield f"image_urls[{index}]", value
    roles = body.get("image_with_roles")
    if isinstance(roles, list):
        for index, entry in enumerate(roles):
            if isinstance(entry, Mapping) and isinstance(entry.get("url"), str):
                yield f"image_with_roles[{index}].url", entry["url"]


def _replaced(body: Mapping[str, Any], replacements: Mapping[str, str], *, missing: str) -> dict[str, Any]:
    unmatched = [image for image in find_stored_images(body) if image.reference not in replacements]
    if unmatched:
        listed = ", ".join(f"{image.parameter} ({image.reference})" for image in unmatched)
        raise ValueError(f"{listed} {missing}")

    def swap(value: Any) -> Any:
        return replacements.get(value, value) if isinstance(value, str) and is_stored_file(value) else value

    result = dict(body)
    if isinstance(body.get("image_urls"), list):
        result["image_urls"] = [swap(value) for value in body["image_urls"]]
    if isinstance(body.get("image_with_roles"), list):
        result["image_with_roles"] = [
            {**entry, "url": swap(entry["url"])} if isinstance(entry, Mapping) and "url" in entry else entry
            for entry in body["image_with_roles"]
        ]
    return result
