"""A fleet pool's password, never from a file: ``XSTUI_PASSWORD_<NAME>``
(the pool's name in capitals, other characters as ``_``), else the password
command (``--password-command`` or ``XSTUI_PASSWORD_COMMAND``: run with the
pool's name and URL as its two last arguments, its first output line is the
password), else ``XSTUI_PASSWORD``, else one prompt per user for the whole
run (on a terminal)."""

from __future__ import annotations

import getpass
import os
import re
import shlex
import subprocess
import sys
import threading

from ..values import printable
from .targets import FleetTarget

COMMAND_SECONDS = 30


class NoPassword(Exception):
    """No password for a pool; the message says where one may come from."""


def env_name(name: str) -> str:
    return "XSTUI_PASSWORD_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


class Passwords:
    """Where each pool's password comes from, asked at most once per user."""

    def __init__(self, command: str = "", *, interactive: bool | None = None):
        self.command = command or os.environ.get("XSTUI_PASSWORD_COMMAND", "")
        self.interactive = sys.stdin.isatty() if interactive is None else interactive
        self._typed: dict[str, str] = {}  # user -> the password typed once
        self._lock = threading.Lock()

    def for_pool(self, pool: FleetTarget) -> str:
        own = os.environ.get(env_name(pool.name))
        if own:
            return own
        if self.command:
            return self._run_command(pool)
        generic = os.environ.get("XSTUI_PASSWORD")
        if generic:
            return generic
        with self._lock:
            if pool.user in self._typed:
                return self._typed[pool.user]
            if not self.interactive:
                raise NoPassword(
                    f"no password: set {env_name(pool.name)} or XSTUI_PASSWORD, "
                    "or give a password command"
                )
            typed = getpass.getpass(printable(f"Password for {pool.user} on the fleet: "))
            self._typed[pool.user] = typed
            return typed

    def _run_command(self, pool: FleetTarget) -> str:
        try:
            argv = [*shlex.split(self.command), pool.name, pool.url]
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=COMMAND_SECONDS, check=False
            )
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            raise NoPassword(f"the password command failed ({type(exc).__name__})") from None
        line = done.stdout.splitlines()[0] if done.stdout else ""
        if done.returncode != 0 or not line:
            raise NoPassword(f"the password command gave no password (exit {done.returncode})")
        return line
