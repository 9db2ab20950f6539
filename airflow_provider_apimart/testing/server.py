"""Run the simulator as a real HTTP server on 127.0.0.1, in a background thread."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from typing import TYPE_CHECKING

import uvicorn

from airflow_provider_apimart.testing.app import build_app
from airflow_provider_apimart.testing.config import SimulatorConfig
from airflow_provider_apimart.testing.media import DroppedConnection
from airflow_provider_apimart.testing.state import SimulatorState

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

#: Seconds an idle keep-alive connection stays open: longer than any sane poll interval, so
#: pollers reuse their connection as they would against the real API.
KEEP_ALIVE_SECONDS = 120
STARTUP_TIMEOUT_SECONDS = 10


class _HideSimulatedDrops(logging.Filter):
    """A dropped connection is a scenario, not a server bug: keep its traceback out of logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


class ApimartSimulator:
    """A local APIMart that behaves like the documented API (see ``SimulatorConfig``).

    ::

        with ApimartSimulator() as simulator:
            os.environ.update(simulator.connection_env())
            ...  # run hooks or DAGs against simulator.base_url
            assert simulator.state.paid_count() == 1

    :param config: scenario knobs; also reachable, and changeable, as ``simulator.config``.
    :param host: the address to bind; loopback only, by design.
    :param port: 0 (default) lets the OS choose a free port.
    :param request_log: called with one line per request, from the server's thread (the CLI's
        ``--log-requests`` passes ``print``); the line never holds the key or a query string.
    """

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        request_log: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config or SimulatorConfig()
        self.state = SimulatorState(self.config)
        self._host = host
        self._requested_port = port
        self._request_log = request_log
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("The simulator is not running: call start() or use it as a context manager")
        return int(self._socket.getsockname()[1])

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def api_key(self) -> str:
        return self.config.api_key

    def connection_json(self) -> str:
        """The ``AIRFLOW_CONN_*`` value of an apimart connection to this simulator."""
        return json.dumps({"conn_type": "apimart", "password": self.api_key, "host": self.base_url})

    def connection_env(self, conn_id: str = "apimart_default") -> dict[str, str]:
        """``{"AIRFLOW_CONN_<ID>": ...}``, ready for ``os.environ.update`` or ``monkeypatch.setenv``."""
        return {f"AIRFLOW_CONN_{conn_id.upper()}": self.connection_json()}

    def reset(self) -> None:
        """Forget every task, request, payment, upload and ``set_balance`` (the configuration stays)."""
        self.state.reset()

    def start(self) -> ApimartSimulator:
        if self._server is not None:
            return self
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self._host, self._requested_port))
        listener.listen(2048)
        self._socket = listener
        logging.getLogger("uvicorn.error").addFilter(_HideSimulatedDrops())
        config = uvicorn.Config(
            build_app(self.state, self._request_log),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            log_config=None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [listener]}, name="apimart-simulator", daemon=True
        )
        self._thread.start()
        if not self._wait_started():
            self.stop()
            raise RuntimeError(f"The APIMart simulator did not start within {STARTUP_TIMEOUT_SECONDS} s")
        return self

    def _wait_started(self) -> bool:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while self._server is not None and not self._server.started:
            if self._thread is None or not self._thread.is_alive() or time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> ApimartSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
