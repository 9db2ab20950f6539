"""check_images: every stored image exists, is an image the upload endpoint takes, and is within its
model page's limits, judged from its bytes, read once, before any request."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pytest

from airflow_provider_apimart.exceptions import ApimartValidationError
from airflow_provider_apimart.inputs import ImageInput, check_images, describe_size, image_limits
from airflow_provider_apimart.models import UPLOAD_IMAGE_LIMITS
from airflow_provider_apimart.wording import MiB
from tests.unit.inputs import images

if TYPE_CHECKING:
    from pathlib import Path


def refused(inputs: list[ImageInput], model: str = "wan2.7") -> ApimartValidationError:
    with pytest.raises(ApimartValidationError) as caught:
        check_images(inputs, model)
    return caught.value


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param(images.png(), "image/png", id="png"),
        pytest.param(images.jpeg(), "image/jpeg", id="jpeg"),
        pytest.param(images.gif(), "image/gif", id="gif"),
        pytest.param(images.webp(), "image/webp", id="webp"),
    ],
)
def test_each_upload_format_passes_with_its_bytes_kept(
    tmp_path: Path, content: bytes, content_type: str
) -> None:
    # The name says .bin: the bytes decide.
    path = images.write(tmp_path / "frame.bin", content)
    [checked] = check_images([ImageInput("image_urls[0]", path)], "wan2.7")
    assert checked.parameter == "image_urls[0]"
    assert checked.reference == path
    assert checked.content == content
    assert checked.size == len(content)
    assert checked.content_type == content_type
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.filename == "frame.bin"
    assert repr(content[:8]) not in repr(checked)  # the bytes stay out of logs


def test_file_uri_is_read_like_a_path(tmp_path: Path) -> None:
    path = images.write(tmp_path / "cat.png", images.png())
    [checked] = check_images([ImageInput("image_urls[0]", f"file://{path}")], "kling-v2-6")
    assert checked.content == images.png()


def test_missing_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "in" / "cat.png")
    error = refused([ImageInput("image_urls[0]", missing)])
    assert error.problems == [("image_urls[0]", f"{missing} does not exist")]
    assert "nothing was sent to APIMart" in str(error)


def test_file_over_the_upload_limit(tmp_path: Path) -> None:
    big = images.sparse(tmp_path / "big.png", images.png(), 30 * MiB)
    error = refused([ImageInput("image_urls[0]", big)])
    assert error.problems == [
        ("image_urls[0]", f"{big} is 30.0 MiB; the upload endpoint takes at most 20 MiB")
    ]


def test_text_file_named_png(tmp_path: Path) -> None:
    notes = images.write(tmp_path / "notes.png", b"just some notes, not an image\n")
    [(parameter, message)] = refused([ImageInput("image_urls[0]", notes)]).problems
    assert parameter == "image_urls[0]"
    assert message.startswith(
        f"{notes} is not a JPEG, PNG, WebP or GIF image (judged by its bytes, not its name)"
    )
    assert message.endswith("the upload endpoint takes JPEG, PNG, WebP or GIF")


def test_empty_file_is_not_an_image(tmp_path: Path) -> None:
    empty = images.write(tmp_path / "empty.jpg", b"")
    assert "is not a JPEG, PNG, WebP or GIF image" in str(refused([ImageInput("image_urls[0]", empty)]))


def test_bmp_is_named_as_such(tmp_path: Path) -> None:
    bmp = images.write(tmp_path / "frame.bmp", b"BM" + bytes(100))
    assert f"{bmp} is a BMP image" in str(refused([ImageInput("image_urls[0]", bmp)], "wan2.6-i2v-flash"))


def test_a_folder_is_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "frames").mkdir()
    error = refused([ImageInput("image_urls[0]", str(tmp_path / "frames"))])
    assert "cannot be read (IsADirectoryError" in str(error)


def test_storage_without_a_filesystem_is_refused_by_name() -> None:
    error = refused([ImageInput("image_with_roles[0].url", "nosuchscheme://bucket/cat.png")])
    [(parameter, message)] = error.problems
    assert parameter == "image_with_roles[0].url"
    assert message.startswith("nosuchscheme://bucket/cat.png cannot be opened:")


# ------------------------------------------------------------------ the model page's own limits


def test_wan26_takes_at_most_10_mib(tmp_path: Path) -> None:
    image = images.sparse(tmp_path / "12.png", images.png(), 12 * MiB)
    error = refused([ImageInput("image_urls[0]", image)], "wan2.6-i2v-flash")
    assert error.problems == [
        ("image_urls[0]", f"{image} is 12.0 MiB; wan2.6-i2v-flash takes at most 10 MiB")
    ]
    # The same file is fine where only the upload endpoint's 20 MiB applies.
    assert check_images([ImageInput("image_urls[0]", image)], "wan2.7")[0].size == 12 * MiB


def test_wan26_takes_no_gif(tmp_path: Path) -> None:
    gif = images.write(tmp_path / "loop.gif", images.gif())
    error = refused([ImageInput("image_urls[0]", gif)], "wan2.6-i2v-flash")
    assert error.problems == [
        (
            "image_urls[0]",
            f"{gif} is a GIF image (judged by its bytes, not its name); "
            "wan2.6-i2v-flash takes JPEG, PNG or WebP",
        )
    ]


@pytest.mark.parametrize(
    ("width", "height"),
    [(239, 500), (500, 239), (8001, 500), (500, 8001)],
    ids=["narrow", "low", "wide", "tall"],
)
def test_wan26_sides_from_240_to_8000_pixels(tmp_path: Path, width: int, height: int) -> None:
    image = images.write(tmp_path / "frame.png", images.png(width, height))
    error = refused([ImageInput("image_urls[0]", image)], "wan2.6-i2v-flash")
    assert f"is {width}x{height} pixels; wan2.6-i2v-flash takes 240 to 8000 pixels on each side" in str(error)


@pytest.mark.parametrize(
    "content",
    [
        images.png(240, 8000),
        images.jpeg(8000, 240),
        images.webp(1280, 720, kind="VP8 "),
        images.webp(300, 300, kind="VP8L"),
    ],
    ids=["png", "jpeg", "webp lossy", "webp lossless"],
)
def test_wan26_takes_sides_within_the_range(tmp_path: Path, content: bytes) -> None:
    image = images.write(tmp_path / "frame", content)
    assert check_images([ImageInput("image_urls[0]", image)], "wan2.6-i2v-flash")[0].content == content


def test_other_models_have_no_pixel_rule(tmp_path: Path) -> None:
    image = images.write(tmp_path / "icon.png", images.png(16, 16))
    assert check_images([ImageInput("image_urls[0]", image)], "Omni-Flash-Ext")


@pytest.mark.parametrize("model", ["wan2.7", "Omni-Flash-Ext", "kling-v2-6", "veo3"])
def test_other_models_take_what_the_upload_endpoint_takes(model: str) -> None:
    assert image_limits(model) == UPLOAD_IMAGE_LIMITS


# ------------------------------------------------------------------ several images


def test_every_broken_image_is_reported_at_once(tmp_path: Path) -> None:
    good = images.write(tmp_path / "good.png", images.png())
    notes = images.write(tmp_path / "notes.png", b"text")
    error = refused(
        [
            ImageInput("image_with_roles[0].url", good),
            ImageInput("image_with_roles[1].url", notes),
            ImageInput("image_with_roles[2].url", str(tmp_path / "gone.png")),
        ]
    )
    assert [parameter for parameter, _ in error.problems] == [
        "image_with_roles[1].url",
        "image_with_roles[2].url",
    ]


def test_a_file_named_twice_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_apimart.inputs import check

    path = images.write(tmp_path / "cat.png", images.png())
    reads: list[str] = []
    real = check._read_and_check

    def counting(parameter: str, reference: str, limits: object) -> check.CheckedImage:
        reads.append(reference)
        return real(parameter, reference, limits)  # type: ignore[arg-type]

    monkeypatch.setattr(check, "_read_and_check", counting)
    first, second = check_images(
        [ImageInput("image_urls[0]", path), ImageInput("image_urls[1]", path)], "wan2.7"
    )
    assert reads == [path]
    assert (first.parameter, second.parameter) == ("image_urls[0]", "image_urls[1]")
    assert first.sha256 == second.sha256


def test_no_images_no_work() -> None:
    assert check_images([], "wan2.7") == []


@pytest.mark.parametrize(
    ("size", "shown"), [(200, "200 bytes"), (3584, "3.5 KiB"), (1_258_291, "1.2 MiB"), (30 * MiB, "30.0 MiB")]
)
def test_sizes_read_as_people_say_them(size: int, shown: str) -> None:
    assert describe_size(size) == shown
