"""Why a pool did not answer, in one word: the same word in the fleet
check's results (``xstui check --fleet``: its JSON and OpenMetrics) and on
the fleet overview (F12)."""

from __future__ import annotations

from ...xapi.connection import ConnectError

REFUSED = "refused"  # its certificate is not the one trusted
LOGIN_FAILED = "login-failed"
NO_PASSWORD = "no-password"
TIMEOUT = "timeout"  # no answer within the time given
UNREACHABLE = "unreachable"  # the connection failed (refused, no such host, ...)


def no_answer(err: ConnectError) -> str:
    """The word for a login that failed."""
    if err.kind == "trust":
        return REFUSED
    if err.kind in ("auth", "xapi"):
        return LOGIN_FAILED
    return TIMEOUT if err.timed_out else UNREACHABLE
