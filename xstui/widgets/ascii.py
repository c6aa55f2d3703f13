"""ASCII only, for a terminal whose locale is not UTF-8 (``LANG=C`` on a BMC
console, an old SSH client): the output layer maps what Textual draws to
ASCII as it is written, cell for cell (a wide character becomes as many
``?``), so every screen, and every name from XAPI, stays legible and in place."""

from __future__ import annotations

import os
import re
import unicodedata

from rich.cells import cell_len

SYMBOLS = {
    "»": ">", "«": "<", "•": "*", "·": ".", "…": ".", "○": "o", "●": "*", "◦": "o",
    "▶": ">", "►": ">", "◀": "<", "◄": "<", "▲": "^", "▼": "v", "↑": "^", "↓": "v",
    "←": "<", "→": ">", "✓": "v", "✔": "v", "✗": "x", "✘": "x", "—": "-", "–": "-",
    "‘": "'", "’": "'", "“": '"', "”": '"', "\u00a0": " ", "×": "x", "°": "o",
    "█": "#", "▓": "#", "▒": ":", "░": ".", "▀": "-", "▄": "_", "▌": "|", "▐": "|",
}  # fmt: skip


def launch_environ() -> dict[str, str]:
    """The environment the process was started with. Python changes its own
    under the C locale (PEP 538 sets LC_CTYPE=C.UTF-8), which would hide
    LANG=C; Linux keeps the original in /proc/self/environ."""
    try:
        raw = open("/proc/self/environ", "rb").read()  # noqa: SIM115 (read at once)
    except OSError:
        return dict(os.environ)
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


# terminals that draw no Unicode whatever the locale says (DEC's and "dumb")
ASCII_TERMS = re.compile(r"(vt\d+|dumb|ansi)(-.*)?$")
# terminals that show no colour: NO_COLOR (no-color.org) or a terminal without any
MONOCHROME_TERMS = re.compile(r"(vt\d+|dumb)(-.*)?$")


def monochrome(env=None) -> bool:
    """No state may be told by colour alone: NO_COLOR is set, or the
    terminal has no colour."""
    env = launch_environ() if env is None else env
    return bool(env.get("NO_COLOR")) or bool(MONOCHROME_TERMS.match(env.get("TERM", "")))


def ascii_terminal(env=None) -> bool:
    """Whether the terminal draws ASCII only: a DEC terminal (vt100, vt220)
    or one whose locale the console was started under (LC_ALL, else
    LC_CTYPE, else LANG) is not UTF-8; none set is the C locale, ASCII."""
    env = launch_environ() if env is None else env
    if ASCII_TERMS.match(env.get("TERM", "")):
        return True
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = env.get(name)
        if value:
            return not re.search(r"utf-?8", value, re.IGNORECASE)
    return True


def _glyph(char: str) -> str:
    if char.isascii():
        return char  # escape sequences included
    if char in SYMBOLS:
        return SYMBOLS[char]
    width = cell_len(char)
    if width == 0:
        return ""  # a combining mark: the letter before it stays
    name = unicodedata.name(char, "")
    if name.startswith("BOX DRAWINGS"):
        across, down = "HORIZONTAL" in name, "VERTICAL" in name
        return "-" if across and not down else "|" if down and not across else "+"
    if "BLOCK" in name or "SHADE" in name or "QUADRANT" in name:
        return " " if "EIGHTH" in name else "#"
    base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    return base if len(base) == width else "?" * width


class _Table(dict):
    def __missing__(self, code: int) -> str:
        self[code] = glyph = _glyph(chr(code))
        return glyph


_TABLE = _Table()


def to_ascii(text: str) -> str:
    """``text`` in ASCII, each character taking the cells it took."""
    return text if text.isascii() else text.translate(_TABLE)


def ascii_driver(base: type) -> type:
    """``base`` (Textual's terminal driver) writing ASCII only."""

    class AsciiDriver(base):
        def write(self, data: str) -> None:
            super().write(to_ascii(data))

    return AsciiDriver
