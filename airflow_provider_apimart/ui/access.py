"""Airflow's own auth, applied to every view and endpoint of the APIMart plugin.

A FastAPI app that a plugin mounts is not protected by Airflow: each route here depends on
Airflow's ``get_user`` (the session cookie or a bearer token; none gives 401) and asks the
configured auth manager which DAGs the user may read. A DAG-scoped route uses Airflow's
``requires_access_dag`` on its ``dag_id`` (403 when refused, as the REST API answers); a list
holds only the DAGs :func:`readable_dag_ids` returns, so a user never sees another DAG's videos,
prompts or costs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session


def user_dependency() -> Any:
    """Airflow's dependency that resolves the signed-in user (401 without a valid token)."""
    from airflow.api_fastapi.core_api.security import get_user

    return get_user


def dag_read_dependency() -> Callable[..., None]:
    """Airflow's check that the user may read the XComs of the request's ``dag_id``."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag

    return requires_access_dag("GET", DagAccessEntity.XCOM)


def readable_dag_ids(user: Any, session: Session) -> set[str]:
    """The DAGs ``user`` may read, as the configured auth manager decides."""
    from airflow.api_fastapi.app import get_auth_manager

    return set(get_auth_manager().get_authorized_dag_ids(user=user, method="GET", session=session))
