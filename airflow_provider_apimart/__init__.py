"""Apache Airflow provider for APIMart AI video generation.

Importing this package stays cheap (it runs on every DAG parse): it only reads installed
package metadata to refuse an Airflow it was not built for, with a message that says what to do.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version

__version__ = "0.2.0"

MINIMUM_AIRFLOW_VERSION = (3, 1)


def _release_tuple(raw_version: str) -> tuple[int, ...]:
    """Leading numeric release of a version string: '3.3.2rc1' -> (3, 3, 2)."""
    release = re.match(r"\d+(?:\.\d+)*", raw_version)
    return tuple(int(part) for part in release.group().split(".")) if release else ()


def _check_airflow_version() -> None:
    try:
        installed = version("apache-airflow")
    except PackageNotFoundError:
        # A worker with only the task SDK installed: nothing to compare against.
        return
    if _release_tuple(installed)[:2] < MINIMUM_AIRFLOW_VERSION:
        minimum = ".".join(map(str, MINIMUM_AIRFLOW_VERSION))
        raise RuntimeError(
            f"airflow-provider-apimart {__version__} needs apache-airflow>={minimum}, "
            f"but {installed} is installed. Upgrade Airflow or pin an older provider."
        )


_check_airflow_version()
