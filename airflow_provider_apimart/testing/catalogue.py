"""The simulator's model catalogue: ``GET /v1/models``, ``/v1/model-schema`` and ``/v1/model-docs``.

Each model's ``input_schema`` is a JSON Schema of the body without ``model``, written from the
model's page on docs.apimart.ai (the cross-field rules stay with the provider's request models,
which the simulator also applies to the four documented models). Two more models stand for the
ones APIMart adds every month and this package has no operator for: ``kling-v3`` (strict) and
``veo3`` (open: unknown fields pass). ``SimulatorConfig.extra_models`` adds a user's own.
"""

from __future__ import annotations

import time
from typing import Any

WEB_URL = {"type": "string", "pattern": "^https?://"}
IMAGE_URL = {"type": "string", "pattern": "^(https?://|data:image/)"}
SEED = {"type": "integer", "minimum": 0}


def _strict(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


#: https://docs.apimart.ai/en/api-reference/videos/wan2.6/i2v-flash-generation
WAN26_SCHEMA = _strict(
    {
        "image_urls": {"type": "array", "items": IMAGE_URL, "minItems": 1, "maxItems": 1},
        "prompt": {"type": "string"},
        "negative_prompt": {"type": "string", "maxLength": 500},
        "resolution": {"enum": ["720p", "1080p"]},
        "duration": {"type": "integer", "minimum": 2, "maximum": 15},
        "audio": {"type": "boolean"},
        "audio_url": WEB_URL,
        "prompt_extend": {"type": "boolean"},
        "shot_type": {"enum": ["single", "multi"]},
        "seed": SEED,
        "watermark": {"type": "boolean"},
        "template": {"type": "string"},
    },
    required=("image_urls",),
)

#: https://docs.apimart.ai/en/api-reference/videos/wan2.7/generation
WAN27_SCHEMA = _strict(
    {
        "prompt": {"type": "string", "maxLength": 5000},
        "image_urls": {"type": "array", "items": IMAGE_URL},
        "image_with_roles": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"url": WEB_URL, "role": {"enum": ["first_frame", "last_frame"]}},
                "required": ["url"],
                "additionalProperties": False,
            },
        },
        "video_urls": {"type": "array", "items": WEB_URL},
        "negative_prompt": {"type": "string", "maxLength": 500},
        "resolution": {"enum": ["720P", "1080P"]},
        "duration": {"type": "integer", "minimum": 2, "maximum": 15},
        "size": {"enum": ["16:9", "9:16", "1:1", "4:3", "3:4"]},
        "audio_url": WEB_URL,
        "prompt_extend": {"type": "boolean"},
        "watermark": {"type": "boolean"},
        "seed": SEED,
    }
)

RATIO = {"type": "string", "pattern": "^[0-9]+:[0-9]+$"}

#: https://docs.apimart.ai/en/api-reference/videos/omni-flash-ext/generation
OMNI_SCHEMA = _strict(
    {
        "prompt": {"type": "string", "minLength": 1},
        "duration": {"enum": [4, 6, 8, 10]},
        "resolution": {"type": "string", "pattern": "^(720[pP]|1080[pP]|4[kK])$"},
        "aspect_ratio": RATIO,
        "size": RATIO,
        "image_urls": {"type": "array", "items": IMAGE_URL},
        "video_urls": {"type": "array", "items": WEB_URL, "maxItems": 1},
    },
    required=("prompt",),
)

#: https://docs.apimart.ai/en/api-reference/videos/kling-v2-6/generation
KLING_V26_SCHEMA = _strict(
    {
        "prompt": {"type": "string", "minLength": 1, "maxLength": 2500},
        "mode": {"enum": ["std", "pro"]},
        "duration": {"enum": [5, 10]},
        "aspect_ratio": {"enum": ["16:9", "9:16", "1:1"]},
        "negative_prompt": {"type": "string"},
        "image_urls": {"type": "array", "items": IMAGE_URL, "maxItems": 2},
        "audio": {"type": "boolean"},
        "watermark": {"type": "boolean"},
    },
    required=("prompt",),
)

