"""Character attributes ("pens") and the shortest SGR sequence from one to another.

A pen is an interned tuple ``(flags, fg, bg)``: ``flags`` a bit set of the
attributes below, ``fg`` / ``bg`` the SGR parameters of a colour as text
(``"31"``, ``"97"``, ``"38;5;208"``, ``"48;2;18;18;18"``) or ``None`` for the
terminal's default. Interned pens compare by identity, which keeps the
shadow screens' comparisons cheap."""

from __future__ import annotations

BOLD, DIM, ITALIC, UNDERLINE, BLINK, BLINK2, REVERSE, CONCEAL, STRIKE = (1 << i for i in range(9))
UNDERLINE2, FRAME, ENCIRCLE, OVERLINE = (1 << i for i in range(9, 13))

# SGR code -> flag it sets
ON = {
    1: BOLD, 2: DIM, 3: ITALIC, 4: UNDERLINE, 5: BLINK, 6: BLINK2, 7: REVERSE, 8: CONCEAL,
    9: STRIKE, 21: UNDERLINE2, 51: FRAME, 52: ENCIRCLE, 53: OVERLINE,
}  # fmt: skip
# SGR code -> flags it clears
OFF = {
    22: BOLD | DIM, 23: ITALIC, 24: UNDERLINE | UNDERLINE2, 25: BLINK | BLINK2, 27: REVERSE,
    28: CONCEAL, 29: STRIKE, 54: FRAME | ENCIRCLE, 55: OVERLINE,
}  # fmt: skip
_ON_CODE = {flag: str(code) for code, flag in ON.items()}
_OFF_CODES = sorted(OFF.items())

# flags that show on a blank cell: a space with none of them looks the same
# whatever its foreground, boldness or slant
SHOWS_ON_BLANK = REVERSE | UNDERLINE | UNDERLINE2 | STRIKE | OVERLINE | FRAME | ENCIRCLE
# flags a blank keeps (some consoles draw blink as a bright background)
BLANK_KEEPS = SHOWS_ON_BLANK | BLINK | BLINK2

Pen = tuple  # (flags, fg, bg)

_PENS: dict[Pen, Pen] = {}


def pen(flags: int = 0, fg: str | None = None, bg: str | None = None) -> Pen:
    """The interned pen with these attributes."""
    key = (flags, fg, bg)
    return _PENS.setdefault(key, key)


DEFAULT = pen()

_BLANK: dict[Pen, Pen] = {}


def blank_pen(p: Pen) -> Pen:
    """The pen a space drawn with ``p`` shows: the foreground, bold, dim,
    italic and conceal dropped unless an attribute makes them visible."""
    try:
        return _BLANK[p]
    except KeyError:
        flags, _fg, bg = p
        result = p if flags & SHOWS_ON_BLANK else pen(flags & BLANK_KEEPS, None, bg)
        _BLANK[p] = result
        return result


def erase_pen(p: Pen) -> Pen | None:
    """What a cell erased (ED, EL, ECH) while ``p`` is set shows, where every
    terminal agrees: the background only, if ``p`` has no attribute that
    terminals treat differently when erasing; else None."""
    flags, _fg, bg = p
    if flags & BLANK_KEEPS:
        return None
    return pen(0, None, bg)


def _color(params: list[int], i: int, base: int) -> tuple[str | None, int]:
    """The colour at ``params[i]`` (38/48 and what follows), and the index after it."""
    kind = params[i + 1] if i + 1 < len(params) else None
    if kind == 5 and i + 2 < len(params) and 0 <= params[i + 2] <= 255:
        return f"{base};5;{params[i + 2]}", i + 3
    if kind == 2 and i + 4 < len(params) and all(0 <= v <= 255 for v in params[i + 2 : i + 5]):
        r, g, b = params[i + 2 : i + 5]
        return f"{base};2;{r};{g};{b}", i + 5
    raise ValueError("colour")


