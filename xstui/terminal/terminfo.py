"""The few terminfo capabilities the output layer asks about, read from the
compiled entry (term(5)) without curses: dom0's bundled Python has none.

Only what ``Capabilities`` needs: ``bce`` (boolean 28), ``ech`` (string 37)
and ``rmul`` (string 44), at their places in the standard order of term.h."""

from __future__ import annotations

import os
import struct

BCE = 28
ECH, RMUL = 37, 44
MAGIC_16, MAGIC_32 = 0o432, 0o1036  # numbers of 16 bits; of 32 (ncurses 6.1 on)
MAX_SIZE = 1 << 16


def _directories(env) -> list[str]:
    found = []
    if env.get("TERMINFO"):
        found.append(env["TERMINFO"])
    home = env.get("HOME")
    if home:
        found.append(os.path.join(home, ".terminfo"))
    for folder in env.get("TERMINFO_DIRS", "").split(":"):
        found.append(folder or "/usr/share/terminfo")  # an empty part: the default
    found += ["/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo", "/usr/lib/terminfo"]
    return found


def entry(term: str, env=None) -> bytes | None:
    """The compiled terminfo entry of ``term``, or None."""
    env = os.environ if env is None else env
    if not term or "/" in term or term.startswith("."):
        return None
    for folder in _directories(env):
        for sub in (term[0], f"{ord(term[0]):x}"):
            try:
                with open(os.path.join(folder, sub, term), "rb") as f:
                    return f.read(MAX_SIZE)
            except OSError:
                continue
    return None


def parse(data: bytes) -> tuple[list[bool], list[bytes | None]]:
    """Booleans and strings of a compiled entry (its legacy part: the
    standard capabilities); ValueError if it is not one."""
    if len(data) < 12:
        raise ValueError("too short")
    magic, names, bools, nums, strings, table = struct.unpack("<6h", data[:12])
    if magic not in (MAGIC_16, MAGIC_32) or min(names, bools, nums, strings, table) < 0:
        raise ValueError("not a terminfo entry")
    pos = 12 + names
    flags = [b == 1 for b in data[pos : pos + bools]]
    pos += bools + (names + bools) % 2  # numbers start on an even byte
    pos += nums * (4 if magic == MAGIC_32 else 2)
    offsets = struct.unpack(f"<{strings}h", data[pos : pos + 2 * strings])
    pos += 2 * strings
    text = data[pos : pos + table]
    if len(text) < table:
        raise ValueError("truncated")
    values: list[bytes | None] = []
    for offset in offsets:
        if offset < 0 or offset >= table:
            values.append(None)  # absent or cancelled
        else:
            values.append(text[offset : text.index(b"\0", offset)])
    return flags, values


def lookup(term: str, env=None) -> tuple[bool, bytes | None, bytes | None] | None:
    """(bce, ech, rmul) of ``term``; None if there is no readable entry."""
    data = entry(term, env)
    if data is None:
        return None
    try:
        flags, values = parse(data)
    except (ValueError, struct.error):
        return None
    bce = len(flags) > BCE and flags[BCE]
    ech = values[ECH] if len(values) > ECH else None
    rmul = values[RMUL] if len(values) > RMUL else None
    return bce, ech, rmul
