"""Which Airflow is running, so features can be gated on it, and the one import that moved.

Airflow 3.3 adds ``task_state_store`` (reattach instead of resubmitting on retry) and
``BaseTrigger.on_kill``; 3.1 and 3.2 run without them. The connection form declared in provider
info is read from 3.2 on. ``AirflowFailException`` and ``conf`` are in the task SDK on 3.3; on 3.1
they live only in ``airflow.exceptions`` and ``airflow.configuration``. (TaskFlow's
``determine_kwargs``, which also moved, is imported where it is used: the decorator module, since
its new home loads Airflow's decorator machinery, which a DAG parse that uses no decorator skips.)
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from airflow_provider_apimart import _release_tuple

try:
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSkipException,
    )
except ImportError:  # pragma: no cover - Airflow 3.1
    from airflow.exceptions import (  # type: ignore[no-redef,attr-defined,unused-ignore]
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSkipException,
    )
try:
    from airflow.sdk import conf
except ImportError:  # pragma: no cover - Airflow 3.1
    from airflow.configuration import conf  # type: ignore[no-redef,attr-defined,assignment,unused-ignore]


def _airflow_release() -> tuple[int, ...]:
    try:
        return _release_tuple(version("apache-airflow"))
    except PackageNotFoundError:
        from airflow import __version__ as airflow_version

        return _release_tuple(airflow_version)


def mask_in_logs(secret: str) -> None:
    """Tell Airflow's log masker about a secret (sync: a worker or the API server)."""
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


async def amask_in_logs(secret: str) -> None:
    """Tell Airflow's log masker about a secret from an event loop (3.3 has an async masker; before
    it, the sync one could block the triggerer's loop, so the provider's own redaction suffices)."""
    try:
        from airflow.sdk.log import amask_secret
    except ImportError:  # pragma: no cover - Airflow 3.1 and 3.2
        return
    await amask_secret(secret)


AIRFLOW_RELEASE = _airflow_release()
AIRFLOW_V_3_2_PLUS = AIRFLOW_RELEASE[:2] >= (3, 2)
AIRFLOW_V_3_3_PLUS = AIRFLOW_RELEASE[:2] >= (3, 3)

__all__ = [
    "AIRFLOW_RELEASE",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "AirflowException",
    "AirflowFailException",
    "AirflowNotFoundException",
    "AirflowSkipException",
    "amask_in_logs",
    "conf",
    "mask_in_logs",
]
