"""The writing half of the output layer: the cells of the wanted screen
that differ from what the terminal shows, in the fewest bytes: cursor moves
chosen by cost, SGR changes by difference, blanks erased (ED, EL, ECH)
where the terminal fills them with the current background."""

from __future__ import annotations

from .sgr import Pen, blank_pen, erase_pen, transition

ED_MIN_GAIN = 64  # cells an erased screen must save before the layer clears it
EL_MIN = 4  # changed blank cells at the end of a row worth an erase to its end
ECH_MIN = 8  # blank cells in a row worth erasing in place


def cup(x: int, y: int) -> str:
    if x:
        return f"\x1b[{y + 1};{x + 1}H"
    return f"\x1b[{y + 1}H" if y else "\x1b[H"


def _horizontal(tx: int, x: int) -> str:
    if x == tx:
        return ""
    if x > tx:
        n = x - tx
        return "\x1b[C" if n == 1 else f"\x1b[{n}C"
    n = tx - x
    back = "\b" * n if n <= 3 else f"\x1b[{n}D"
    home = "\r" + _horizontal(0, x)
    return back if len(back) <= len(home) else home


def _move_sequence(tx: int | None, ty: int | None, x: int, y: int, w: int) -> str:
    best = cup(x, y)
    if tx is None or ty is None or tx >= w:  # unknown, or a wrap pending: absolute
        return best
    if ty == y:
        candidate = _horizontal(tx, x)
    else:
        n = abs(y - ty)
        vertical = ("\x1b[" if n == 1 else f"\x1b[{n}") + ("B" if y > ty else "A")
        candidate = vertical + _horizontal(tx, x)
    return candidate if len(candidate) < len(best) else best


def _utf8_len(char: str) -> int:
    return 1 if char < "\x80" else len(char.encode())


