"""A series as one line of text: a sparkline. In Unicode, eighth blocks;
on the Linux console (TERM=linux, a PC console font) and ASCII terminals, the
four shades CP437 has (which the ASCII layer writes as ``.:##``). A gap (no
data: NaN) is a middle dot, an empty level a space."""

from __future__ import annotations

import math

UNICODE = " ▁▂▃▄▅▆▇█"
CONSOLE = " ░▒▓█"
GAP = "·"  # CP437 has it too (0xFA)


def glyphs_for(linux_console: bool, ascii_only: bool) -> str:
    return CONSOLE if linux_console or ascii_only else UNICODE


def sparkline(
    values: list[float],
    width: int,
    *,
    top: float | None = None,
    bottom: float | None = None,
    glyphs: str = UNICODE,
) -> str:
    """``values`` (oldest first) in ``width`` cells, the newest at the right:
    averaged into buckets when there are more values than cells, padded with
    spaces on the left when fewer. Scaled from nothing to ``top`` (default:
    the largest); with ``bottom``, from ``bottom`` (the lowest mark) to
    ``top`` (a full cell): a steady figure then shows how it moves."""
    if width <= 0:
        return ""
    values = list(values)
    if len(values) > width:
        buckets = []
        for i in range(width):
            part = values[len(values) * i // width : len(values) * (i + 1) // width]
            known = [v for v in part if not math.isnan(v)]
            buckets.append(sum(known) / len(known) if known else math.nan)
        values = buckets
    known = [v for v in values if not math.isnan(v)]
    scale = top if top is not None else (max(known) if known else 0.0)
    levels = len(glyphs) - 1
    out = []
    for v in values:
        if math.isnan(v):
            out.append(GAP)
        elif bottom is not None:  # the lowest mark at bottom, a full cell at top
            span = scale - bottom
            step = 0 if span <= 0 else round((v - bottom) / span * (levels - 1))
            out.append(glyphs[1 + max(0, min(levels - 1, step))])
        elif scale <= 0 or v <= 0:
            out.append(glyphs[0])
        else:
            # anything above nothing shows: at least the lowest mark
            out.append(glyphs[max(1, min(levels, math.ceil(v / scale * levels)))])
    return "".join(out).rjust(width)
