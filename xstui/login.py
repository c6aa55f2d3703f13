"""The console's connection to a pool, made one way (``console_connection``),
and its head start: when the command line already says where to connect and
the password is known (``xstui connect URL`` with ``XSTUI_PASSWORD``, ``xstui
local``), the login and the first part of the pool are read in a thread
while the console imports Textual and its screens. The connect screen then
takes that login, or its refusal, as if it had made it itself."""

from __future__ import annotations

import os
import threading

from .areas import load_order, watched_types
from .xapi.config import Config
from .xapi.connection import ConnectError, Connection
from .xapi.targets import Target, TargetError, parse_target


def console_connection(target: Target, user: str, password: str, config: Config) -> Connection:
    """A connection as the console uses it: the pins it trusts, the classes
    its areas watch, Status's part of the pool read first and drawn before
    the rest is read (``first_drawn``, set by Status)."""
    connection = Connection(
        target,
        user,
        password,
        fingerprints=dict(config.fingerprints),
        watch=watched_types(),
        load_order=load_order(),
    )
    connection.first_drawn = threading.Event()
    return connection


class HeadStart:
    """``connection``'s login and the start of its event stream, begun at
    once in a thread; ``wait`` ends with it."""

    def __init__(self, text: str, connection: Connection, password: str) -> None:
        self.asked = (text, connection.user, password)
        self.connection = connection
        self.error: ConnectError | None = None
        self._thread = threading.Thread(target=self._run, name="xstui-head-start", daemon=True)
        self._thread.start()

    @classmethod
    def wanted(cls, text: str, user: str, config: Config) -> HeadStart | None:
        """A head start where the connect screen would connect at once
        without asking (a local target, or a remote one with the password in
        XSTUI_PASSWORD); None elsewhere (the demo starts its own pool)."""
        password = os.environ.get("XSTUI_PASSWORD", "")
        try:
            target = parse_target(text)
        except TargetError:
            return None
        if target.kind == "local" or (target.kind == "remote" and password):
            return cls(text, console_connection(target, user, password, config), password)
        return None

    def _run(self) -> None:
        try:
            self.connection.login()
        except ConnectError as exc:
            self.error = exc
        else:
            self.connection.start_events()

    def fits(self, text: str, user: str, password: str) -> bool:
        """Whether this is the login the connect screen asks for."""
        return (text, user, password) == self.asked

    def succeeded(self) -> bool:
        """Wait for the login: whether it was made."""
        self._thread.join()
        return self.error is None

    def wait(self) -> None:
        """The login's end: raises its ConnectError, as Connection.login."""
        self._thread.join()
        if self.error is not None:
            raise self.error
