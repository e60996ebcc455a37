"""Test helpers shared by every test folder: wait for a condition with a deadline (never a fixed sleep)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    poll: float = 0.1,
    proc: subprocess.Popen[Any] | None = None,
) -> T:
    """Poll `predicate` until it returns something truthy and return that; fail naming `what` at the deadline.

    With `proc`, a process that exits before the condition holds fails at once with its stderr.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"process exited ({proc.returncode}) before {what}: {err}")
        if time.monotonic() > deadline:
            if proc is not None:
                proc.kill()
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(poll)


async def pilot_wait_until(pilot: Any, condition: Callable[[], Any], timeout: float = 30.0, what: str = "") -> None:
    """The same for a Textual app under test: let it run (pilot.pause) until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or 'the condition'}")
        await pilot.pause(0.05)
