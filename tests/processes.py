"""Child processes the tests start (a broker, a mail server, a server): waiting until one
serves, and stopping one by its PID whatever state it is in."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar


def wait_serving(
    proc: subprocess.Popen[Any],
    serving: Callable[[], bool],
    log: Callable[[], str],
    what: str,
    timeout: float,
) -> None:
    """Return once ``serving()`` is true; fail with ``log()`` if ``proc`` exits or ``timeout``
    seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, f"{what} exited:\n{log()}"
        if serving():
            return
        assert time.monotonic() < deadline, f"{what} did not serve in {timeout:g} s:\n{log()}"
        time.sleep(0.02)


def stop(proc: subprocess.Popen[Any] | None, timeout: float = 10.0) -> None:
    """SIGTERM by its PID (a clean shutdown), SIGKILL if it is not gone in ``timeout``."""
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class Peer(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


P = TypeVar("P", bound=Peer)


@contextmanager
def running_in_own_dir(prefix: str, make: Callable[[Path], P]) -> Iterator[P]:
    """``make(workdir)`` started, in a new directory under the system's temporary one that
    other users may enter (pytest's are closed to them, and a server may drop to its own
    user); stopped by its PID and the directory removed at the end."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    workdir.chmod(0o755)
    server = make(workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