class ScreenWriter:
    """Turns the difference between ``wc``/``wp`` (the wanted screen) and
    ``hc``/``hp`` (the terminal's) into sequences appended to ``out``, with
    ``tx``/``ty``/``tpen`` the terminal's cursor and pen (see ``layer``)."""

    def _pen_to(self, p: Pen) -> None:
        if p is not self.tpen:
            self.out.append(transition(self.tpen, p, self.caps.sgr_off))
            self.tpen = p

    def _erase_pen_to(self, p: Pen) -> None:
        """A pen with which erasing leaves blanks of pen ``p``."""
        if self.tpen is None or erase_pen(self.tpen) is not p:
            self._pen_to(p)

    def _blank_pen_to(self, p: Pen, row_c: list, row_p: list, x: int) -> None:
        """A pen that draws a blank of pen ``p`` at x: the one set if it does
        (a blank shows no foreground), else the pen of the text after the
        blanks if that one does, so that it costs nothing more."""
        tpen = self.tpen
        if tpen is not None and blank_pen(tpen) is p:
            return
        w = self.w
        j = x + 1
        while j < w and row_c[j] == " " and row_p[j] is p:
            j += 1
        after = row_p[j] if j < w and row_c[j] else None
        self._pen_to(after if after is not None and blank_pen(after) is p else p)

    def _move(self, x: int, y: int) -> None:
        if self.tx != x or self.ty != y:
            self.out.append(_move_sequence(self.tx, self.ty, x, y, self.w))
            self.tx, self.ty = x, y

    def _erasable(self, p: Pen) -> bool:
        """Whether an erase with pen ``p`` set leaves blanks of pen ``p``."""
        return p[0] == 0 and p[1] is None and (p[2] is None or self.caps.bce)

    def _diff(self) -> None:
        if not self.dirty:
            return
        rows = sorted(self.dirty)
        self.dirty.clear()
        if len(rows) * 2 >= self.h and self._clear_screen():
            rows = range(self.h)
        for y in rows:
            self._row(y)

    def _clear_screen(self) -> bool:
        """Erase the whole screen first where that saves more cells than it costs."""
        wc, wp, hc, hp = self.wc, self.wp, self.hc, self.hp
        changed: dict[Pen, int] = {}
        kept: dict[Pen, int] = {}
        kept_total = 0
        w = self.w
        for y in range(self.h):
            # no pen can gain enough any more: every kept cell but a blank
            # costs a rewrite after the erase, and at best every cell left gains
            kept_others = kept_total - sum(kept.values())
            if sum(changed.values()) + (self.h - y) * w - kept_others <= ED_MIN_GAIN:
                return False
            row_c, row_p, have_c, have_p = wc[y], wp[y], hc[y], hp[y]
            if None in row_c:
                return False  # an erase would wipe cells the layer does not know
            if row_c == have_c and row_p == have_p:  # a row kept whole: counted at C speed
                kept_total += w
                blanks = row_c.count(" ")
                if blanks and row_p.count(row_p[0]) == w:  # one pen for the whole row
                    kept[row_p[0]] = kept.get(row_p[0], 0) + blanks
                elif blanks:
                    for c, p in zip(row_c, row_p, strict=True):
                        if c == " ":
                            kept[p] = kept.get(p, 0) + 1
                continue
            for c, p, hc_, hp_ in zip(row_c, row_p, have_c, have_p, strict=True):
                if c == hc_ and p is hp_:
                    kept_total += 1
                    if c == " ":
                        kept[p] = kept.get(p, 0) + 1
                elif c == " ":
                    changed[p] = changed.get(p, 0) + 1
        best, gain = None, ED_MIN_GAIN
        for p, count in changed.items():
            if self._erasable(p):
                net = count - (kept_total - kept.get(p, 0))
                if net > gain:
                    best, gain = p, net
        if best is None:
            return False
        self._erase_pen_to(best)
        self.out.append("\x1b[2J")
        for y in range(self.h):
            hc[y] = [" "] * w
            hp[y] = [best] * w
        return True

    def _next_change(self, y: int, x: int, lim: int) -> int:
        """The first cell at or after x (before lim) to write in row y, or -1."""
        wc, wp, hc, hp = self.wc[y], self.wp[y], self.hc[y], self.hp[y]
        for j in range(x, lim):
            if wp[j] is not hp[j] or wc[j] != hc[j]:
                c = wc[j]
                if c is None:
                    continue
                return j - 1 if c == "" else j
        return -1

    def _row(self, y: int) -> None:
        wc, wp, hc, hp = self.wc[y], self.wp[y], self.hc[y], self.hp[y]
        if wp == hp and wc == hc:
            return
        w = self.w
        lim, tail_pen = w, None
        last = wp[w - 1]
        if wc[w - 1] == " " and self._erasable(last):
            start = w - 1
            while start and wc[start - 1] == " " and wp[start - 1] is last:
                start -= 1
            changed = sum(1 for j in range(start, w) if hc[j] != " " or hp[j] is not last)
            if changed >= EL_MIN:
                lim, tail_pen = start, last
        x = self._next_change(y, 0, lim)
        while x >= 0:
            x = self._write_from(y, x, lim)
            x = self._next_change(y, x, lim) if x < lim else -1
        if tail_pen is not None:
            first = self._next_change(y, lim, w)
            if first < 0:
                return
            if not (self.ty == y and self.tx is not None and lim <= self.tx <= first):
                self._move(first, y)
            self._erase_pen_to(tail_pen)
            self.out.append("\x1b[K")
            x = self.tx
            hc[x:] = [" "] * (w - x)
            hp[x:] = [tail_pen] * (w - x)

    def _gap_worth_writing(self, y: int, x: int, n: int) -> bool:
        """Whether writing cells [x, n) again (they are right) costs less than moving over them."""
        wc, wp = self.wc[y], self.wp[y]
        off = self.caps.sgr_off
        jump = len(_move_sequence(self.tx, self.ty, n, y, self.w)) + len(
            transition(self.tpen, wp[n], off)
        )
        cost, pen = 0, self.tpen
        for j in range(x, n):
            c = wc[j]
            if c is None:
                return False
            if c == "":
                continue
            p = wp[j]
            if p is not pen and not (c == " " and pen is not None and blank_pen(pen) is p):
                cost += len(transition(pen, p, off))
                pen = p
            cost += _utf8_len(c)
            if cost > jump:
                return False
        return cost + len(transition(pen, wp[n], off)) <= jump

    def _blanks(self, pen: Pen | None) -> tuple[Pen | None, Pen | None]:
        """The blank ``pen`` draws, and that blank again where a run of cells
        may write it as it is (None where an erase may take it instead)."""
        if pen is None:
            return None, None
        blank = blank_pen(pen)
        return blank, None if self.caps.ech and self._erasable(blank) else blank

    def _write_from(self, y: int, x: int, lim: int) -> int:
        """Write row y from x (a cell to write) while cells differ or are
        cheaper to write than to move over; return where it stopped."""
        wc, wp, hc, hp = self.wc[y], self.wp[y], self.hc[y], self.hp[y]
        w, out = self.w, self.out
        ech, off = self.caps.ech, self.caps.sgr_off
        self._move(x, y)
        until = x + 1
        # the terminal's pen (self.tpen too) and the blanks it draws, kept at
        # hand: most cells need no change of pen
        tpen = self.tpen
        tblank, run_blank = self._blanks(tpen)
        while True:
            if x >= until:
                if x >= lim:
                    return x
                c = wc[x]
                if c is not None and (wp[x] is not hp[x] or c != hc[x]):
                    until = x + 1
                else:
                    n = self._next_change(y, x, lim)
                    if n < 0:
                        return lim
                    if not self._gap_worth_writing(y, x, n):
                        return n
                    until = n + 1
            c, p = wc[x], wp[x]
            if tpen is not None and (p is tpen and c != " " or c == " " and p is run_blank):
                # a run of cells the pen set draws as they are, none of them a wide
                # character nor a blank an erase may take: written in one piece
                r = x
                while r < lim:  # until <= lim
                    cr, pr = wc[r], wp[r]
                    if not cr or r + 1 < w and wc[r + 1] == "":
                        break
                    if not (pr is tpen and cr != " " or cr == " " and pr is run_blank):
                        break
                    if r >= until and pr is hp[r] and cr == hc[r]:
                        break  # not to be written without weighing the gap
                    r += 1
                if r > x:
                    out.append("".join(wc[x:r]))
                    hc[x:r] = wc[x:r]
                    hp[x:r] = wp[x:r]
                    if r < w and hc[r] == "":
                        hc[r] = None  # cut the wide character that was at r - 1
                    until = max(until, r)
                    self.tx = x = r
                    continue
            if c == " ":
                if ech and self._erasable(p):
                    r = x + 1
                    while r < lim and wc[r] == " " and wp[r] is p:
                        r += 1
                    if r - x >= ECH_MIN:
                        self._erase_pen_to(p)
                        out.append(f"\x1b[{r - x}X")
                        hc[x:r] = [" "] * (r - x)
                        hp[x:r] = [p] * (r - x)
                        if r < w and hc[r] == "":
                            hc[r] = None  # the right half of a wide character erased
                        return r
                if tblank is not p:
                    self._blank_pen_to(p, wc, wp, x)
                    tpen = self.tpen
                    tblank, run_blank = self._blanks(tpen)
            elif p is not tpen:
                out.append(transition(tpen, p, off))
                self.tpen = tpen = p
                tblank, run_blank = self._blanks(p)
            out.append(c)
            if x + 1 < w and wc[x + 1] == "":
                if x + 2 < w and hc[x + 2] == "" and hc[x + 1] != "":
                    hc[x + 2] = None  # cut a wide character that started at x + 1
                hc[x], hp[x], hc[x + 1], hp[x + 1] = c, p, "", p
                x += 2
            else:
                if x + 1 < w and hc[x + 1] == "":
                    hc[x + 1] = None  # cut the wide character that was at x
                hc[x], hp[x] = c, p
                x += 1
            self.tx = x
