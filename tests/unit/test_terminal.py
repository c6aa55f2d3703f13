"""The output layer (xstui/terminal) on any output: random frames (cells,
attributes, partial updates, cursor moves, erases, modes it does not model,
resizes, writes cut anywhere) written through it show, on a reference
terminal (pyte), the same cells, attributes and cursor as written as they
are; and it writes only what changed."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.terminal_reference import FLUSH, replay
from xstui.terminal import Capabilities, MinimalOutput, terminfo
from xstui.terminal.cells import char_width
from xstui.terminal.driver import raw_output_wanted, terminal_capabilities
from xstui.terminal.sgr import DEFAULT, apply_sgr, pen, transition

FULL = Capabilities(bce=True, ech=True, sgr_off=True)
CAPS = st.sampled_from([FULL, Capabilities(), Capabilities(newline_returns=False)])

# narrow, wide, box drawing, a combining accent, an emoji and a zero-width
# space (both left to the terminal), many blanks
ALPHABET = "abcd   ─│█é»漢字\u0301✅\u200b"
SGR_PARAMS = [
    "0", "", "1", "2", "3", "4", "5", "7", "9", "22", "23", "24", "25", "27", "29", "31",
    "32", "39", "40", "44", "49", "91", "97", "100", "38;5;208", "48;5;17", "38;2;1;2;3",
    "48;2;9;9;9", "21", "53", "6", "58;5;1",
]  # fmt: skip
CONTROLS = [
    "\n", "\r", "\b", "\t", "\x07", "\x1b[?25l", "\x1b[?25h", "\x1b[?7l", "\x1b[?7h",
    "\x1b[?2026h", "\x1b[?2026l", "\x1b7", "\x1b8", "\x1b[?1000h", "\x1b]22;default\x07",
    "\x1b[?1049h", "\x1b[2L", "\x1bM", "\x1b(0", "\x1b(B", "\x1b[S", "\x1b[>1u", "\x1b[6n",
]  # fmt: skip


def _text(t: str) -> str:
    # a character of no width joins the cell before it; written alone, after a
    # blank the layer wrote itself, it could show another foreground (README)
    return "a" + t if char_width(t[0]) == 0 else t


OPS = st.one_of(
    st.builds(lambda r, c: f"\x1b[{r};{c}H", st.integers(0, 8), st.integers(0, 14)),
    st.lists(st.sampled_from(SGR_PARAMS), min_size=1, max_size=3).map(
        lambda p: "\x1b[" + ";".join(p) + "m"
    ),
    st.text(ALPHABET, min_size=1, max_size=14).map(_text),
    st.text(ALPHABET, min_size=1, max_size=14).map(_text),
    st.sampled_from(CONTROLS),
    st.builds(lambda n, f: f"\x1b[{n}{f}", st.integers(0, 5), st.sampled_from("ABCDGd")),
    st.builds(
        lambda n, f: f"\x1b[{n}{f}", st.sampled_from(["", "0", "1", "2"]), st.sampled_from("JK")
    ),
    st.builds(lambda n: f"\x1b[{n}X", st.integers(1, 9)),
)
SIZES = st.tuples(st.integers(1, 12), st.integers(1, 6))


@st.composite
def streams(draw) -> tuple[int, int, list]:
    """Frames of output as a program writes them: mostly after turning the
    right margin's wrap off (as Textual does), sometimes resized between."""
    width, height = draw(SIZES)
    stream: list = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.integers(0, 9)) == 0:
            stream.append(("resize", *draw(SIZES)))
        if draw(st.booleans()):
            stream.append("\x1b[?7l")
        stream += draw(st.lists(OPS, min_size=1, max_size=12))
        stream.append(FLUSH)
    return width, height, stream


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), CAPS)
def test_any_frames_show_the_same_through_the_layer(sample, caps):
    width, height, stream = sample
    replay(stream, width, height, caps)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.data())
def test_writes_cut_anywhere_show_the_same(sample, data):
    """A sequence cut between two writes (the layer keeps the start) changes nothing."""
    width, height, stream = sample
    text = "".join(item for item in stream if isinstance(item, str))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True) if b > a]
    replay([*pieces, FLUSH], width, height, FULL)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.data())
