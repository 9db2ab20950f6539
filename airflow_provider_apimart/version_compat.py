"""Which Airflow is running, so features (not imports) can be gated on it.

Airflow 3.3 adds ``task_state_store`` (reattach instead of resubmitting on retry) and
``BaseTrigger.on_kill``; 3.1 and 3.2 run without them.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from airflow_provider_apimart import _release_tuple


def _airflow_release() -> tuple[int, ...]:
    try:
        return _release_tuple(version("apache-airflow"))
    except PackageNotFoundError:
        from airflow import __version__ as airflow_version

        return _release_tuple(airflow_version)


AIRFLOW_RELEASE = _airflow_release()
AIRFLOW_V_3_2_PLUS = AIRFLOW_RELEASE[:2] >= (3, 2)
AIRFLOW_V_3_3_PLUS = AIRFLOW_RELEASE[:2] >= (3, 3)

__all__ = ["AIRFLOW_RELEASE", "AIRFLOW_V_3_2_PLUS", "AIRFLOW_V_3_3_PLUS"]
