"""Any APIMart video model through the generic operator (docs: "Any other model").

docs/examples/test_every_dag.py runs it against the APIMart simulator.
"""

from __future__ import annotations

from airflow.sdk import Param, dag

from airflow_provider_apimart.operators.video import ApimartVideoGenerationOperator


@dag(
    schedule=None,
    params={
        "prompt": Param("Waves crashing against rocks at dusk", type="string"),
        "duration": Param(5, type="integer"),
    },
    default_args={"deferrable": True, "retries": 2},
)
def any_model() -> None:
    # [START howto_generic_unknown_model]
    ApimartVideoGenerationOperator(
        task_id="veo3",
        model="veo3",
        body={"prompt": "A fox trotting through fresh snow, low camera", "duration": 8},
    )
    # [END howto_generic_unknown_model]

    # [START howto_generic_documented_model]
    ApimartVideoGenerationOperator(
        task_id="kling",
        model="kling-v2-6",
        # Checked with kling-v2-6's rules; the rendered "5" is sent as the number 5.
        body={"prompt": "{{ params.prompt }}", "mode": "std", "duration": "{{ params.duration }}"},
    )
    # [END howto_generic_documented_model]


any_model()
