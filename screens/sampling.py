"""Performance figures on a screen's tab: XAPI's RRDs read (one
rrd_updates per host, in a thread) every 5 seconds while that tab is shown,
never otherwise, and the tab redrawn after each read. A screen makes one
:class:`Sampling` and tells it when its tabs change (``shown``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from xstui.services.metrics import Metrics, http_fetch
from xstui.widgets.ascii import ascii_terminal
from xstui.widgets.sparkline import glyphs_for

SECONDS = 5.0  # the RRDs' finest step: reading faster shows nothing new
SPARK = 19  # cells of a 10-minute sparkline


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