def test_held_frames_show_the_same_once_one_goes(sample, data):
    """On a slow link frames are held (see terminal.pace): the first frame
    that goes shows what the held ones changed too."""
    width, height, stream = sample
    held: list = []
    for item in stream:
        if item is FLUSH:  # the frame just written: held or not
            held += [item, ("hold", data.draw(st.booleans()))]
        else:
            held.append(item)
    held = [("hold", data.draw(st.booleans())), *held, ("hold", False), FLUSH]
    replay(held, width, height, FULL)


def test_held_frames_write_nothing_then_what_they_changed():
    rows = [f"line {i} " + "x" * 30 for i in range(24)]
    layer = MinimalOutput(80, 24, FULL)
    layer.feed("\x1b[?7l\x1b[?25l\x1b[0m") + layer.feed(frame(80, 24, rows)) + layer.flush()
    layer.held = True
    for i in range(5):  # five updates of one figure, held
        rows[3] = rows[3][:10] + str(i) + rows[3][11:]
        assert layer.feed(frame(80, 24, rows)) + layer.flush() == ""
    layer.held = False
    out = layer.flush()  # released: the last figure alone
    assert out.endswith("4\x1b[24;80H") and len(out) <= 16, repr(out)


PENS = st.builds(
    pen,
    st.integers(0, (1 << 13) - 1),
    st.sampled_from([None, "31", "97", "38;5;208", "38;2;1;2;3"]),
    st.sampled_from([None, "40", "104", "48;5;17", "48;2;9;9;9"]),
)


@given(st.one_of(st.none(), PENS), PENS, st.booleans())
def test_an_sgr_transition_reaches_the_pen(old, new, off_codes):
    sequence = transition(old, new, off_codes)
    if old is new:
        assert sequence == ""
        return
    assert sequence.startswith("\x1b[") and sequence.endswith("m")
    assert apply_sgr(old, sequence[2:-1]) is new
    if not off_codes:
        params = sequence[2:-1].split(";")
        assert not {"22", "23", "24", "25", "27", "28", "29", "39", "49", "54", "55"} & set(params)


def test_sgr_the_layer_cannot_follow_makes_the_pen_unknown():
    assert apply_sgr(DEFAULT, "4:3") is None  # curly underline (sub-parameters)
    assert apply_sgr(DEFAULT, "58;5;1") is None  # underline colour
    assert apply_sgr(None, "1;31") is None  # relative to a pen not known
    assert apply_sgr(None, "1;0;32") is pen(0, "32", None)
    assert apply_sgr(DEFAULT, "38;5;300") is None


def frame(width: int, height: int, rows: list[str], fg: str = "97", bg: str = "40") -> str:
    """A frame as Textual writes it: each line whole, each run reset after."""
    lines = []
    for y, row in enumerate(rows):
        lines.append(f"\x1b[{y + 1};1H\x1b[{fg};{bg}m{row.ljust(width)}\x1b[0m")
    return "\n".join(lines) + f"\x1b[{height};{width}H"


def test_only_what_changed_is_written():
    rows = [f"line {i} " + "x" * 30 for i in range(24)]
    layer = MinimalOutput(80, 24, FULL)
    # the pen is known once reset: until then what comes goes as it is
    first = layer.feed("\x1b[?7l\x1b[?25l\x1b[0m") + layer.feed(frame(80, 24, rows))
    first += layer.flush()
    assert "\x1b[2J" in first  # the blanks erased, not written
    assert len(first.encode()) < len(frame(80, 24, rows)) / 2
    assert layer.feed(frame(80, 24, rows)) + layer.flush() == ""  # the same frame: nothing
    rows[5] = rows[5][:10] + "y" + rows[5][11:]
    one = layer.feed(frame(80, 24, rows)) + layer.flush()
    assert one.endswith("y\x1b[24;80H") and len(one) <= 16, repr(one)


def test_attributes_change_without_a_reset_when_one_costs_more():
    layer = MinimalOutput(20, 1, FULL)
    out = layer.feed("\x1b[?7l\x1b[?25l\x1b[0m\x1b[1;1H\x1b[1;97;40mab\x1b[0m\x1b[97;40mcd")
    out += layer.feed("\x1b[0m\x1b[90;40mef") + layer.flush()
    assert out.endswith("\x1b[1;97;40mab\x1b[22mcd\x1b[90mef"), repr(out)  # no reset between


