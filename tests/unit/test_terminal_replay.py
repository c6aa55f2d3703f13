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
from xstui.terminal import Capabilities, MinimalOutput
from xstui.terminal.driver import minimal_output_driver
from xstui.widgets.ascii import ascii_driver, to_ascii

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
    width: int, height: int, keys=KEYS, layer: bool = True, resize=None, ascii: bool = False
) -> tuple[list, list]:
    """Textual's output for the demo pool (Status, then ``keys``) and what
    the output layer's driver wrote for it (under the ASCII driver if
    ``ascii``, as the app puts them); ("resize", w, h) where the terminal
    took the size ``resize`` after the keys."""
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
        driver = minimal_output_driver(sink) if layer else sink
        app.driver_class = tapped(ascii_driver(driver) if ascii else driver, given)
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
    "width, height, term, ascii",
    [(80, 24, "linux", False), (120, 40, "xterm-256color", False), (80, 24, "linux", True)],
)
async def test_the_consoles_frames_show_the_same_through_the_layer(
    width,
    height,
    term,
    ascii,
    monkeypatch,
    console,  # noqa: F811
):
    monkeypatch.setenv("TERM", term)
    given, written = await record(width, height, resize=(width - 7, height - 3), ascii=ascii)
    if ascii:  # what Textual gave, as the ASCII driver hands it on
        given = [to_ascii(item) if isinstance(item, str) else item for item in given]
        assert all(item.isascii() for item in written if isinstance(item, str))
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


@pytest.mark.parametrize("raw, ascii", [(False, False), (False, True), (True, True)])
def test_the_app_writes_through_the_layer_under_the_ascii_driver(raw, ascii, monkeypatch):
    monkeypatch.setattr("xstui.app.ascii_terminal", lambda: ascii)
    monkeypatch.setenv("XSTUI_RAW_OUTPUT", "1" if raw else "")
    names = [cls.__name__ for cls in XstuiApp().get_driver_class().__mro__]
    assert ("MinimalOutputDriver" in names) is not raw
    assert ("AsciiDriver" in names) is ascii
    if ascii and not raw:  # ASCII first, then the layer, then Textual's driver
        assert names.index("AsciiDriver") < names.index("MinimalOutputDriver")
        assert names.index("MinimalOutputDriver") < names.index("LinuxDriver")


async def test_a_fault_of_the_layer_leaves_textuals_output_as_it_is(monkeypatch, caplog):
    """The layer failing (a bug) at a frame's end is logged; the frames that
    follow go as Textual writes them, and the screen is drawn anew: the last
    frame shows what Textual drew (the VM list, lost with the fault)."""
    feed, flush = MinimalOutput.feed, MinimalOutput.flush
    seen = []

    def noting(self, data):
        seen.append("of 25 VMs" in data)
        return feed(self, data)

    def failing(self):
        if any(seen):
            raise RuntimeError("a fault")
        return flush(self)

    monkeypatch.setattr(MinimalOutput, "feed", noting)
    monkeypatch.setattr(MinimalOutput, "flush", failing)
    given, written = await record(80, 24, keys=KEYS[:3])
    assert "terminal output layer failed" in caplog.text
    raw, layered = Terminal(80, 24), Terminal(80, 24)
    for stream, terminal in ((given, raw), (written, layered)):
        for item in stream:
            if isinstance(item, str):
                terminal.feed(item)
    assert differences(raw, layered) == []
