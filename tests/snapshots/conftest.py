"""Snapshots read the same on any day: the console's and the simulator's
clock (xstui.clock) start at one fixed instant in every snapshot test."""

import pytest

from xstui import clock

SNAPSHOT_CLOCK = "2026-11-26T02:00:00Z"


@pytest.fixture(autouse=True)
def fixed_clock():
    clock.start_at(SNAPSHOT_CLOCK)
    yield
    clock.reset()
