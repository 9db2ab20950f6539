"""The four typed models agree with the simulator's schemas of them (APIMart's model pages, as JSON Schema).

Probes are made from each schema (every enum value and one outside it, each bound and one past it,
each length limit, each type) and sent through both judges: a body the typed model accepts must
pass the schema as it goes on the wire, and a body it refuses must break the schema too.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_apimart.exceptions import ApimartValidationError
from airflow_provider_apimart.models.registry import REQUEST_MODELS, build_request
from airflow_provider_apimart.models.schemas import ModelSchema
from airflow_provider_apimart.operators.video import MODEL_OPERATORS
from airflow_provider_apimart.testing.catalogue import MODEL_SCHEMAS, schema_answer

IMAGE = "https://cdn.example.com/cat.png"
#: A valid body per model that each probe changes in one field (kling in pro mode, so that its
#: two-image and audio probes meet the page's cross-field rules).
BASES: dict[str, dict[str, Any]] = {
    "wan2.6-i2v-flash": {"image_urls": [IMAGE]},
    "wan2.7": {"prompt": "a fox"},
    "Omni-Flash-Ext": {"prompt": "a fox"},
    "kling-v2-6": {"prompt": "a fox", "mode": "pro"},
}
#: What the schemas say with a pattern, probed by hand.
PATTERN_PROBES: dict[str, list[tuple[str, Any]]] = {
    "Omni-Flash-Ext": [
        ("resolution", "4K"),
        ("resolution", "1080P"),
        ("resolution", "8k"),
        ("aspect_ratio", "wide"),
    ],
    "wan2.7": [
        ("audio_url", "https://cdn.example.com/a.mp3"),
        ("video_urls", ["https://cdn.example.com/v.mp4"]),
    ],
}
OPERATORS = MODEL_OPERATORS


def probes(schema: dict[str, Any]) -> list[tuple[str, Any]]:
    """(parameter, value) pairs at and just past every limit the schema states."""
    found: list[tuple[str, Any]] = []
    for name, rule in schema["properties"].items():
        if "enum" in rule:
            found += [(name, value) for value in rule["enum"]]
            found.append((name, 999 if isinstance(rule["enum"][0], int) else "not-a-listed-value"))
        kind = rule.get("type")
        if kind == "integer":
            low, high = rule.get("minimum"), rule.get("maximum")
            found += [(name, value) for value in (low, high) if value is not None]
            found += [
                (name, value)
                for value in (low - 1 if low is not None else None, high + 1 if high else None)
                if value is not None
            ]
            found.append((name, "many"))
        if kind == "string":
            if "maxLength" in rule:
                found += [(name, "x" * rule["maxLength"]), (name, "x" * (rule["maxLength"] + 1))]
            if rule.get("minLength"):
                found.append((name, ""))
            found.append((name, 12))
        if kind == "boolean":
            found += [(name, True), (name, False), (name, [True])]
        if kind == "array":
            item = {"url": IMAGE} if rule["items"].get("type") == "object" else IMAGE
            for count in {rule.get("minItems", 1), rule.get("maxItems", 1)}:
                found.append((name, [item] * count))
            if "maxItems" in rule:
                found.append((name, [item] * (rule["maxItems"] + 1)))
            if rule.get("minItems"):
                found.append((name, []))
    return found


def cases() -> list[tuple[str, str, Any]]:
    return [
        (model, parameter, value)
        for model in REQUEST_MODELS
        for parameter, value in probes(MODEL_SCHEMAS[model]) + PATTERN_PROBES.get(model, [])
    ]


@pytest.mark.parametrize(("model", "parameter", "value"), cases())
def test_the_typed_rules_and_the_schema_judge_each_probe_alike(
    model: str, parameter: str, value: Any
) -> None:
    schema = ModelSchema.model_validate(schema_answer(model, MODEL_SCHEMAS[model]))
    body = {"model": model, **BASES[model], parameter: value}
    try:
        wire: dict[str, Any] | None = build_request(body).to_body()
    except ApimartValidationError:
        wire = None
    if wire is None:
        assert schema.problems(body), f"the typed rules refuse {parameter}={value!r}; the schema does not"
    else:
        assert schema.problems(wire) == [], (
            f"the typed rules accept {parameter}={value!r}; the schema does not"
        )


@pytest.mark.parametrize("model", list(OPERATORS))
def test_each_schema_names_exactly_the_operators_parameters(model: str) -> None:
    assert set(MODEL_SCHEMAS[model]["properties"]) == set(OPERATORS[model].request_fields)


@pytest.mark.parametrize("model", list(MODEL_SCHEMAS))
def test_every_simulated_schema_is_a_valid_json_schema(model: str) -> None:
    assert ModelSchema.model_validate(schema_answer(model, MODEL_SCHEMAS[model])).schema_error() is None