def test_a_size_of_zero_is_a_pipe():
    text = "\x1b[1;1H\x1b[31mhello\x1b[0m\x1b[?1049h\x1b[5;5H"
    layer = MinimalOutput(0, 0, FULL)
    assert layer.feed(text) + layer.flush() == text
    layer = MinimalOutput(10, 3, FULL)
    layer.feed("\x1b[?7l\x1b[1;1H\x1b[0mabc")
    layer.resize(0, 0)  # the terminal says 0x0: what was pending goes, then as it comes
    assert layer.feed(text) == "abc" + text
    replay(
        ["\x1b[?7l", "\x1b[1;1H\x1b[0mabc", FLUSH, ("resize", 1, 1), "\x1b[1;1H\x1b[0mz", FLUSH],
        10,
        3,
    )


def test_a_mode_the_layer_cannot_follow_makes_it_a_pipe():
    layer = MinimalOutput(10, 3, FULL)
    layer.feed("\x1b[?7l\x1b[1;1H\x1b[0mabc")
    out = layer.feed("\x1b[?6h\x1b[2;2Hx")  # origin mode: addresses inside the margins
    assert out.endswith("\x1b[?6h\x1b[2;2Hx") and "abc" in out
    assert layer.feed("\x1b[1;1Hy") == "\x1b[1;1Hy"


def test_sequences_the_layer_does_not_model_go_through_in_place():
    """An unknown sequence reaches the terminal after what came before it,
    cursor and pen in place; the cells it may change are written again."""
    stream = ["\x1b[?7l\x1b[1;1H\x1b[0mabcdef\x1b[1;3H\x1b[31m", "\x1b[2P", "X", FLUSH]
    replay(stream, 8, 2)
    layer = MinimalOutput(8, 2, FULL)
    out = layer.feed(stream[0]) + layer.feed(stream[1])
    assert out.index("abcdef") < out.index("\x1b[2P")


def test_capabilities_from_terminfo_and_the_tty():
    linux = terminal_capabilities("linux")
    assert (linux.bce, linux.ech, linux.sgr_off) == (True, True, True)
    assert terminal_capabilities("vt100") == Capabilities()  # SGR 0 only, no ech, no bce
    assert terminal_capabilities("no-such-terminal") == Capabilities()
    assert terminal_capabilities("../../etc/passwd") == Capabilities()
    master, slave = pty.openpty()
    read, write = os.pipe()
    try:
        assert terminal_capabilities("", slave).newline_returns  # a tty's ONLCR
        assert not terminal_capabilities("", write).newline_returns  # a pipe: as written
    finally:
        for fd in (master, slave, read, write):
            os.close(fd)


@pytest.mark.parametrize("term", ["linux", "xterm-256color", "vt100", "screen", "tmux-256color"])
def test_terminfo_is_read_as_curses_reads_it(term):
    """dom0's Python has no curses: the compiled entry is read directly."""
    if terminfo.entry(term) is None:
        pytest.skip(f"no terminfo entry for {term} here")
    code = (
        f"import curses; curses.setupterm({term!r}, -1); "
        "print(curses.tigetflag('bce') > 0, curses.tigetstr('ech'), curses.tigetstr('rmul'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    bce, ech, rmul = terminfo.lookup(term)
    assert done.stdout.strip() == f"{bce} {ech} {rmul}", done.stderr


def test_a_broken_terminfo_entry_gives_the_basics(tmp_path):
    data = terminfo.entry("linux")
    if data is None:
        pytest.skip("no terminfo entry for linux here")
    (tmp_path / "x").mkdir()
    for name, content in (("xcut", data[:40]), ("xjunk", b"\x00" * 64), ("xempty", b"")):
        (tmp_path / "x" / name).write_bytes(content)
        env = {"TERMINFO": str(tmp_path)}
        assert terminfo.lookup(name, env) is None
        assert terminal_capabilities(name, env=env) == Capabilities()


@pytest.mark.parametrize("value, raw", [("", False), ("0", False), ("1", True)])
def test_raw_output_is_asked_for_by_the_environment(value, raw):
    assert raw_output_wanted({"XSTUI_RAW_OUTPUT": value}) is raw
