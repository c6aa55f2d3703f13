"""The HA screen: HA's state and plan (XAPI's own numbers), each host's view
of the heartbeat, and the VMs it protects, edited in bulk with the plan
shown before anything is committed."""

from __future__ import annotations

import asyncio

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from xstui.services import ha
from xstui.services.ha.model import SORTS
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.flow import ask, connected, perform
from xstui.widgets.notice import notify_error
from xstui.widgets.rowlist import RowList

from .base import AreaScreen, requires

COLUMNS = (
    ("VM", 20),
    ("Priority", 11),
    ("Order", 5),
    ("Delay", 5),
    ("Host", 8),
    ("Power", 9),
    ("Memory", 8),
)


class HaScreen(AreaScreen):
    BINDINGS = [
        Binding("e", "enable", "Enable", id="ha.enable"),
        Binding("d", "disable", "Disable", id="ha.disable"),
        Binding("f", "tolerate", "Failures", id="ha.tolerate"),
        Binding("p", "protect", "Protect", id="ha.protect"),
        Binding("A", "mark_all", "Select all", id="ha.mark_all", show=False),
        Binding("r", "read_plan", "Read plan", id="ha.read_plan", show=False),
        Binding("o", "sort", "Sort", id="ha.sort", show=False),
    ]
    DEFAULT_CSS = """
    HaScreen #ha-panel { height: auto; padding: 0 1; }
    """
    DRAWN_FROM = frozenset({"pool", "host", "host_metrics", "vm"})

    def __init__(self, area) -> None:
        super().__init__(area)
        self.status: ha.HaStatus | None = None
        self.plan_read: tuple[int | None, list[str]] = (None, [])
        self.sort = SORTS[0]

    def compose_body(self) -> ComposeResult:
        yield Static("", id="ha-panel")
        yield RowList(COLUMNS, id="ha-vms")

    def on_mount(self) -> None:
        super().on_mount()  # draws everything, the plan read included
        self.query_one(RowList).focus()

    # data -------------------------------------------------------------------
    def refresh_view(self, classes=None) -> None:
        conn = self.conn
        if not self.drawable(classes):
            return
        if classes is None or "pool" in classes:
            # XAPI's numbers follow the pool record (it re-plans into it); host
            # metrics change every few seconds and would re-read without cause
            self.action_read_plan()
        self.status = ha.ha_status(conn.cache)
        self.status.computed_max, self.status.heartbeat_srs = self.plan_read
        self._draw_panel()
        self.query_one(RowList).set_rows(
            [
                (
                    r.ref,
                    (
                        r.name,
                        r.priority or "-",
                        str(r.order),
                        str(r.start_delay),
                        r.host,
                        r.power,
                        r.memory,
                    ),
                )
                for r in ha.protection_rows(conn.cache, self.sort)
            ]
        )

    def _draw_panel(self) -> None:
        st = self.status
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column()
        most = "?" if st.computed_max is None else str(st.computed_max)
        why = self.conn.access.refusal([ha.PLAN_CALL]) if st.computed_max is None else ""
        if st.enabled:
            grid.add_row(
                "HA",
                Text(
                    f"enabled, timeout {st.timeout} s, heartbeat on "
                    f"{', '.join(st.heartbeat_srs) or '(reading)'}"
                ),
            )
            state = "OVERCOMMITTED" if st.overcommitted else "ok"
            grid.add_row(
                "Plan",
                Text(
                    f"tolerates {st.tolerate} failure(s); plan exists for {st.plan_for}; "
                    f"most possible now {most}; {state}",
                    style="bold" if st.overcommitted or st.plan_for < st.tolerate else "",
                ),
            )
        else:
            could = (
                f"how many host failures it could tolerate is XAPI's to compute, which {why}"
                if why
                else f"the pool could tolerate {most} host failure(s) now"
            )
            grid.add_row("HA", Text(f"disabled; {could}"))
        grid.add_row(
            "Hosts",
            Text(
                "  ".join(
                    f"{h.name} {'live' if h.live else 'DEAD/fenced'}"
                    + (
                        f", statefile {'ok' if h.statefile else 'LOST'}"
                        if st.enabled and h.live
                        else ""
                    )
                    for h in st.hosts
                )
            ),
        )
        marked = len(self.query_one(RowList).marked)
        grid.add_row(
            "VMs",
            Text(
                (f"{marked} selected - " if marked else "")
                + f"space selects, p sets their protection; o sorts (by {self.sort})"
            ),
        )
        self.query_one("#ha-panel", Static).update(grid)

    def on_row_list_marked(self) -> None:
        if self.status is not None:
            self._draw_panel()

    @work(thread=True, exclusive=True, exit_on_error=False, group="ha-plan", description="HA plan")
    def action_read_plan(self) -> None:
        conn = self.conn
        if conn is None or conn.state != "connected" or not conn.access.may(ha.PLAN_CALL):
            return
        computed, srs = ha.read_plan(conn, ha.ha_status(conn.cache).statefiles)
        self.app.call_from_thread(self._got_plan, computed, srs)

    def _got_plan(self, computed: int, srs: list[str]) -> None:
        if (computed, srs) != self.plan_read:
            self.plan_read = (computed, srs)
            self.refresh_view(frozenset({"vm"}))  # redraw without reading again

    # actions ----------------------------------------------------------------
    async def _computed_max(self) -> int | None:
        try:
            return int(
                await asyncio.to_thread(
                    self.conn.call, "pool.ha_compute_max_host_failures_to_tolerate"
                )
            )
        except Exception as exc:  # said in words; nothing changed
            notify_error(self.app, exc)
            return None

    async def _done(self, action) -> None:
        if await perform(self.app, action):
            self.query_one(RowList).unmark()

    @requires(ha.EnableHa)
    @work(exit_on_error=False, group="action", description="enable HA")
    async def action_enable(self) -> None:
        cache = self.conn.cache
        if not connected(self.app):
            return
        if self.status is not None and self.status.enabled:
            self.app.notify("HA is already enabled.", severity="warning")
            return
        srs, not_offered = ha.heartbeat_candidates(cache)
        why = "\n".join(f"  {line}" for line in not_offered) or "  (none)"
        go = await self.app.push_screen_wait(
            ChoiceModal(
                "Enable HA: the heartbeat SR",
                "HA keeps its statefile on a shared SR that every host reaches. "
                f"Offered: {', '.join(srs) or 'none'}.\nNot offered:\n{why}",
                [("go", "Continue"), ("cancel", "Cancel")],
            )
        )
        if go != "go" or not srs:
            if go == "go":
                self.app.notify("No SR can hold the HA statefile.", severity="error")
            return
        most = await self._computed_max()
        if most is None:
            return
        action = await ask(
            self.app,
            "Enable HA",
            ha.EnableHa.fields(cache, most),
            lambda v: ha.EnableHa(cache, v["sr"], v["timeout"], v["tolerate"], most),
            precheck=True,
        )
        if action is not None:
            await self._done(action)

    @requires(ha.DisableHa)
    @work(exit_on_error=False, group="action", description="disable HA")
    async def action_disable(self) -> None:
        action = await ask(self.app, "", [], lambda _: ha.DisableHa(self.conn.cache))
        if action is not None:
            await self._done(action)

    @requires(ha.SetTolerate)
    @work(exit_on_error=False, group="action", description="failures to tolerate")
    async def action_tolerate(self) -> None:
        cache = self.conn.cache
        if not connected(self.app):
            return
        most = await self._computed_max()
        if most is None:
            return
        action = await ask(
            self.app,
            "Host failures HA must tolerate",
            ha.SetTolerate.fields(cache, most),
            lambda v: ha.SetTolerate(cache, v["tolerate"], most),
        )
        if action is not None:
            await self._done(action)

    @requires(ha.SetProtection)
    @work(exit_on_error=False, group="action", description="VM protection")
    async def action_protect(self) -> None:
        cache = self.conn.cache
        chosen = self.query_one(RowList).chosen()
        if not chosen or not connected(self.app):
            return
        action = await ask(
            self.app,
            f"Protection of {len(chosen)} VM(s)",
            ha.SetProtection.fields(),
            lambda v: ha.SetProtection(cache, chosen, v["priority"], v["order"], v["delay"]),
            precheck=True,
        )
        if action is not None:
            await self._done(action)

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.refresh_view(frozenset({"vm"}))

    def action_mark_all(self) -> None:
        listing = self.query_one(RowList)
        listing.mark_all([key for key, _ in listing.rows])
