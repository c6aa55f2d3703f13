"""When the pool no longer accepts the console's password (it was changed
elsewhere, or this host joined a pool and took the pool's root password),
reconnecting stops instead of trying the same password forever, and the
console asks for the password to log in again with."""

from __future__ import annotations

import asyncio

from ..services.actions import InvalidInput
from ..services.fields import Field
from ..xapi.connection import ConnectError
from .form import FormModal
from .notice import error_text


def _given(values: dict) -> str:
    if not values["password"]:
        raise InvalidInput(["type the password"])
    return values["password"]


async def log_in_again(app) -> None:
    """Ask for the password until the pool accepts it or the admin cancels
    (any action's key asks again). Call from a worker."""
    conn, refused = app.connection, ""
    while conn is not None and conn.password_refused and app.connection is conn:
        password = await app.push_screen_wait(
            FormModal(
                f"The pool no longer accepts the password of {conn.user}: it was changed, or "
                "this host joined a pool and took the pool's root password. Log in again with:",
                [Field("password", f"Password of {conn.user}", "", password=True)],
                _given,
                refused,  # the last one's refusal, in the form asking again
            )
        )
        if password is None:
            app.notify(
                "Not logged in: the last known state stays on screen and actions wait. "
                "Any action's key asks for the password again; Ctrl+Q quits.",
                severity="warning",
                timeout=12,
            )
            return
        try:
            await asyncio.to_thread(conn.log_in_again, password)
        except ConnectError as exc:
            refused = error_text(exc)
            continue
        app.notify(f"Logged in again as {conn.user}.", timeout=5)
        return
