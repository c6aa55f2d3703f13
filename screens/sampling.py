"""Performance figures on a screen's tab: XAPI's RRDs read (one
rrd_updates per host, in a thread) every 5 seconds while that tab is shown,
never otherwise, and the tab redrawn after each read. A screen makes one
:class:`Sampling` and tells it when its tabs change (``shown``)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable

from xstui.services.metrics import Metrics, http_fetch, perfmon
from xstui.services.metrics.model import cpu_text, history
from xstui.services.values import size
from xstui.widgets.ascii import ascii_terminal
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.sparkline import glyphs_for, sparkline

from .act import Act

SECONDS = 5.0  # the RRDs' finest step: reading faster shows nothing new
SPARK = 19  # cells of a 10-minute sparkline
RANGE = "each line its own lowest-highest"
GRAPH = 44  # cells of a sparkline in an object's graphs (its scale after it)


class Sampling:
    def __init__(self, screen, tab: str, draw: Callable[[], None]) -> None:
        self.screen, self.tab, self.draw = screen, tab, draw
        self.metrics: Metrics | None = None
        self._conn = None  # the connection it reads through
        self._busy = False
        self._timer = None

    def mount(self) -> None:
        """From the screen's on_mount: the timer, paused until the tab shows."""
        self._timer = self.screen.set_interval(SECONDS, self.sample, pause=True)

    def shown(self) -> None:
        """The screen's tab or the screen itself changed: read while the tab shows."""
        if self._timer is None:
            return
        if self.screen.is_current and self.screen.tab == self.tab:
            self._timer.resume()
            self.screen.call_later(self.sample)
        else:
            self._timer.pause()

    def hidden(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    def history(self, host: str, kind: str, uuid: str) -> list:
        """An object's figures over 10 min, 2 h and a week (services.metrics.history),
        read through this screen's connection; call in a thread."""
        fetch = self.metrics.fetch if self.metrics is not None else http_fetch(self.screen.conn)
        return history(fetch, host, kind, uuid)

    @property
    def glyphs(self) -> str:
        return glyphs_for(self.screen.app.linux_console, ascii_terminal())

    async def sample(self) -> None:
        """One read of every host (in a thread), then the tab redrawn."""
        screen, conn = self.screen, self.screen.conn
        if self._busy or conn is None or conn.state != "connected" or screen.tab != self.tab:
            return
        if self.metrics is None or self._conn is not conn:
            self.metrics, self._conn = Metrics(http_fetch(conn)), conn
        self._busy = True
        try:
            await asyncio.to_thread(self.metrics.refresh, conn.cache)
        except Exception as exc:  # a bug must not take the screen down: said, in words
            screen.app.notify(
                f"The performance figures could not be read ({exc}).", severity="error"
            )
        finally:
            self._busy = False
        self.draw()


def rate_range(low: float, high: float) -> str:
    """A line's scale, from its lowest to its highest rate, in the unit of
    the highest: "40-47 MiB/s", "1.2-1.4 KiB/s", "3 MiB/s steady"."""
    unit, factor = "B", 1.0
    for name in ("KiB", "MiB", "GiB", "TiB"):
        if high < factor * 1024:
            break
        unit, factor = name, factor * 1024

    def number(v: float) -> str:
        v /= factor
        return f"{v:.1f}" if v < 10 and unit != "B" else f"{v:.0f}"

    if number(low) == number(high):
        return f"{number(high)} {unit}/s steady"
    return f"{number(low)}-{number(high)} {unit}/s"


def graphs_text(spans: list, glyphs: str) -> str:
    """Per figure, its value now and a sparkline per span (oldest left).
    CPU and memory are drawn from nothing to all there is; network and disk,
    which have no such top, each line from its own lowest to its highest,
    said after it (from nothing, steady traffic was a solid block)."""
    lines = []
    latest = spans[0][1] if spans else None
    for key, name, shown, scale in (
        ("cpu", "CPU", cpu_text, "0-100%"),
        (
            "memory",
            "Memory used",
            lambda v: "-" if v is None else size(v),
            f"0-{size(latest.memory_total)}" if latest and latest.memory_total else "0-all",
        ),
        ("net", "Network", lambda v: "-" if v is None else f"{size(v)}/s", RANGE),
        ("disk", "Disk", lambda v: "-" if v is None else f"{size(v)}/s", RANGE),
    ):
        now = getattr(latest, key) if latest is not None else None
        lines.append(f"{name}, now {shown(now)} ({scale})")
        top = 1.0 if key == "cpu" else (latest.memory_total if key == "memory" and latest else None)
        for label, figures in spans:
            series = figures.history.get(key, [])
            known = [v for v in series if not math.isnan(v)]
            if scale == RANGE and known:
                low, high = min(known), max(known)
                spark = sparkline(series, GRAPH, top=high, bottom=low, glyphs=glyphs)
                lines.append(f"  {label:<7} {spark} {rate_range(low, high)}")
            else:
                spark = sparkline(series, GRAPH, top=top, glyphs=glyphs)
                lines.append(f"  {label:<7} {spark}")
    return "\n".join(lines)


async def show_graphs(turn, where: str, glyphs: str) -> None:
    """What an Act read (``turn.data``: the spans) in a dialog to read, closed with Enter or Esc."""
    await turn.app.push_screen_wait(
        ChoiceModal(
            f"{where}: the last 10 minutes, 2 hours and week",
            graphs_text(turn.data, glyphs),
            [("close", "Close")],
            warning=False,
        )
    )


def graphs_act(action: str, kind: str, subject, missing: str, where, sampling, **rest) -> Act:
    """The Act (Enter) that shows the graphs of the host or VM under the cursor
    (a Load or Top tab): ``where(turn)`` gives the host whose RRDs hold it and the
    dialog's title, ``sampling(screen)`` the screen's :class:`Sampling`."""
    noun = "host" if kind == "host" else "VM"

    def read(turn) -> list:
        host = where(turn)[0]
        return sampling(turn.screen).history(host, kind, turn.cache.get(kind, turn.subject).uuid)

    async def steps(turn) -> None:
        await show_graphs(turn, where(turn)[1], sampling(turn.screen).glyphs)

    return Act(
        "enter",
        action,
        "Graphs",
        show=False,  # the footer would draw Enter as a glyph the PC console lacks: the head says it
        help=f"The {noun} under the cursor over 10 minutes, 2 hours and a week",
        subject=subject,
        missing=missing,
        read=read,
        reading=f"Reading the {noun}'s history...",
        steps=steps,
        **rest,
    )


def alarms_act(key: str, action: str, kind: str, cls, subject, missing: str, **rest) -> Act:
    """The Act that sets perfmon's alarms of the host, VM or SR under the cursor
    (a Load or Top tab, the SR list): what it watches now is read from its
    other_config at once."""
    getter = {"host": "host", "vm": "VM", "sr": "SR"}[kind] + ".get_other_config"

    def read(turn) -> perfmon.Config:
        return perfmon.read(turn.conn.call(getter, turn.subject).get(perfmon.KEY, ""))

    return Act(
        key,
        action,
        "Alarms",
        builds=(cls,),
        subject=subject,
        missing=missing,
        read=read,
        title=lambda t: perfmon.form_title(t.cache.label(kind, t.subject), t.data),
        fields=lambda t: cls.fields(t.data),
        build=lambda t: cls(
            t.subject,
            t.cache.get(kind, t.subject).uuid,
            t.cache.label(kind, t.subject),
            t.data,
            t.values,
        ),
        **rest,
    )
