"""The one way a test waits: for a condition, never for a time.

A wait's timeout only turns a condition that never comes into a failure that
says what was awaited; it is generous because a loaded machine is slow, and the
per-test timeout (pytest-timeout, pyproject.toml) is the backstop for a hang."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# long enough for a busy 2-core machine running the suite in parallel
TIMEOUT = 60.0


def _failed(what: str | None, timeout: float) -> AssertionError:
    return AssertionError(f"waited {timeout:g} s for {what or 'a condition'}, in vain")


def wait_for(condition: Callable[[], T], timeout: float = TIMEOUT, what: str | None = None) -> T:
    """Poll ``condition`` until it returns something true, and return that."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise _failed(what, timeout)
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


async def until(pilot, condition: Callable[[], T], timeout: float = TIMEOUT, what=None) -> T:
    """The same inside a Textual pilot: the app keeps processing its messages
    between two looks."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise _failed(what, timeout)
        await pilot.pause(0.02)
