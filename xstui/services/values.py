"""Values written for people: sizes, durations, percentages. (Reading values
from the wire is done once, by xstui.xapi.records.)"""

from __future__ import annotations

import re

# what a terminal acts on instead of showing: C0 (ESC starts a sequence), DEL, C1
# C0 and C1 controls, and the invisible characters that reorder or break a line
# (bidi overrides and isolates, line and paragraph separators, zero-width ones)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def size(n: int | float) -> str:
    """Bytes in binary units: 1.5 GiB, 256 GiB, 8 TiB."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            if unit == "B":
                return f"{int(n)} B"
            return f"{n:.1f} {unit}" if abs(n) < 10 else f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.0f} PiB"


def duration(seconds: float) -> str:
    """12d 4h, 3h 12m, 5m."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


# what a table's memory column shows, in the same words in every area
MEM_MAX = "Mem max"  # a VM's memory_static_max: the most it may be given
MEM_USED = "Mem used"  # what is in use now (the guest's or the host's metrics)


def moment(when) -> str:
    """A date and time (a datetime) in the one style of the console: local
    time, with the year, to the minute: "2026-12-05 08:27" ('' for none).
    Alerts (F3, F10, Health), snapshots and schedules say their times so."""
    return when.astimezone().strftime("%Y-%m-%d %H:%M") if when is not None else ""


def percent(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


def listing(items, limit: int = 6, sep: str = ", ") -> str:
    """The first ``limit`` items, then how many more."""
    items = list(items)
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return sep.join(items[:limit]) + more


def vms_named(names: list[str]) -> str:
    """What a dialog calls the VMs it acts on: the VM's name when there is
    one, else how many and which ("3 VMs: a, b, c")."""
    if len(names) == 1:
        return names[0]
    return f"{len(names)} VMs: {listing(names)}"


def printable(text: str) -> str:
    """Text from a server or a file, safe to write to a terminal outside the
    TUI: each control character written as an escape (ESC as \\x1b, a
    newline as \\n), so a name can neither drive the terminal nor forge a line."""
    return CONTROL.sub(lambda m: _SHORT.get(m.group(), _escape(m.group())), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
