"""The output layer: what a program writes to its terminal in, the fewest
bytes that make the terminal show the same out.

``MinimalOutput.feed`` parses the program's output into a shadow of the
screen it wants (cells: a character and a pen), and ``flush`` (the end of a
frame) writes the cells that differ from what the terminal shows, moving the
cursor and changing attributes only where needed, as curses does (the
writing half is ``writer.ScreenWriter``).

Correctness first: a sequence this module does not model goes to the
terminal as it came, after everything before it, with the cursor and
attributes where the program had put them; then the layer forgets what the
sequence may have changed (cells, the cursor, the pen: an unknown cell is
never written by the layer) and writes what follows as it comes until the
cursor and the pen are known again (a cursor move and an SGR reset).

Gone through that way: inserting or deleting lines or characters, scrolling
(a line feed on the last row, SU/SD, IND/RI/NEL), tabs, character sets,
saved cursors, ED 3, erases whose attributes terminals fill differently,
and characters whose width terminals disagree on (``cells.char_width``:
the rest of their row is forgotten until the cursor is placed again).
A pipe from then on: origin mode, left/right margins, scroll regions short
of the whole screen, insert and newline modes, double-size lines.
Blanks are compared as they look: a space's foreground, bold and italic do
not show, so they are not kept; a character of no width written alone onto
such a blank afterwards is drawn in the blank's own colour where the layer
still knows it (not when its pen is unknown, nor once the program saved
the cursor). The size is the one the program draws for (the driver's)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import repeat

from .cells import char_width
from .sgr import Pen, apply_sgr, blank_pen, erase_pen, transition
from .writer import ScreenWriter, cup

SYNC_START, SYNC_END = "\x1b[?2026h", "\x1b[?2026l"


@dataclass(frozen=True)
class Capabilities:
    """What the terminal does beyond moving the cursor and SGR 0-9, 30-49."""

    bce: bool = False  # erasing fills with the current background (terminfo bce)
    ech: bool = False  # ESC [ n X erases n cells (terminfo ech)
    sgr_off: bool = False  # SGR 22-29, 39, 49 turn one attribute off
    newline_returns: bool = True  # the tty sends LF as CR LF (termios ONLCR)


TOKEN = re.compile(
    r"(?P<text>[^\x00-\x1f\x7f-\x9f]+)"
    # the commonest sequences, matched apart to skip _csi's parsing: SGR and
    # cursor positions without a prefix or intermediates (the rest are csi)
    r"|\x1b\[(?P<sgr>[0-9;]*)m"
    r"|\x1b\[(?P<cup>[0-9;]*)H"
    r"|\x1b\[(?P<csi>[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e])"
    r"|(?P<string>\x1b[\]P_^X][^\x07\x1b]*(?:\x07|\x1b\\))"
    r"|\x1b(?P<esc>[\x20-\x2f]*[\x30-\x4f\x51-\x57\x59\x5a\x5c\x60-\x7e])"
    r"|(?P<ctl>[\x00-\x1a\x1c-\x1f\x7f-\x9f])",
    re.S,
)
TEXT, SGR, CUP, CSI, STRING, ESC, CTL = (
    TOKEN.groupindex[name] for name in ("text", "sgr", "cup", "csi", "string", "esc", "ctl")
)
# the start of a sequence cut at the end of a write: kept for the next one
INCOMPLETE = re.compile(
    r"\x1b(?:\[[\x30-\x3f]*[\x20-\x2f]*|[\]P_^X][^\x07\x1b]*\x1b?|[\x20-\x2f]*)\Z", re.S
)
MAX_INCOMPLETE = 65536

# DEC private modes that change nothing on the screen (mouse, focus, paste,
# keys, cursor blink, in-band resize, grapheme clustering)
NEUTRAL_MODES = {
    1, 9, 12, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1015, 1016,
    1034, 1035, 1036, 1037, 1039, 1042, 1043, 1070, 2004, 2027, 2048,
}  # fmt: skip
ALT_SCREEN = {47, 1047, 1049}
# modes after which cursor addressing or text no longer works as modelled:
# origin mode, left/right margins
UNMODELLED_MODES = {6, 69}

INTERMEDIATES = " !\"#$%&'()*+,-./"


# the cells of texts written before (a tab shown again draws the same runs):
# at most LAYOUTS_KEPT, a few frames' worth, about a kilobyte each
_LAYOUTS: dict[tuple[str, Pen, int], tuple[str | list[str], list[Pen], int, int]] = {}
LAYOUTS_KEPT = 1024
PLACES_KEPT = 4096  # cursor positions remembered (80x24 has 1920 cells)


def _layout(text: str, pen: Pen, room: int) -> tuple[str | list[str], list[Pen], int, int]:
    """The cells ``text`` (no controls) written with ``pen`` takes where
    ``room`` cells are left in the row: their characters ("" for the right
    half of a wide one) and pens, how many characters of ``text`` they hold
    (up to the first of no width, or the row's end) and how many cells."""
    blank = blank_pen(pen)
    # one cell a character, as all of ASCII here?
    widths = None if text.isascii() else list(map(char_width, text))
    if widths is None or 2 not in widths:
        n = widths.index(0) if widths is not None and 0 in widths else len(text)
        n = min(n, room)
        chars = text if n == len(text) else text[:n]  # a str: one cell a character
        if blank is not pen and " " in chars:
            return chars, list(map({" ": blank}.get, chars, repeat(pen, n))), n, n
        return chars, [pen] * n, n, n
    chars_, pens = [], []
    n = cells = 0
    for char, width in zip(text, widths, strict=True):
        if width == 0 or cells + width > room:
            break
        chars_.append(char)
        pens.append(blank if char == " " else pen)
        if width == 2:
            chars_.append("")
            pens.append(pen)
        cells += width
        n += 1
    return chars_, pens, n, cells


class MinimalOutput(ScreenWriter):
    """A shadow of the terminal between a program and its tty.

    ``feed(text)`` takes what the program writes and returns what must go to
    the terminal at once (sequences that do not wait for the frame's end);
    ``flush()`` ends a frame and returns the rest. ``resize`` tells a new
    size (the terminal's content is then unknown). A size of 0 in either
    direction turns the layer into a plain pipe. While ``held`` (a slow
    link: see ``pace``), frames change what the program wants and write
    nothing; the first frame that ends unheld writes what they all changed."""

    def __init__(self, width: int = 0, height: int = 0, caps: Capabilities | None = None):
        self.caps = caps or Capabilities()
        self.out: list[str] = []
        self._tail = ""
        self.broken = False  # a mode the layer cannot follow: a pipe from then on
        self.saved = False  # the program saved the cursor (ESC 7 and the like)
        self.sync_open = self.sync_emitted = False
        self.autowrap: bool | None = None
        self.visible: bool | None = None  # what the program wants
        self.tvisible: bool | None = None  # what the terminal does
        self.pen: Pen | None = None
        self.held = False
        self.w = self.h = 0
        self._grids(width, height)

    # -- state ---------------------------------------------------------------

    def _grids(self, width: int, height: int) -> None:
        self.w, self.h = (width, height) if width > 0 and height > 0 else (0, 0)
        w, h = self.w, self.h
        # want: the screen the program's output makes; have: what the terminal shows.
        # A cell is a character ("" for the right half of a wide one, None: unknown)
        # and a pen (None: unknown), in parallel rows.
        self.wc = [[None] * w for _ in range(h)]
        self.wp = [[None] * w for _ in range(h)]
        # the pen each wanted cell was written with (a blank's is dropped in wp;
        # a combining character drawn on the blank later shows it)
        self.wr = [[None] * w for _ in range(h)]
        self.hc = [[None] * w for _ in range(h)]
        self.hp = [[None] * w for _ in range(h)]
        self.dirty: set[int] = set()
        # a cursor position's parameters -> the cell it goes to, at this size
        self._places: dict[str, tuple[int, int]] = {}
        # the program's cursor: cx == w after writing the last column (a wrap
        # may be pending); cx None with cy known: somewhere at or right of cx_min
        self.cx: int | None = None
        self.cy: int | None = None
        self.cx_min = 0
        # the terminal's cursor (None: unknown; tx == w: after the last column)
        self.tx: int | None = None
        self.ty: int | None = None
        self.tpen: Pen | None = None
        # raw: the terminal's cursor and pen are the program's, unknown to the
        # layer; everything goes through as it comes until both are known
        self.raw = True

    @property
    def size(self) -> tuple[int, int]:
        return self.w, self.h

    @property
    def enabled(self) -> bool:
        return self.w > 0 and not self.broken

    def resize(self, width: int, height: int) -> None:
        """The terminal has a new size: what it shows is unknown from now on."""
        if (width, height) == (self.w, self.h) or (width <= 0 or height <= 0) and not self.w:
            return
        if self.enabled:
            if not self.raw:
                self._sync()
        else:
            # a pipe so far: the program's pen and modes went by unseen
            self.pen = None
            self.autowrap = self.visible = self.tvisible = None
        self._grids(width, height)

    def _take(self) -> str:
        text = "".join(self.out)
        self.out.clear()
        return text

    # -- input ---------------------------------------------------------------

    def feed(self, data: str) -> str:
        """Take what the program wrote; return what must be written now."""
        if not self.enabled:
            data, self._tail = self._tail + data, ""
            return self._take() + data
        if self._tail:
            data, self._tail = self._tail + data, ""
        pos, end = 0, len(data)
        places = self._places
        while pos < end:
            for m in TOKEN.finditer(data, pos):
                if m.start() != pos:
                    break  # no token at pos: below
                pos = m.end()
                kind = m.lastindex
                token = m[kind]
                # most of a frame: text, SGR and cursor positions, which never break the layer
                if kind == TEXT:
                    self._text(token)
                    continue
                if kind == SGR:
                    new = None if self.raw else apply_sgr(self.pen, token)
                    if new is None:
                        self._sgr("\x1b[" + token + "m", token)
                    else:
                        self.pen = new
                    continue
                if kind == CUP:  # where it goes depends on the size only, but in raw mode
                    place = None if self.raw else places.get(token)
                    if place is not None:
                        self.cx, self.cy = place
                        continue
                    raw = self.raw
                    self._cursor_csi("\x1b[" + token + "H", "H", token)
                    if not raw and len(places) < PLACES_KEPT:
                        places[token] = self.cx, self.cy
                    continue
                if kind == CSI:
                    self._csi(token)
                elif kind == CTL:
                    self._ctl(token)
                elif kind == ESC:
                    self._esc(token)
                else:
                    self._emit(token)  # OSC, DCS, APC...: nothing on the screen
                if self.broken:  # a mode the layer cannot follow: a pipe from here
                    self._tail = ""
                    return self._take() + data[pos:]
            if pos < end:  # an escape that starts no token
                rest = data[pos:]
                if len(rest) < MAX_INCOMPLETE and INCOMPLETE.match(rest):
                    self._tail = rest
                    break
                self._passthrough("\x1b", cells=True, cursor=True, pen=True)  # malformed
                pos += 1
        return self._take()

    def flush(self) -> str:
        """The end of a frame: what the terminal needs to show it."""
        if self.enabled:
            self._finish()
        return self._take()

    # -- output helpers ------------------------------------------------------

    def _emit(self, text: str) -> None:
        if self.sync_open and not self.sync_emitted:
            self.out.append(SYNC_START)
            self.sync_emitted = True
        self.out.append(text)

    def _opened_at(self, mark: int) -> None:
        """Open the synchronised update before what was written from ``mark``."""
        if len(self.out) > mark and self.sync_open and not self.sync_emitted:
            self.out.insert(mark, SYNC_START)
            self.sync_emitted = True

    def _after_raw(self) -> None:
        """After something went to the terminal as it came: raw until the
        cursor and the pen are known, else the terminal's are the program's."""
        if self.cx is None or self.cy is None or self.pen is None:
            self.raw = True
        else:
            self.raw = False
            self.tx = self.cx
            self.ty = self.cy
            self.tpen = self.pen

    def _sync(self) -> None:
        """Bring the terminal to the program's state: every cell, the cursor,
        the pen and the cursor's visibility (not in raw mode: it is there)."""
        mark = len(self.out)
        self._diff()
        self._place_cursor()
        self._pen_to(self.pen)
        if self.visible is not None and self.tvisible is not self.visible:
            self.out.append("\x1b[?25h" if self.visible else "\x1b[?25l")
            self.tvisible = self.visible
        self._opened_at(mark)

    def _place_cursor(self) -> None:
        cx, cy, w = self.cx, self.cy, self.w
        if cx < w or (self.tx, self.ty) == (cx, cy):
            self._move(cx, cy)
            return
        # a wrap pending after the last column: the terminal gets there by
        # writing that cell again
        row_c, row_p = self.wc[cy], self.wp[cy]
        x = w - 2 if w >= 2 and row_c[w - 1] == "" else w - 1
        self._move(x, cy)
        if row_c[x]:
            self._pen_to(self.wr[cy][x] or row_p[x])
            self.out.append(row_c[x])
            self.hc[cy][x], self.hp[cy][x] = row_c[x], row_p[x]
            self.tx = w
        else:
            self.tx = self.ty = None  # not known to be the program's: the closest

    def _passthrough(
        self, seq: str, cells: bool = False, cursor: bool = False, pen: bool = False
    ) -> None:
        """Write ``seq`` as it came, where the program would have; then forget
        what it may have changed."""
        if not self.raw:
            self._sync()
        self._emit(seq)
        if cells:
            self._forget_all()
        if cursor:
            if self.cy is not None:
                self.cx_min = 0
            self.cx = self.cy = None
        if pen:
            self.pen = None
        if self.raw or cursor or pen:
            self._after_raw()

    def _forget_all(self) -> None:
        w = self.w
        for rows in (self.wc, self.wp, self.wr, self.hc, self.hp):
            for y in range(self.h):
                rows[y] = [None] * w
        self.dirty.clear()

    def _forget(self, y: int, x0: int, x1: int) -> None:
        """Forget cells [x0, x1) of row y (and the halves of wide characters
        they cut), in what the program wants and what the terminal shows."""
        w = self.w
        x0, x1 = max(x0, 0), min(x1, w)
        if x0 >= x1:
            return
        for chars, pens in ((self.wc[y], self.wp[y]), (self.hc[y], self.hp[y])):
            a = x0 - 1 if chars[x0] == "" and x0 > 0 else x0
            b = x1 + 1 if x1 < w and chars[x1] == "" else x1
            chars[a:b] = [None] * (b - a)
            pens[a:b] = [None] * (b - a)
            if chars is self.wc[y]:
                self.wr[y][a:b] = [None] * (b - a)

    # -- text ----------------------------------------------------------------

    def _text(self, text: str) -> None:
        if self.raw:
            self._text_raw(text)
            return
        x, y, w = self.cx, self.cy, self.w
        if x >= w:  # after the last column: terminals differ
            self._sync()
            self._text_raw(text)
            return
        pen = self.pen
        key = (text, pen, w - x)
        try:
            chars, pens, n, cells = _LAYOUTS[key]
        except KeyError:
            chars, pens, n, cells = layout = _layout(text, pen, w - x)
            if len(_LAYOUTS) < LAYOUTS_KEPT:
                _LAYOUTS[key] = layout
        row_c, row_p = self.wc[y], self.wp[y]
        end = x + cells
        if cells and (row_c[x] == "" or end < w and row_c[end] == ""):
            # cuts a wide character in two: what is left of it is up to the terminal
            self._sync()
            self._text_raw(text)
            return
        if cells:
            row_c[x:end] = chars
            row_p[x:end] = pens
            self.wr[y][x:end] = [pen] * cells
            self.dirty.add(y)
            self.cx = end
        if n < len(text):
            self._sync()
            self._text_raw(text[n:])

    def _text_raw(self, text: str) -> None:
        """Write ``text`` as it came (the terminal's cursor and pen are the
        program's) and forget the cells it may have changed."""
        if char_width(text[0]) == 0:
            self._before_combining()
        self._emit(text)
        x, y, w = self.cx, self.cy, self.w
        if y is not None and x is not None and x < w:
            widths = [char_width(c) for c in text]
            cells = sum(widths)
            if 0 not in widths and x + cells <= w:
                # where it went is known; what it shows is if the pen is
                self._forget(y, x, x + cells)
                if self.pen is not None:
                    self._set_cells(y, x, text, widths)
                self.cx = x + cells
                self._after_raw()
                return
        if y is not None and self.autowrap is False:
            low = x if x is not None else self.cx_min
            self._forget(y, low - 2, w)
            self.cx, self.cx_min = None, min(low, w - 1)
        else:
            self._forget_all()
            self.cx = self.cy = None
        self._after_raw()

    def _before_combining(self) -> None:
        """A character of no width joins the cell before the cursor and is
        drawn with that cell's attributes: give a blank there the pen the
        program wrote it with (the layer writes blanks with fewer)."""
        x, y, w = self.cx, self.cy, self.w
        if x is None or y is None:
            return
        if x:
            cell_x, cell_y = min(x, w) - 1, y
        elif y:
            cell_x, cell_y = w - 1, y - 1  # some terminals join the previous line's end
        else:
            return
        real = self.wr[cell_y][cell_x]
        if self.wc[cell_y][cell_x] != " " or real is None or real is self.wp[cell_y][cell_x]:
            return
        if self.raw:
            if self.saved:
                return  # the pen cannot be put back without taking the program's saved cursor
            self.out.append(
                "\x1b7" + cup(cell_x, cell_y) + transition(None, real, self.caps.sgr_off) + " \x1b8"
            )
            return
        self._move(cell_x, cell_y)
        self._pen_to(real)
        self.out.append(" ")
        self.tx = cell_x + 1
        self._place_cursor()
        self._pen_to(self.pen)

    def _set_cells(self, y: int, x: int, text: str, widths: list[int]) -> None:
        """Cells the terminal was given as they came: known in both shadows."""
        pen, blank = self.pen, blank_pen(self.pen)
        self.wr[y][x : x + sum(widths)] = [pen] * sum(widths)
        for grid_c, grid_p in ((self.wc[y], self.wp[y]), (self.hc[y], self.hp[y])):
            i = x
            for char, width in zip(text, widths, strict=True):
                grid_c[i] = char
                grid_p[i] = blank if char == " " else pen
                if width == 2:
                    grid_c[i + 1], grid_p[i + 1] = "", pen
                i += width

    # -- controls and sequences ------------------------------------------------

    def _ctl(self, char: str) -> None:
        if char == "\r":
            if self.raw:
                self._emit(char)
                if self.cy is not None:
                    self.cx = 0
                self._after_raw()
            else:
                self.cx = 0
        elif char == "\n":
            self._linefeed(char, self.caps.newline_returns)
        elif char in "\x0b\x0c":
            self._linefeed(char, False)
        elif char == "\b":
            if self.raw:
                self._emit(char)
                if self.cx is not None:
                    if self.cx >= self.w:
                        self.cx, self.cx_min = None, max(self.w - 2, 0)
                    elif self.cx:
                        self.cx -= 1
                self._after_raw()
            elif self.cx >= self.w:
                self._unknown_column(char, self.w - 2)
            elif self.cx:
                self.cx -= 1
        elif char == "\t":
            low = (self.cx + 1) if self.cx is not None else self.cx_min
            self._unknown_column(char, low)
        elif char in "\x0e\x0f":
            self._passthrough(char, cells=True)  # another character set
        elif char >= "\x80":
            self._passthrough(char, cells=True, cursor=True, pen=True)  # C1 control
        else:
            self._emit(char)  # bell and the like

    def _unknown_column(self, seq: str, low: int) -> None:
        """Write ``seq``, after which the cursor is on the same row, at or right of ``low``."""
        if not self.raw:
            self._sync()
        self._emit(seq)
        if self.cy is not None:
            self.cx, self.cx_min = None, max(0, min(low, self.w - 1))
        self._after_raw()

    def _linefeed(self, char: str, returns: bool) -> None:
        y, h = self.cy, self.h
        if self.raw:
            self._emit(char)
            if y is None or y >= h - 1:
                self._forget_all()  # may have scrolled
            else:
                self.cy = y + 1
            if returns and self.cy is not None:
                self.cx = 0
            elif self.cx is not None and self.cx >= self.w:
                self.cx, self.cx_min = None, self.w - 1
            self._after_raw()
            return
        if not returns and self.cx >= self.w:
            self._unknown_column(char, self.w - 1)
            if y < h - 1:
                self.cy = y + 1
            else:
                self._forget_all()
            return
        if y < h - 1:
            self.cy = y + 1
            if returns:
                self.cx = 0
            return
        self._passthrough(char, cells=True)  # scrolls the screen
        if returns:
            self.cx = 0
            self._after_raw()

    def _esc(self, body: str) -> None:
        seq = "\x1b" + body
        final, inter = body[-1], body[:-1]
        if not inter:
            if final == "7":
                self.saved = True
                self._passthrough(seq)
            elif final == "8":
                self._passthrough(seq, cursor=True, pen=True)
            elif final in "=>\\":
                self._emit(seq)
            elif final in "DEM":
                self._passthrough(seq, cells=True, cursor=True)
            elif final == "c":
                self._passthrough(seq, cells=True, cursor=True, pen=True)
                self.autowrap = self.visible = self.tvisible = None
            else:
                self._passthrough(seq, cells=True, cursor=True, pen=True)
        elif inter in "()*+-./%" or body == "#8":
            self._passthrough(seq, cells=True)  # character sets, the alignment test
        elif inter == "#":
            self._disable(seq)  # double-width or -height lines
        else:
            self._passthrough(seq, cells=True, cursor=True, pen=True)

    def _disable(self, seq: str) -> None:
        if not self.raw:
            self._sync()
        self._emit(seq)
        self.broken = True

    def _csi(self, body: str) -> None:
        seq = "\x1b[" + body
        final = body[-1]
        params = body[:-1]
        prefix = ""
        if params and params[0] in "<=>?":
            prefix, params = params[0], params[1:]
        inter = ""
        while params and params[-1] in INTERMEDIATES:
            inter, params = params[-1] + inter, params[:-1]
        if prefix == "":
            if not inter:
                if final == "m":
                    self._sgr(seq, params)
                    return
                if final in "HfABCDEFGd`":
                    self._cursor_csi(seq, final, params)
                    return
                if final in "JKX":
                    self._erase(seq, final, params)
                    return
                if final in "ns":  # reports (of the cursor too), cursor saved
                    self.saved = self.saved or final == "s"
                    self._passthrough(seq)
                    return
                if final == "u":  # cursor restored
                    self._passthrough(seq, cursor=True, pen=True)
                    return
                if final == "c":
                    self._emit(seq)
                    return
                if final == "r" and params in ("", "1", f"1;{self.h}"):
                    self._passthrough(seq, cursor=True)  # whole-screen margins
                    return
                if final in "hlr":
                    self._disable(seq)  # insert mode, newline mode, margins
                    return
            elif inter == " " and final == "q":
                self._emit(seq)  # cursor shape
                return
            self._passthrough(seq, cells=True, cursor=True)
        elif prefix == "?":
            if not inter and final in "hl" and params:
                self._modes(params, final)
            elif (inter == "$" and final == "p") or (not inter and final == "u"):
                self._emit(seq)  # queries: mode, keyboard protocol
            elif not inter and final == "n":
                self._passthrough(seq)
            else:
                self._passthrough(seq, cells=True, cursor=True)
        else:
            self._emit(seq)  # keyboard protocol, modifiers, device attributes

    def _modes(self, params: str, final: str) -> None:
        on = final == "h"
        for mode in params.split(";"):
            seq = f"\x1b[?{mode}{final}"
            if not mode.isdigit():
                self._passthrough(seq, cells=True, cursor=True)
                continue
            code = int(mode)
            if code == 2026:
                if on:
                    self.sync_open = True
                else:
                    self._end_sync()
            elif code == 25:
                self.visible = on
                if self.raw:
                    self._emit(seq)
                    self.tvisible = on
                elif not on and self.tvisible is not False:
                    self._emit(seq)  # hide at once; show once the cursor is in place
                    self.tvisible = False
            elif code == 7:
                self.autowrap = on
                self._emit(seq)
            elif code in NEUTRAL_MODES:
                self._emit(seq)
            elif code in ALT_SCREEN:
                self.saved = self.saved or code == 1049
                # leaving 1049 restores the cursor and its attributes saved on entering
                restores = code == 1049 and not on
                self._passthrough(seq, cells=True, cursor=restores, pen=restores)
            elif code == 1048:
                self.saved = self.saved or on
                self._passthrough(seq, cursor=not on, pen=not on)
            elif code in UNMODELLED_MODES:
                self._disable(seq)
                return
            else:
                self._passthrough(seq, cells=True, cursor=True)

    def _sgr(self, seq: str, params: str) -> None:
        new = apply_sgr(self.pen, params)
        if self.raw:
            self._emit(seq)
            self.pen = new
            self._after_raw()
        elif new is None:
            self._passthrough(seq, pen=True)
        else:
            self.pen = new

    def _cursor_csi(self, seq: str, final: str, params: str) -> None:
        try:
            numbers = [int(p) if p else 0 for p in params.split(";")] if params else []
        except ValueError:
            self._passthrough(seq, cells=True, cursor=True)
            return
        first = max(numbers[0], 1) if numbers else 1
        w, h = self.w, self.h
        cx, cy = self.cx, self.cy
        pending = cx is not None and cx >= w
        if final in "Hf":
            col = max(numbers[1], 1) if len(numbers) > 1 else 1
            cx, cy = min(col, w) - 1, min(first, h) - 1
        elif final in "AF":
            cy = None if cy is None else max(cy - first, 0)
            cx = 0 if final == "F" else (None if pending else cx)
        elif final in "BE":
            cy = None if cy is None else min(cy + first, h - 1)
            cx = 0 if final == "E" else (None if pending else cx)
        elif final == "C":
            cx = None if cx is None or pending else min(cx + first, w - 1)
        elif final == "D":
            cx = None if cx is None or pending else max(cx - first, 0)
        elif final in "G`":
            cx = min(first, w) - 1
        else:  # d
            cy = min(first, h) - 1
            cx = None if pending else cx
        if cx is None and cy is not None:
            low = self.cx if self.cx is not None else self.cx_min
            if final == "C":
                low += first
            elif final == "D":
                low -= first
            self.cx_min = max(0, min(low, w - 1))
        if self.raw:
            self._emit(seq)
            self.cx, self.cy = cx, cy
            self._after_raw()
        elif cx is None or cy is None:
            self._sync()
            self._emit(seq)
            self.cx, self.cy = cx, cy
            self._after_raw()
        else:
            self.cx, self.cy = cx, cy

    def _erase(self, seq: str, final: str, params: str) -> None:
        try:
            n = int(params) if params else 0
        except ValueError:
            self._passthrough(seq, cells=True, cursor=True)
            return
        x, y, w, h = self.cx, self.cy, self.w, self.h
        if self.raw or x >= w or (final == "J" and n == 3) or n > 2 and final != "X":
            # unknown place, or terminals that differ: after the last column
            # (the last cell, or none), ED 3 (the scrollback, or the screen)
            self._passthrough(seq, cells=True)
            return
        if final == "X":
            spans = [(y, x, min(x + max(n, 1), w))]
        elif final == "K":
            spans = [(y, *((x, w), (0, x + 1), (0, w))[n])]
        elif n == 0:
            spans = [(y, x, w)] + [(r, 0, w) for r in range(y + 1, h)]
        elif n == 1:
            spans = [(r, 0, w) for r in range(y)] + [(y, 0, x + 1)]
        else:
            spans = [(r, 0, w) for r in range(h)]
        cleared = erase_pen(self.pen)
        if cleared is not None and cleared[2] is not None and not self.caps.bce:
            cleared = None  # the background of erased cells differs between terminals
        cuts = any(
            self.wc[r][a] == "" or b < w and self.wc[r][b] == "" for r, a, b in spans if a < b
        )
        if cleared is None or cuts:
            self._sync()
            self._emit(seq)
            for r, a, b in spans:
                self._forget(r, a - 1 if cuts else a, b + 1 if cuts else b)
            return
        for r, a, b in spans:
            if a < b:
                self.wc[r][a:b] = [" "] * (b - a)
                self.wp[r][a:b] = [cleared] * (b - a)
                self.wr[r][a:b] = [self.pen] * (b - a)
                self.dirty.add(r)

    def _end_sync(self) -> None:
        self._finish()
        if self.sync_emitted:
            self.out.append(SYNC_END)
        self.sync_open = self.sync_emitted = False

    # -- the frame -----------------------------------------------------------

    def _finish(self) -> None:
        if self.raw or self.held:
            return
        mark = len(self.out)
        self._diff()
        if (self.tx, self.ty) != (self.cx, self.cy):
            self._place_cursor()
        if self.visible is not None and self.tvisible is not self.visible:
            self.out.append("\x1b[?25h" if self.visible else "\x1b[?25l")
            self.tvisible = self.visible
        self._opened_at(mark)
