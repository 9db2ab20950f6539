"""Processes of the system test: each service in its own process group, stopped as a group.

Every service is started with ``start_new_session=True`` (its own session and process group), its
output goes to a file in the test's directory, and :meth:`Service.stop` sends SIGTERM to the whole
group, then SIGKILL to whatever is left. :class:`Services` stops everything it started, in reverse
order, even when the test failed half way.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from contextlib import closing, suppress
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

#: How long a service may take to stop after SIGTERM before its group gets SIGKILL.
STOP_TIMEOUT_SECONDS = 20.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that the OS says is free now."""
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], object], what: str, timeout: float, interval: float = 0.5) -> None:
    """Poll ``condition`` until it is truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def parent_pid(pid: int) -> int | None:
    """The parent of a process (Linux), or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # after "(comm)": state, then ppid


def ancestors(pid: int) -> list[int]:
    """A process's parent, grandparent ... up to init."""
    chain = []
    parent = parent_pid(pid)
    while parent is not None and parent > 1:
        chain.append(parent)
        parent = parent_pid(parent)
    return chain


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a member we may not signal is still a member
        return True
    return True


class Service:
    """One long-running process (and its children) in its own process group."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_dir: Path,
        cwd: Path | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.stop_signal = stop_signal
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        #: Killed by the test on purpose: not a failure until it is started again.
        self.killed = False

    def start(self) -> Service:
        self.starts += 1
        self.killed = False
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start {self.starts}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv built by the harness
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.process.pid

    @property
    def pgid(self) -> int:
        return self.pid  # start_new_session: the leader's pid is the group's id

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def check_running(self) -> None:
        if self.process is not None and self.process.poll() is not None and not self.killed:
            tail = "\n".join(self.log_text().splitlines()[-40:])
            raise AssertionError(
                f"{self.name} exited with {self.process.returncode}; the end of {self.log_path}:\n{tail}"
            )

    def kill(self) -> None:
        """SIGKILL the whole group at once: a crash, not a shutdown."""
        if self.process is None:
            return
        self.killed = True
        with suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        self.process.wait(timeout=30)
        wait_for(lambda: not group_alive(self.pgid), f"{self.name}'s processes to die", timeout=30)

    def stop(self) -> None:
        """``stop_signal`` (SIGTERM) to the group, then SIGKILL to whatever is left of it."""
        if self.process is None:
            return
        if group_alive(self.pgid):
            with suppress(ProcessLookupError):
                os.killpg(self.pgid, self.stop_signal)
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
            while group_alive(self.pgid) and time.monotonic() < deadline:
                self.process.poll()  # reap the leader, or the group stays alive as a zombie
                time.sleep(0.2)
            if group_alive(self.pgid):
                with suppress(ProcessLookupError):
                    os.killpg(self.pgid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):  # SIGKILL cannot be ignored: only a D-state hang
            self.process.wait(timeout=30)


class Services:
    """Everything the harness started; :meth:`stop_all` stops it in reverse order."""

    def __init__(self) -> None:
        self._services: list[Service] = []
        self._stoppers: list[tuple[str, Callable[[], None]]] = []

    def add(self, service: Service) -> Service:
        self._services.append(service)
        self._stoppers.append((service.name, service.stop))
        return service

    def on_stop(self, name: str, stopper: Callable[[], None]) -> None:
        """Something that is not a :class:`Service` of ours (e.g. ``pg_ctl stop``)."""
        self._stoppers.append((name, stopper))

    def check_all_running(self, *, except_: Sequence[Service] = ()) -> None:
        for service in self._services:
            if service not in except_:
                service.check_running()

    def stop_all(self) -> list[str]:
        """Stop everything; the names of what failed to stop (never raises)."""
        failures = []
        for name, stopper in reversed(self._stoppers):
            try:
                stopper()
            except Exception as error:  # keep stopping the rest
                failures.append(f"{name}: {error}")
        self._stoppers.clear()
        self._services.clear()
        return failures
