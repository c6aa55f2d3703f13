"""How often the screen is written on a slow link (xstui.terminal.pace):
at most every INTERVAL seconds, a key's answer at once; which terminals are
slow links."""

from __future__ import annotations

import os
import pty

import pytest

from xstui.terminal.pace import INTERVAL, KEY_WINDOW, Pace, baud, slow_link


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_fast_link_writes_every_frame():
    pace = Pace(False, Clock())
    pace.sent()
    assert pace.due() == 0


def test_a_slow_link_writes_at_most_every_interval_and_a_keys_answer_at_once():
    clock = Clock()
    pace = Pace(True, clock)
    assert pace.due() == 0  # the first frame goes
    pace.sent()
    clock.now += 0.5
    assert pace.due() == pytest.approx(INTERVAL - 0.5)  # held until the interval is over
    clock.now += INTERVAL
    assert pace.due() == 0
    pace.sent()
    clock.now += 0.1
    pace.key()  # the admin pressed a key: its answer goes now
    assert pace.due() == 0
    clock.now += KEY_WINDOW + 0.1  # long after the key: held again
    pace.sent()
    assert pace.due() == pytest.approx(INTERVAL)


@pytest.mark.parametrize(("said", "slow"), [("1", True), ("0", False)])
def test_the_environment_decides_first(said, slow):
    assert slow_link(None, {"XSTUI_SLOW_LINK": said}) is slow


def test_a_pty_or_a_pipe_is_not_a_slow_link_whatever_it_reports():
    leader, follower = pty.openpty()
    reader, writer = os.pipe()
    try:
        assert slow_link(follower, {}) is False  # SSH, tmux: a pty says 38400 baud
        assert slow_link(writer, {}) is False
        assert slow_link(None, {}) is False
    finally:
        for fd in (leader, follower, reader, writer):
            os.close(fd)


def test_termios_speeds_read_as_bits_per_second():
    import termios

    assert baud(termios.B115200) == 115200
    assert baud(termios.B9600) == 9600
    assert baud(-1) == 0  # unknown: as slow as can be


@pytest.mark.parametrize(
    ("speed", "slow"), [("B9600", True), ("B115200", True), ("B230400", False), (None, True)]
)
def test_a_serial_console_is_slow_at_115200_baud_or_when_its_speed_cannot_be_read(
    monkeypatch, speed, slow
):
    import termios

    from xstui.terminal import pace

    def attributes(fd):
        if speed is None:
            raise termios.error(5, "Input/output error")
        return [0, 0, 0, 0, getattr(termios, speed), getattr(termios, speed), []]

    monkeypatch.setattr(pace.os, "ttyname", lambda fd: "/dev/ttyS1")
    monkeypatch.setattr(pace.termios, "tcgetattr", attributes)
    assert slow_link(7, {}) is slow
