"""Sensor: wait for an APIMart task that something else submitted, and keep its video.

Shows: ApimartTaskSensor in deferrable mode on a task id made outside the waiting task. Here a
``wait_for_completion=False`` submit stands in for "elsewhere" (another DAG, a script, a
webhook); triggered with ``remote_task_id``, the sensor waits on that task instead. The sensor
fails at once if the task fails. Costs: 1 paid generation (the stand-in submit, which runs
either way: delete it when your ids really come from elsewhere).
"""

from __future__ import annotations

from _common import OUTPUT_PATH, POLL_INTERVAL
from airflow.sdk import Param, dag

from airflow_provider_apimart.operators.video import ApimartOmniFlashExtOperator
from airflow_provider_apimart.sensors.task import ApimartTaskSensor


# [START howto_pattern_sensor]
@dag(
    schedule=None,
    tags=["apimart", "example", "sensor"],
    params={"remote_task_id": Param("", type="string", description="An APIMart task id; empty submits one")},
)
def example_apimart_sensor() -> None:
    submitted_elsewhere = ApimartOmniFlashExtOperator(
        task_id="submitted_elsewhere",
        prompt="a girl is dancing happily in a sunny garden",
        duration=4,
        wait_for_completion=False,
    )
    wait = ApimartTaskSensor(
        task_id="wait_for_video",
        remote_task_id=(
            "{{ params.remote_task_id"
            " or ti.xcom_pull(task_ids='submitted_elsewhere', key='apimart_task_id') }}"
        ),
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        timeout=3600,
        output_path=OUTPUT_PATH,
    )
    submitted_elsewhere >> wait
    # [END howto_pattern_sensor]


example_apimart_sensor()
