"""List and dict parameters that a Jinja template rendered as text are read as the list or dict."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_apimart.models import build_request, read_rendered_collection
from tests.unit.models.helpers import assert_rejected

A, B = "https://cdn.example.com/a.png", "https://cdn.example.com/b.png"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("['a.png', 'b.png']", ["a.png", "b.png"], id="python repr"),
        pytest.param('["a.png"]', ["a.png"], id="json"),
        pytest.param("  [ ]\n", [], id="empty, with blanks"),
        pytest.param("{'url': 'a.png', 'role': None}", {"url": "a.png", "role": None}, id="python dict"),
        pytest.param(
            '{"url": "a.png", "n": -1, "ok": true}', {"url": "a.png", "n": -1, "ok": True}, id="json dict"
        ),
        pytest.param("[('a', 1.5), False]", [("a", 1.5), False], id="tuples, numbers, booleans"),
    ],
)
def test_text_of_a_list_or_dict_is_read(text: str, value: Any) -> None:
    assert read_rendered_collection(text) == value


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("a.png", id="plain text"),
        pytest.param("[a.png]", id="not a literal"),
        pytest.param("[__import__('os').system('true')]", id="call"),
        pytest.param("[x for x in 'ab']", id="comprehension"),
        pytest.param("[b'bytes', 1j]", id="bytes and complex"),
        pytest.param("{'a', 'b'}", id="set"),
        pytest.param("['unclosed'", id="broken"),
        pytest.param("('a', 'b')", id="tuple text is not a list"),
        pytest.param("[" * 5000 + "]" * 5000, id="absurdly deep"),
        pytest.param(["already", "a list"], id="a list"),
        pytest.param(5, id="a number"),
    ],
)
def test_anything_else_is_left_for_validation_to_judge(value: Any) -> None:
    assert read_rendered_collection(value) is value


@pytest.mark.parametrize("text", [f"['{A}', '{B}']", f'["{A}", "{B}"]'], ids=["python repr", "json"])
@pytest.mark.parametrize(
    "request_body",
    [{"model": "wan2.7"}, {"model": "kling-v2-6", "prompt": "a", "mode": "pro"}],
    ids=["wan2.7", "kling-v2-6"],
)
def test_image_urls_rendered_as_text(text: str, request_body: dict[str, Any]) -> None:
    body = build_request({**request_body, "image_urls": text}).to_body()
    assert body["image_urls"] == [A, B]


def test_image_urls_text_on_every_model() -> None:
    assert build_request({"model": "wan2.6-i2v-flash", "image_urls": f"['{A}']"}).to_body()["image_urls"] == [
        A
    ]
    omni = build_request({"model": "Omni-Flash-Ext", "prompt": "a", "image_urls": f'["{A}"]'}).to_body()
    assert omni["image_urls"] == [A]


def test_rendered_list_entries_are_still_checked() -> None:
    # The text was read as a list: the error names its entries, not "Input should be a valid list".
    assert_rejected({"model": "wan2.7", "image_urls": "['a.png', 'b.png']"}, "image_urls.0", "relative path")


@pytest.mark.parametrize(
    "text",
    [
        f"[{{'url': '{A}', 'role': 'first_frame'}}, {{'url': '{B}', 'role': 'last_frame'}}]",
        f'[{{"url": "{A}", "role": "first_frame"}}, {{"url": "{B}", "role": "last_frame"}}]',
    ],
    ids=["python repr", "json"],
)
def test_image_with_roles_rendered_as_text(text: str) -> None:
    body = build_request({"model": "wan2.7", "image_with_roles": text}).to_body()
    assert body["image_with_roles"] == [{"url": A, "role": "first_frame"}, {"url": B, "role": "last_frame"}]


def test_each_image_with_roles_entry_rendered_as_text() -> None:
    # image_with_roles=["{{ first }}", "{{ last }}"]: each entry renders to the text of a dict.
    entries = [f"{{'url': '{A}'}}", f'{{"url": "{B}", "role": "last_frame"}}']
    body = build_request({"model": "wan2.7", "image_with_roles": entries}).to_body()
    assert body["image_with_roles"] == [{"url": A}, {"url": B, "role": "last_frame"}]


@pytest.mark.parametrize(
    "text", ["['https://a/clip.mp4']", '["https://a/clip.mp4"]'], ids=["python repr", "json"]
)
@pytest.mark.parametrize("model", ["wan2.7", "Omni-Flash-Ext"])
def test_video_urls_rendered_as_text(text: str, model: str) -> None:
    body = build_request({"model": model, "prompt": "a", "video_urls": text}).to_body()
    assert body["video_urls"] == ["https://a/clip.mp4"]


def test_text_that_is_no_list_is_reported_as_such() -> None:
    assert_rejected(
        {"model": "wan2.7", "prompt": "a", "video_urls": "https://a/clip.mp4"}, "video_urls", "valid list"
    )


def test_generic_model_reads_its_list_parameters_and_nothing_else() -> None:
    body = {
        "model": "veo3",
        "image_urls": f"['{A}']",
        "video_urls": '["https://a/clip.mp4"]',
        "image_with_roles": f"[{{'url': '{A}'}}]",
        # A structured prompt written as JSON is text the model wants as text.
        "prompt": '{"shot": "wide", "subject": "a cat"}',
        "tags": "['kept', 'as text']",
    }
    sent = build_request(body).to_body()
    assert sent == {
        **body,
        "image_urls": [A],
        "video_urls": ["https://a/clip.mp4"],
        "image_with_roles": [{"url": A}],
    }
