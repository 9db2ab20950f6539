"""What an image input is: where a wire body holds one, when it is a stored file, and its limits.

Image inputs are ``image_urls[]`` (every model) and ``image_with_roles[].url`` (wan2.7). An entry
is a public http(s) URL, a ``data:image/...;base64,`` URI, or a stored file (an absolute path, or a
non-http(s) URI for Airflow's ObjectStoragePath) that the operator checks and uploads before the
submit (:mod:`airflow_provider_apimart.inputs`) and replaces by its URL. The request models, the
hook (which never sends a stored file) and the worker's checks all read these rules from here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from airflow_provider_apimart.exceptions import ApimartValidationError
from airflow_provider_apimart.wording import MiB

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

_URI_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class ImageLimits:
    """What one stored image may be before it is uploaded, and whose words the limits are."""

    #: Named in error messages: "the upload endpoint", or the model page that is stricter.
    source: str
    max_bytes: int
    #: Formats as the MIME types the upload answer uses.
    content_types: frozenset[str]
    #: Inclusive bounds of each side in pixels, where the page gives them.
    min_side: int | None = None
    max_side: int | None = None


#: https://docs.apimart.ai/en/api-reference/uploads/images: JPEG, PNG, WebP or GIF, at most 20 MB.
UPLOAD_IMAGE_LIMITS = ImageLimits(
    source="the upload endpoint",
    max_bytes=20 * MiB,
    content_types=frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"}),
)


def require_web_url(value: str) -> str:
    """A public http(s) URL, as every URL input must be (audio and video too)."""
    if not value.startswith(("http://", "https://")):
        raise PydanticCustomError("url_scheme", "must be a public http:// or https:// URL")
    return value


def is_stored_file(value: str) -> bool:
    """Whether an image input names a file to upload before the submit (an absolute path, or a
    ``file://``, ``s3://``, ``gs://``... URI for Airflow's ObjectStoragePath), not a URL to send."""
    scheme = _URI_SCHEME.match(value)
    if scheme is None:
        return value.startswith("/")
    return scheme.group(1).lower() not in {"http", "https"}


def _require_stored_or_web_image(value: str) -> str:
    if not is_stored_file(value):
        if _URI_SCHEME.match(value) is None and not value.startswith("data:"):
            raise PydanticCustomError(
                "image_reference",
                "is a relative path or not a URL: give a public http(s) URL, an absolute path "
                "(/data/in/cat.png) or a storage URI (file:///data/in/cat.png, s3://conn@bucket/cat.png)",
            )
        return require_web_url(value)
    if value.lower().startswith("file://") and not value[len("file://") :].startswith("/"):
        raise PydanticCustomError(
            "image_reference", "a file:// URI needs an absolute path, like file:///data/in/cat.png"
        )
    if value.endswith(("://", "/")):
        raise PydanticCustomError("image_reference", "names a folder, not an image file")
    return value


def _require_image_reference(value: str) -> str:
    if value.startswith("data:"):
        if not value.startswith("data:image/") or ";base64," not in value:
            raise PydanticCustomError(
                "image_data_uri", "a data URI must look like data:image/<type>;base64,..."
            )
        return value
    return _require_stored_or_web_image(value)


ImageReference = Annotated[str, AfterValidator(_require_image_reference)]
"""An image as a public http(s) URL or a ``data:image/...;base64,`` URI (both documented), or a
stored file (:func:`is_stored_file`) that the operator uploads and replaces by its URL."""

ImageUrlOrFile = Annotated[str, AfterValidator(_require_stored_or_web_image)]
"""An image as an http(s) URL or a stored file, for inputs whose page documents no base64."""


class ImageDigest(Protocol):
    """A checked stored image, as the fingerprint needs it: an
    :class:`~airflow_provider_apimart.inputs.CheckedImage`."""

    @property
    def reference(self) -> str: ...

    @property
    def sha256(self) -> str: ...


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


def fingerprint_body(body: Mapping[str, Any], checked: Sequence[ImageDigest]) -> dict[str, Any]:
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
