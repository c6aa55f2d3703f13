"""A reference terminal (pyte) for the output layer's tests: what a stream
of output shows, cell by cell with attributes, and a check that a program's
output and the layer's rewrite of it show the same after every frame."""

from __future__ import annotations

import re
import unicodedata

import pyte
from wcwidth import wcwidth

from xstui.terminal import Capabilities, MinimalOutput

FLUSH = None  # in a recorded stream: the end of a frame (the driver's flush)

# kitty's keyboard protocol pop (ESC [ < u): pyte prints its final byte
_PYTE_MISREADS = re.compile(r"\x1b\[<[\x30-\x3f]*[\x40-\x7e]")


class Screen(pyte.Screen):
    """pyte's screen, as a terminal: ED erases whole lines (pyte's buffer is
    sparse and its ED skips cells never written); text goes on after a
    character of no width that is not a combining one (pyte drops the rest
    of the text written at once)."""

    def draw(self, data: str) -> None:
        start = 0
        for i, char in enumerate(data):
            if wcwidth(char) == 0 and not unicodedata.combining(char):
                super().draw(data[start : i + 1])
                start = i + 1
        if start < len(data):
            super().draw(data[start:])

    def erase_in_display(self, how: int = 0, *args, **kwargs) -> None:
        if how == 0:
            rows = range(self.cursor.y + 1, self.lines)
        elif how == 1:
            rows = range(self.cursor.y)
        else:
            rows = range(self.lines)
        for y in rows:
            line = self.buffer[y]
            for x in range(self.columns):
                line[x] = self.cursor.attrs
        if how in (0, 1):
            self.erase_in_line(how)


class Terminal:
    """A pyte screen fed as a tty would (LF sent as CR LF when ``onlcr``)."""

    def __init__(self, width: int, height: int, onlcr: bool = True) -> None:
        self.screen = Screen(width, height)
        self.stream = pyte.Stream(self.screen)
        self.onlcr = onlcr

    def feed(self, data: str) -> None:
        data = _PYTE_MISREADS.sub("", data)
        self.stream.feed(data.replace("\n", "\r\n") if self.onlcr else data)

    def resize(self, width: int, height: int) -> None:
        self.screen.resize(height, width)

    def cells(self) -> list[list[tuple]]:
        """Every cell as the eye sees it: a blank's foreground, bold and
        italic do not show unless it is reversed, underlined or struck."""
        s = self.screen
        return [[visible(s.buffer[y][x]) for x in range(s.columns)] for y in range(s.lines)]

    def state(self) -> tuple:
        """The cells, and the cursor where it shows."""
        cursor = self.screen.cursor
        return self.cells(), None if cursor.hidden else (cursor.x, cursor.y)


def visible(char) -> tuple:
    if char.data == " " and not (char.reverse or char.underscore or char.strikethrough):
        return (" ", char.bg, char.blink)
    return tuple(char)


def differences(a: Terminal, b: Terminal) -> list:
    (cells_a, cursor_a), (cells_b, cursor_b) = a.state(), b.state()
    found = [
        ((x, y), ca, cb)
        for y, (row_a, row_b) in enumerate(zip(cells_a, cells_b, strict=True))
        for x, (ca, cb) in enumerate(zip(row_a, row_b, strict=True))
        if ca != cb
    ]
    if cursor_a != cursor_b:
        found.append(("cursor", cursor_a, cursor_b))
    return found


def replay(
    stream: list, width: int, height: int, caps: Capabilities | None = None
) -> tuple[int, int]:
    """Feed ``stream`` (text, FLUSH at each frame's end, ("resize", w, h),
    ("hold", bool): the layer's frames held or not, as on a slow link) to a
    terminal as it is and through the output layer to another; assert after
    every frame not held that both show the same. Returns the bytes each got."""
    caps = caps or Capabilities(bce=True, ech=True, sgr_off=True)
    raw = Terminal(width, height, caps.newline_returns)
    layered = Terminal(width, height, caps.newline_returns)
    layer = MinimalOutput(width, height, caps)
    raw_bytes = layered_bytes = 0
    for index, item in enumerate(stream):
        if isinstance(item, tuple) and item[0] == "hold":
            layer.held = item[1]
            continue
        if item is FLUSH:
            out = layer.flush()
        elif isinstance(item, tuple):
            _, width, height = item
            out = layer.flush()
            layered.feed(out)
            layered_bytes += len(out.encode())
            layer.resize(width, height)
            raw.resize(width, height)
            layered.resize(width, height)
            out = layer.flush()
        else:
            raw.feed(item)
            raw_bytes += len(item.encode())
            out = layer.feed(item)
        layered.feed(out)
        layered_bytes += len(out.encode())
        if item is FLUSH and not layer.held:
            found = differences(raw, layered)
            assert not found, f"after item {index}: {found[:3]}"
    return raw_bytes, layered_bytes
