"""The one "now" of the console and of the simulator.

The system clock, unless ``XSTUI_CLOCK`` (an ISO 8601 time, e.g.
``2026-11-26T02:00:00Z``) says where it starts: from that instant it runs at
the normal pace. The snapshot tests set it, so that a certificate's expiry
date and its days left read the same on any day (the simulator builds its
scenario from this "now" too). Elapsed time is measured with
``time.monotonic``, never with this; files are named by the real date."""

from __future__ import annotations

import datetime as dt
import os
import time

_offset: float | None = None  # seconds added to the system clock, once known


def _parse(text: str) -> float:
    try:
        at = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"XSTUI_CLOCK: {text!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return at.timestamp()


def start_at(text: str | None) -> None:
    """Start the clock at ``text`` (ISO 8601), or back on the system clock (None)."""
    global _offset
    _offset = _parse(text) - time.time() if text else 0.0


def reset() -> None:
    """Back to what the environment says (XSTUI_CLOCK or the system clock)."""
    global _offset
    _offset = None


def now() -> float:
    """Seconds since the epoch, as ``time.time()``."""
    if _offset is None:
        start_at(os.environ.get("XSTUI_CLOCK"))
    return time.time() + _offset


def utcnow() -> dt.datetime:
    return dt.datetime.fromtimestamp(now(), dt.timezone.utc)


DAY = 86400


def days_left(until: dt.datetime, at: float | None = None) -> int:
    """Whole days from ``at`` (default now) to ``until``, rounded down: a
    certificate ending in 19.6 days has 19 days left; one that ended an hour
    ago has -1. Every area that shows "days left" or "expires in" uses this."""
    return int((until.timestamp() - (now() if at is None else at)) // DAY)
