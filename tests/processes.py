"""Child processes the tests start (a broker, a mail server, a server): waiting until one
serves, and stopping one by its PID whatever state it is in."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any


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