_PARSED: dict[tuple[Pen | None, str], Pen | None] = {}


def apply_sgr(current: Pen | None, text: str) -> Pen | None:
    """The pen after ``ESC [ text m`` from ``current``; None if the result
    is not known (``current`` unknown and no reset, or a parameter this
    module does not model: sub-parameters, fonts, underline colour...)."""
    key = (current, text)
    try:
        return _PARSED[key]
    except KeyError:
        pass
    result = _apply(current, text)
    if len(_PARSED) < 4096:
        _PARSED[key] = result
    return result


def _apply(current: Pen | None, text: str) -> Pen | None:
    if ":" in text:
        return None
    try:
        params = [int(p) if p else 0 for p in text.split(";")]
    except ValueError:
        return None
    if current is None:
        flags = fg = bg = None
    else:
        flags, fg, bg = current
    known = current is not None
    i = 0
    while i < len(params):
        code = params[i]
        i += 1
        if code == 0:
            flags, fg, bg, known = 0, None, None, True
        elif not known:
            # still apply nothing: a relative change to an unknown pen stays unknown,
            # but colours must still be skipped as a whole
            if code in (38, 48):
                try:
                    _, i = _color(params, i - 1, code)
                except ValueError:
                    return None
        elif code in ON:
            flags |= ON[code]
        elif code in OFF:
            flags &= ~OFF[code]
        elif 30 <= code <= 37 or 90 <= code <= 97:
            fg = str(code)
        elif 40 <= code <= 47 or 100 <= code <= 107:
            bg = str(code)
        elif code == 39:
            fg = None
        elif code == 49:
            bg = None
        elif code in (38, 48):
            try:
                value, i = _color(params, i - 1, code)
            except ValueError:
                return None
            if code == 38:
                fg = value
            else:
                bg = value
        else:
            return None
    return pen(flags, fg, bg) if known else None


def _codes(p: Pen) -> list[str]:
    flags, fg, bg = p
    codes = [code for flag, code in _ON_CODE.items() if flags & flag]
    if fg is not None:
        codes.append(fg)
    if bg is not None:
        codes.append(bg)
    return codes


_TRANSITIONS: dict[tuple[Pen | None, Pen, bool], str] = {}


def transition(old: Pen | None, new: Pen, off_codes: bool = True) -> str:
    """The shortest SGR sequence that turns pen ``old`` (None: unknown) into
    ``new``: a reset and ``new``'s attributes, or (with ``off_codes``, for
    terminals that have SGR 22-29/39/49) only what differs."""
    key = (old, new, off_codes)
    try:
        return _TRANSITIONS[key]
    except KeyError:
        pass
    if old is new:
        result = ""
    else:
        codes = _codes(new)
        best = "\x1b[" + ";".join(["0", *codes]) + "m" if codes else "\x1b[m"
        if old is not None:
            relative = _relative(old, new, off_codes)
            if relative is not None:
                shorter = "\x1b[" + ";".join(relative) + "m"
                if len(shorter) <= len(best):
                    best = shorter
        result = best
    if len(_TRANSITIONS) < 16384:
        _TRANSITIONS[key] = result
    return result


def _relative(old: Pen, new: Pen, off_codes: bool) -> list[str] | None:
    oflags, ofg, obg = old
    nflags, nfg, nbg = new
    codes: list[str] = []
    flags = oflags
    for code, mask in _OFF_CODES:
        if flags & mask & ~nflags:
            if not off_codes:
                return None
            codes.append(str(code))
            flags &= ~mask
    for flag, code in _ON_CODE.items():
        if nflags & flag and not flags & flag:
            codes.append(code)
    if nfg != ofg:
        if nfg is None and not off_codes:
            return None
        codes.append(nfg or "39")
    if nbg != obg:
        if nbg is None and not off_codes:
            return None
        codes.append(nbg or "49")
    return codes
