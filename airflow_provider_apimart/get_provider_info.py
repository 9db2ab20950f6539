"""Provider metadata for Airflow's ProvidersManager.

Import-free on purpose: Airflow reads this in every component (scheduler, API server, workers),
and the connection form below is declarative (Airflow 3.2+), so showing it imports no hook.
Every module named here must exist; ``tests/unit/test_get_provider_info.py`` imports them all.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_apimart import __version__


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-apimart",
        "name": "APIMart",
        "description": "Generate AI videos with the APIMart API (wan2.6, wan2.7, Omni-Flash-Ext, kling-v2-6) "
        "from Airflow DAGs.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "APIMart",
                "external-doc-url": "https://docs.apimart.ai/",
                "tags": ["service"],
            }
        ],
        "operators": [
            {
                "integration-name": "APIMart",
                "python-modules": [
                    "airflow_provider_apimart.operators.base",
                    "airflow_provider_apimart.operators.video",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "APIMart",
                "python-modules": ["airflow_provider_apimart.sensors.task"],
            }
        ],
        "triggers": [
            {
                "integration-name": "APIMart",
                "python-modules": ["airflow_provider_apimart.triggers.task"],
            }
        ],
        "extra-links": [
            "airflow_provider_apimart.links.video.ApimartStoredVideoLink",
            "airflow_provider_apimart.links.video.ApimartVideoLink",
        ],
        "task-decorators": [
            {
                "name": "apimart_video",
                "class-name": "airflow_provider_apimart.decorators.video.apimart_video_task",
            }
        ],
        "config": {
            "apimart": {
                "description": "Defaults of the APIMart operators and sensor.",
                "options": {
                    "spend_store_path": {
                        "description": "The local spend ledger (SQLite), used when no "
                        "spend_store_conn_id is set. Empty: $AIRFLOW_HOME/apimart_spend.sqlite3.",
                        "version_added": "0.3.0",
                        "type": "string",
                        "example": "/var/lib/airflow/apimart_spend.sqlite3",
                        "default": "",
                    },
                    "first_poll_delay": {
                        "description": "Seconds between a submit (or a deferral) and the first status "
                        "read, plus up to 2 s of jitter. APIMart advises 5-10 s, and a trigger that fires "
                        "within a second or two of its deferral can meet a scheduler race in Airflow 3.3 "
                        "(apache/airflow#72716). Tests against the local simulator set it near 0.",
                        "version_added": "0.2.0",
                        "type": "float",
                        "example": "5",
                        "default": "5",
                    },
                    "model_schema_max_age": {
                        "description": "Seconds a worker process reuses APIMart's schema of a model "
                        "(read before each paid submit to check the body) before it reads it again.",
                        "version_added": "0.2.0",
                        "type": "float",
                        "example": "3600",
                        "default": "3600",
                    },
                    "max_video_bytes": {
                        "description": "The largest result video a worker downloads into output_path, "
                        "in bytes. A larger one (by its headers, or as it arrives) fails the task without "
                        "a retry, before it fills the disk. APIMart's clips are tens of MB.",
                        "version_added": "0.2.0",
                        "type": "integer",
                        "example": "2147483648",
                        "default": "2147483648",
                    },
                    "ui_plugin": {
                        "description": "Whether Airflow's API server loads the APIMart plugin: the "
                        "APIMart page, the Videos tab of runs and task instances and the media endpoint "
                        "at /apimart. Set to False to keep them out of the UI.",
                        "version_added": "0.3.0",
                        "type": "boolean",
                        "example": "False",
                        "default": "True",
                    },
                },
            }
        },
        "hooks": [
            {
                "integration-name": "APIMart",
                "python-modules": ["airflow_provider_apimart.hooks.apimart"],
            }
        ],
        "connection-types": [
            {
                "connection-type": "apimart",
                "hook-class-name": "airflow_provider_apimart.hooks.apimart.ApimartHook",
                "hook-name": "APIMart",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "login", "port", "extra"],
                    "relabeling": {"password": "API Key", "host": "Base URL"},
                    "placeholders": {
                        "host": "https://api.apimart.ai (leave empty for the default)",
                        "password": "your APIMart API key",
                    },
                },
                "conn-fields": {
                    "timeout": {
                        "label": "Request timeout (seconds)",
                        "description": "How long to wait for one HTTP answer from APIMart. "
                        "Rendering time is not included: jobs are polled.",
                        "schema": {"type": ["number", "null"], "default": 30, "exclusiveMinimum": 0},
                    },
                    "max_retries": {
                        "label": "Max retries per request",
                        "description": "Retries of one request on network errors, HTTP 429 and 5xx, "
                        "before Airflow's own task retries. A submit is never retried where it may "
                        "already have created a job, unless it carries an Idempotency-Key.",
                        "schema": {"type": ["integer", "null"], "default": 3, "minimum": 0, "maximum": 10},
                    },
                    "min_balance": {
                        "label": "Minimum balance to submit",
                        "description": "Operators check the key's balance right before a paid submit and "
                        "fail without submitting when it is below this (in the balance's own unit). "
                        "Empty: no check. An operator's min_balance argument wins.",
                        "schema": {"type": ["number", "null"], "minimum": 0},
                    },
                    "schema_check": {
                        "label": "When a model's schema cannot be read",
                        "description": "Every request is checked against APIMart's schema of its model "
                        "before a paid submit. strict: send nothing when the schema cannot be read; "
                        "warn: send it unchecked, with a warning. Empty: strict for models without "
                        "typed operators, warn for the four typed ones. An operator's schema_check wins.",
                        "schema": {"type": ["string", "null"], "enum": ["strict", "warn", None]},
                    },
                    "run_spend_limit": {
                        "label": "Spend limit per DAG run",
                        "description": "Before each paid submit, the job's estimated cost is reserved "
                        "against this; a job that would cross it fails without submitting. Needs "
                        "spend_prices or an earlier job's real cost. Empty: no limit.",
                        "schema": {"type": ["number", "null"], "minimum": 0},
                    },
                    "daily_spend_limit": {
                        "label": "Spend limit per day (UTC) for this connection",
                        "description": "The same, summed over every DAG that uses this connection.",
                        "schema": {"type": ["number", "null"], "minimum": 0},
                    },
                    "spend_prices": {
                        "label": "Prices for spend limits (JSON)",
                        "description": 'Per model: a price per job, {"per_second": p}, or a list of '
                        'rules [{"when": {"resolution": "1080p"}, "price": p}, ...].',
                        "schema": {"type": ["string", "null"]},
                    },
                    "spend_store_conn_id": {
                        "label": "Spend store connection",
                        "description": "A redis or postgres connection every worker shares. Empty: a "
                        "local file, right for one machine only.",
                        "schema": {"type": ["string", "null"]},
                    },
                },
            }
        ],
    }
