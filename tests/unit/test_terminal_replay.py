"""The output layer on what Textual really writes: the console's own frames
(Status, an area switch, Down arrows in the VM list, a resize), recorded in
this process through the layer's driver, show the same on a reference
terminal (pyte) as Textual's own output, in far fewer bytes."""

from __future__ import annotations

import asyncio

import pytest
from textual.drivers.headless_driver import HeadlessDriver

from tests.app.test_console import console, screen_text  # noqa: F401 (a fixture)
from tests.terminal_reference import FLUSH, Terminal, differences, replay
from tests.waiting import until
from xstui.app import XstuiApp
from xstui.terminal import Capabilities
from xstui.terminal.driver import minimal_output_driver

# a key, and a text the screen shows once it took effect
KEYS = (("f2", "Interfaces"), ("f8", "of 25 VMs"), ("down", ""), ("down", ""), ("down", ""))


def recording_driver(written: list) -> type:
    """Textual's headless driver, drawn to like a terminal: what it is
    given goes to ``written`` (FLUSH at each frame's end)."""

    class Sink(HeadlessDriver):
        @property
        def is_headless(self) -> bool:
            return False

        def write(self, data: str) -> None:
            written.append(data)

        def flush(self) -> None:
            written.append(FLUSH)

    return Sink


def tapped(base: type, written: list) -> type:
    """``base``, noting what Textual gives it (as ``ascii_driver`` sits on the layer)."""

    class Tap(base):
        def write(self, data: str) -> None:
            written.append(data)
            super().write(data)

        def flush(self) -> None:
            written.append(FLUSH)
            super().flush()

    return Tap


async def painted(pilot) -> None:
    done = asyncio.get_running_loop().create_future()
    pilot.app.call_after_refresh(lambda: done.done() or done.set_result(None))
    await done


async def record(
    width: int, height: int, keys=KEYS, layer: bool = True, resize=None
) -> tuple[list, list]:
    """Textual's output for the demo pool (Status, then ``keys``) and what
    the output layer's driver wrote for it; ("resize", w, h) where the
    terminal took the size ``resize`` after the keys."""
    from xstui.areas import watched_types
    from xstui.sim.runner import start_simulator
    from xstui.xapi.connection import Connection
    from xstui.xapi.targets import parse_target

    given, written = [], []
    sink = recording_driver(written)
    running = start_simulator("demo", task_delay=0.01)
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    try:
        conn.login()
        app = XstuiApp(conn)
        app.driver_class = tapped(minimal_output_driver(sink) if layer else sink, given)
        async with app.run_test(headless=False, size=(width, height)) as pilot:
            await until(pilot, lambda: getattr(app.screen, "status", None) is not None)
            await until(pilot, lambda: "Memory" in screen_text(app), what="Status complete")
            await painted(pilot)
            for key, shows in keys:
                await pilot.press(key)
                await until(pilot, lambda s=shows: s in screen_text(app), what=shows)
                await painted(pilot)
            if resize:
                for stream in (given, written):
                    stream.append(("resize", *resize))
                app._driver._size = resize  # the terminal's new size, as SIGWINCH tells it
                app._driver._get_terminal_size()
                await pilot.resize_terminal(*resize)
                await until(pilot, lambda: app.size == resize, what="the new size")
                await painted(pilot)
    finally:
        conn.close()
        running.close()
    return given, written


def record_session(width: int, height: int, keys=KEYS) -> list[list[str]]:
    """Textual's frames (each a list of writes) for the demo: the benchmark's sample."""
    given, _ = asyncio.run(record(width, height, keys, layer=False))
    frames, frame = [], []
    for item in given:
        if item is FLUSH:
            frames.append(frame)
            frame = []
        elif isinstance(item, str):
            frame.append(item)
    return frames


def check_driver_output(given: list, written: list, width: int, height: int) -> tuple[int, int]:
    """What Textual gave the driver and what the driver wrote show the same
    after every frame; the bytes of each."""
    raw, layered = Terminal(width, height), Terminal(width, height)
    sizes = [0, 0]
    frames = 0
    for stream, terminal, index in ((given, raw, 0), (written, layered, 1)):
        shown = []
        for item in stream:
            if item is FLUSH:
                shown.append(terminal.state())
            elif isinstance(item, tuple):
                terminal.resize(*item[1:])
            else:
                terminal.feed(item)
                sizes[index] += len(item.encode())
        frames = frames or shown
        if index:
            assert len(shown) == len(frames)
            for n, (a, b) in enumerate(zip(frames, shown, strict=True)):
                assert a == b, f"frame {n} differs"
    return sizes[0], sizes[1]


@pytest.mark.parametrize(
    "width, height, term",
    [(80, 24, "linux"), (120, 40, "xterm-256color")],
)
async def test_the_consoles_frames_show_the_same_through_the_layer(
    width,
    height,
    term,
    monkeypatch,
    console,  # noqa: F811
):
    monkeypatch.setenv("TERM", term)
    given, written = await record(width, height, resize=(width - 7, height - 3))
    raw_bytes, layered_bytes = check_driver_output(given, written, width, height)
    assert layered_bytes * 4 < raw_bytes, (raw_bytes, layered_bytes)
    # and the core alone, on the same frames, whatever the terminal can do
    for caps in (
        Capabilities(bce=True, ech=True, sgr_off=True),
        Capabilities(),
        Capabilities(newline_returns=False),
    ):
        replay(given, width, height, caps)


def test_frames_compared_frame_by_frame_fail_when_they_differ():
    """The check itself: one cell drawn differently is a failure."""
    a, b = Terminal(4, 2), Terminal(4, 2)
    a.feed("\x1b[1;1Hab")
    b.feed("\x1b[1;1Hab\x1b[1;2H\x1b[1mb")
    assert differences(a, b) == [((1, 0), a.state()[0][0][1], b.state()[0][0][1])]
    with pytest.raises(AssertionError):
        check_driver_output(["\x1b[Hab", FLUSH], ["\x1b[Hac", FLUSH], 4, 2)
