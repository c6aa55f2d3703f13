"""How many cells a character takes, where terminals agree.

1 or 2 for a character every terminal draws in that many cells; 0 for one
they may not agree on (combining and zero-width characters, controls,
emoji, private use, code points newer than this Python's Unicode): the
output layer writes those as they come and forgets what it knew of the
cells around them, so the terminal's own opinion wins."""

from __future__ import annotations

import unicodedata

_WIDTHS: dict[str, int] = {}


def _width(char: str) -> int:
    code = ord(char)
    if 0x20 <= code < 0x7F:
        return 1
    if code < 0xA0 or code >= 0x1F000:  # controls; emoji and the planes past them
        return 0
    category = unicodedata.category(char)
    if category[0] in "MC" or category in ("Zl", "Zp"):
        return 0  # marks, controls, format, surrogates, private use, unassigned
    if 0x1100 <= code <= 0x11FF or 0xD7B0 <= code <= 0xD7FF:
        return 0  # Hangul jamo: joined into syllables by some terminals only
    if (
        code in (0x3164, 0xFFA0)
        or 0x2630 <= code <= 0x2637
        or 0x268A <= code <= 0x268F
        or 0x4DC0 <= code <= 0x4DFF
        or 0x1D300 <= code <= 0x1D37F
    ):
        return 0  # Hangul fillers, trigrams, hexagrams, tetragrams: widths changed in Unicode 16
    east_asian = unicodedata.east_asian_width(char)
    if east_asian in ("W", "F"):
        # wide before the CJK blocks: symbols that became emoji (Unicode 9),
        # one cell on terminals older than that
        return 2 if code >= 0x2E80 else 0
    return 1


def char_width(char: str) -> int:
    """Cells ``char`` takes (1 or 2), or 0 where terminals may disagree."""
    try:
        return _WIDTHS[char]
    except KeyError:
        width = _WIDTHS[char] = _width(char)
        return width
