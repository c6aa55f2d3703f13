"""How often the screen is written on a slow link (a serial console: an
iLO/DRAC virtual serial port at 115200 or 9600 baud, Xen's hvc console):
at most one update every INTERVAL seconds, what changed meanwhile written
together; a key's answer at once. On any other terminal, every frame goes."""

from __future__ import annotations

import math
import os
import termios
import time
from collections.abc import Callable

INTERVAL = 2.0  # seconds between screen updates on a slow link
KEY_WINDOW = 1.0  # seconds after a key when frames go at once (its answer)
SLOW_BAUD = 115200  # a serial line this fast or slower is a slow link
SERIAL = ("/dev/ttyS", "/dev/ttyUSB", "/dev/ttyAMA", "/dev/hvc")


def slow_link(fd: int | None, env=None) -> bool:
    """Whether the terminal on ``fd`` is a slow link: XSTUI_SLOW_LINK=1 (the
    ``--slow-link`` option) or 0 decides; else a serial tty at SLOW_BAUD or
    slower, or whose speed cannot be read. A pty (SSH, tmux) or the
    machine's own console is not one, whatever speed it reports."""
    env = os.environ if env is None else env
    said = env.get("XSTUI_SLOW_LINK", "")
    if said:
        return said != "0"
    if fd is None:
        return False
    try:
        name = os.ttyname(fd)
    except OSError:  # not a tty: a pipe or a file
        return False
    if not name.startswith(SERIAL):
        return False
    try:
        speed = termios.tcgetattr(fd)[5]
    except (OSError, termios.error):
        return True
    return baud(speed) <= SLOW_BAUD


def baud(speed: int) -> float:
    """Bits per second of a termios speed constant (B115200...); unknown: 0."""
    for name in dir(termios):
        if name.startswith("B") and name[1:].isdigit() and getattr(termios, name) == speed:
            return int(name[1:])
    return 0


class Pace:
    """When a frame may be written: ``due()`` is 0 when now, else the
    seconds to wait (the frame is held and written together with the next).
    ``key()`` when a key arrives, ``sent()`` when an update was written."""

    def __init__(self, slow: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.slow, self.clock = slow, clock
        self.last_key = self.last_sent = -math.inf

    def key(self) -> None:
        self.last_key = self.clock()

    def sent(self) -> None:
        self.last_sent = self.clock()

    def due(self) -> float:
        if not self.slow:
            return 0.0
        now = self.clock()
        if now - self.last_key <= KEY_WINDOW:
            return 0.0
        return max(0.0, self.last_sent + INTERVAL - now)
