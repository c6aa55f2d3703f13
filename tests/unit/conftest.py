"""Fixtures of the unit tests."""

from __future__ import annotations

import pytest

from tests.waiting import wait_for


@pytest.fixture
def live(connection):
    """``connection`` with its event cache filled (its VDIs read)."""
    connection.start_events()
    wait_for(lambda: connection.cache.table("vdi"))
    return connection
