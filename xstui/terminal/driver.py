"""The output layer in Textual's terminal driver: ``minimal_output_driver(base)``
writes through ``MinimalOutput``, so a frame costs the cells that changed.
``XSTUI_RAW_OUTPUT=1`` turns it off (what Textual writes goes as it is)."""

from __future__ import annotations

import functools
import logging
import os
import termios
import threading

from . import terminfo
from .layer import Capabilities, MinimalOutput
from .pace import Pace, slow_link

log = logging.getLogger("xstui.terminal")


def raw_output_wanted(env=None) -> bool:
    env = os.environ if env is None else env
    return env.get("XSTUI_RAW_OUTPUT", "") not in ("", "0")


def terminal_capabilities(term: str, fd: int | None = None, env=None) -> Capabilities:
    """What terminfo says ``term`` does (nothing beyond the basics where it
    cannot be read), and whether the tty on ``fd`` sends LF as CR LF."""
    found = terminfo.lookup(term, env)
    bce, ech, rmul = found if found is not None else (False, None, None)
    newline_returns = True
    if fd is not None:
        try:
            oflag = termios.tcgetattr(fd)[1]
            newline_returns = bool(oflag & termios.OPOST and oflag & termios.ONLCR)
        except (OSError, termios.error):  # not a tty: it gets what is written
            newline_returns = False
    return Capabilities(
        bce=bce,
        ech=ech is not None,
        # terminals whose "underline off" is SGR 24 have the other 2x codes too
        sgr_off=rmul == b"\x1b[24m",
        newline_returns=newline_returns,
    )


class WrittenCount:
    """The terminal's file as Textual's writer thread writes to it: counts
    the characters it has handed to the tty (at each flush)."""

    def __init__(self, file) -> None:
        self._file = file
        self._pending = 0
        self.written = 0
        self.changed = threading.Condition()

    def write(self, text: str):
        self._pending += len(text)
        return self._file.write(text)

    def flush(self) -> None:
        self._file.flush()
        with self.changed:
            self.written = self._pending
            self.changed.notify_all()

    def __getattr__(self, name: str):
        return getattr(self._file, name)


def output_queued(app) -> int | None:
    """Characters ``app``'s driver has given its writer thread so far; None
    where the driver is not this module's (headless, raw output)."""
    return getattr(app._driver, "queued", None)


def wait_output_written(app, timeout: float) -> bool:
    """In a thread: wait until what ``app`` has drawn so far is on the tty
    (at once where the driver is not this module's). False after ``timeout``."""
    wait = getattr(app._driver, "wait_written", None)
    return True if wait is None else wait(timeout)


@functools.cache
def minimal_output_driver(base: type) -> type:
    """``base`` (Textual's Linux driver) writing through the output layer."""
    from textual import events

    class MinimalOutputDriver(base):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            # the input thread writes too (in-band resize, mouse pixels)
            self._output_lock = threading.Lock()
            self._output: MinimalOutput | None = None
            self._size_seen: tuple[int, int] | None = None
            self._pace = Pace(False)  # see start_application_mode
            self._release_timer: threading.Timer | None = None
            if getattr(self, "_file", None) is not None:  # a tty's (not a headless driver)
                self._file = WrittenCount(self._file)  # before the writer thread takes it
            self._queued = 0  # characters given to the writer thread

        @property
        def queued(self) -> int:
            """Characters handed to the writer thread so far."""
            return self._queued

        def wait_written(self, timeout: float) -> bool:
            """Wait (in a thread, never the app's loop) until what the app has
            drawn so far is on the tty. False after ``timeout``."""
            with self._output_lock:
                mark = self._queued
            out = getattr(self, "_file", None)
            if not isinstance(out, WrittenCount):
                return True  # nothing counts what is written: nothing to wait for
            with out.changed:
                return out.changed.wait_for(lambda: out.written >= mark, timeout)

        def _queue(self, data: str) -> None:
            self._queued += len(data)
            super().write(data)

        def start_application_mode(self) -> None:
            try:
                fd = self._file.fileno()
            except (AttributeError, OSError, ValueError):
                fd = None
            caps = terminal_capabilities(os.environ.get("TERM", ""), fd)
            with self._output_lock:
                self._output = MinimalOutput(0, 0, caps)  # a pipe until the size is known
                self._pace = Pace(slow_link(fd))
            super().start_application_mode()

        def stop_application_mode(self) -> None:
            timer = self._release_timer
            if timer is not None:
                timer.cancel()
            with self._output_lock:
                if self._output is not None and self._output.held:
                    self._output.held = False  # the last frame is written as it is
            super().stop_application_mode()

        def _get_terminal_size(self) -> tuple[int, int]:
            # may run in a signal handler: only note the size, the next write applies it
            size = super()._get_terminal_size()
            self._size_seen = size
            return size

        def process_message(self, message) -> None:
            if isinstance(message, events.Resize):  # in-band resize reports
                self._size_seen = (message.size.width, message.size.height)
            elif isinstance(message, events.Key):  # its answer is written at once
                self._pace.key()
            super().process_message(message)

        def write(self, data: str) -> None:
            with self._output_lock:
                output = self._output
                if output is not None:
                    try:
                        size = self._size_seen
                        if size is not None and size != output.size:
                            output.resize(*size)
                        output.held = self._pace.due() > 0
                        data = output.feed(data)
                    except Exception:
                        data = self._output_failed(output) + data
                if data:
                    self._queue(data)

        def flush(self) -> None:
            with self._output_lock:
                output = self._output
                if output is not None:
                    try:
                        data = output.flush()
                    except Exception:
                        data = self._output_failed(output)
                    if data:
                        self._queue(data)
                    if output.held:  # a slow link: written with the next update
                        self._release_later(self._pace.due())
                    else:
                        self._pace.sent()
            super().flush()

        def _release_later(self, wait: float) -> None:
            if self._release_timer is None:
                timer = threading.Timer(wait, self._release)
                timer.daemon = True
                self._release_timer = timer
                timer.start()

        def _release(self) -> None:
            """The held frames' changes written, INTERVAL after the last update."""
            with self._output_lock:
                self._release_timer = None
                output = self._output
                if output is None or not output.held:
                    return  # a key's answer wrote them already
                output.held = False
                try:
                    data = output.flush()
                except Exception:
                    data = self._output_failed(output)
                self._pace.sent()
                if data:
                    self._queue(data)
            super().flush()

        def _output_failed(self, output: MinimalOutput) -> str:
            """A fault of the layer: logged, then Textual's output as it is
            from here, from a screen drawn anew."""
            log.exception("terminal output layer failed; writing frames as they are")
            self._output = None
            try:
                self._app.call_later(self._app.refresh, layout=True)
            except Exception:  # the app is ending: nothing left to draw
                pass
            return "".join(output.out)

    return MinimalOutputDriver