#: A newer model with no operator of its own: the schema is the only check before it is paid.
KLING_V3_SCHEMA = _strict(
    {
        "prompt": {"type": "string", "minLength": 1, "maxLength": 2500},
        "mode": {"enum": ["std", "pro"]},
        "duration": {"type": "integer", "minimum": 3, "maximum": 15},
        "aspect_ratio": {"enum": ["16:9", "9:16", "1:1"]},
        "negative_prompt": {"type": "string", "maxLength": 2500},
        "image_urls": {"type": "array", "items": IMAGE_URL, "maxItems": 2},
        "sound": {"type": "boolean"},
        "cfg_scale": {"type": "number", "minimum": 0, "maximum": 1},
    },
    required=("prompt",),
)

#: An open schema: fields it does not name pass, as on models whose pages list only a few.
VEO3_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "prompt": {"type": "string", "minLength": 1},
        "image_urls": {"type": "array", "items": IMAGE_URL, "maxItems": 3},
        "aspect_ratio": {"enum": ["16:9", "9:16"]},
        "duration": {"type": "integer", "minimum": 4, "maximum": 8},
        "enhance_prompt": {"type": "boolean"},
    },
    "required": ["prompt"],
}

MODEL_SCHEMAS: dict[str, dict[str, Any]] = {
    "wan2.6-i2v-flash": WAN26_SCHEMA,
    "wan2.7": WAN27_SCHEMA,
    "Omni-Flash-Ext": OMNI_SCHEMA,
    "kling-v2-6": KLING_V26_SCHEMA,
    "kling-v3": KLING_V3_SCHEMA,
    "veo3": VEO3_SCHEMA,
}

#: When the catalogue was "published", for ``created`` in the model list.
_PUBLISHED = 1_785_571_200

DOC_PAGES = {
    "wan2.6-i2v-flash": "videos/wan2.6/i2v-flash-generation",
    "wan2.7": "videos/wan2.7/generation",
    "Omni-Flash-Ext": "videos/omni-flash-ext/generation",
    "kling-v2-6": "videos/kling-v2-6/generation",
}


def model_schemas(extra_models: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every model this simulator offers, with the schema of its body."""
    return {**MODEL_SCHEMAS, **extra_models}


def model_list(extra_models: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ``GET /v1/models`` answer."""
    return {
        "object": "list",
        "data": [
            {
                "id": name,
                "object": "model",
                "created": _PUBLISHED,
                "owned_by": "apimart",
                "operations": ["video_generation"],
            }
            for name in sorted(model_schemas(extra_models), key=str.lower)
        ],
    }


def schema_answer(model: str, input_schema: dict[str, Any]) -> dict[str, Any]:
    """The ``GET /v1/model-schema`` answer: a bare object, as APIMart's own client reads it."""
    return {
        "object": "model.schema",
        "model": model,
        "operation": "video_generation",
        "input_schema": input_schema,
    }


def docs_answer(model: str, input_schema: dict[str, Any]) -> dict[str, Any]:
    """The ``GET /v1/model-docs`` answer: the parameter list as Markdown."""
    page = DOC_PAGES.get(model)
    doc_url = f"https://docs.apimart.ai/en/api-reference/{page}" if page else "https://docs.apimart.ai/en/"
    required = set(input_schema.get("required", []))
    lines = [f"# {model}", "", "| parameter | required | schema |", "|---|---|---|"]
    for name, rule in input_schema.get("properties", {}).items():
        lines.append(f"| `{name}` | {'yes' if name in required else 'no'} | `{rule}` |")
    return {
        "object": "model.documentation",
        "model": model,
        "doc_url": doc_url,
        "markdown_url": f"{doc_url}.md",
        "markdown": "\n".join(lines) + "\n",
        "fetched_at": int(time.time()),
        "cache_ttl_seconds": 604_800,
        "stale": False,
    }
