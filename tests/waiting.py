"""The one way a test waits: for a condition, never for a time.

A wait's timeout only turns a condition that never comes into a failure that
says what was awaited; it is generous because a loaded machine is slow, and the
per-test timeout (pytest-timeout, pyproject.toml) is the backstop for a hang."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

# long enough for a busy 2-core machine running the suite in parallel
TIMEOUT = 60.0
_pause = threading.Event()  # never set: its wait is a pause


def _looks(condition: Callable[[], T], timeout: float, what: str | None) -> Iterator[T]:
    """Each look at ``condition``: the caller lets time pass after a false one
    and stops at a true one; a failure once ``timeout`` has passed."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what or 'a condition'}, in vain")
        yield value
    yield value


def wait_for(condition: Callable[[], T], timeout: float = TIMEOUT, what: str | None = None) -> T:
    """Poll ``condition`` until it returns something true, and return that."""
    delay = 0.005
    for value in _looks(condition, timeout, what):
        if value:
            return value
        _pause.wait(delay)  # not time.sleep: libfaketime (tests/snapshots/test_any_day) fails it
        delay = min(delay * 2, 0.05)
    raise AssertionError("unreachable")


async def until(pilot, condition: Callable[[], T], timeout: float = TIMEOUT, what=None) -> T:
    """The same inside a Textual pilot: the app keeps processing its messages
    between two looks."""
    for value in _looks(condition, timeout, what):
        if value:
            return value
        await pilot.pause(0.02)
    raise AssertionError("unreachable")


def form_mounted(app) -> bool:
    """A form on top with every part mounted: giving a field a value before
    that may fail (a Select whose own label is not there yet: NoMatches)."""
    from xstui.widgets.form import FormModal

    screen = app.screen  # its buttons are composed last, after its fields
    return (
        isinstance(screen, FormModal)
        and bool(screen.query("#ok"))
        and all(w.is_mounted for w in screen.walk_children())
    )
