"""The HA screen: HA's state and plan (XAPI's own numbers), each host's view
of the heartbeat, and the VMs it protects, edited in bulk with the plan
shown before anything is committed."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Static

from xstui.services import ha
from xstui.services.ha.model import SORTS
from xstui.services.values import MEM_MAX, vms_named
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.flow import ask, perform
from xstui.widgets.rowlist import RowList
from xstui.xapi import views

from .act import Act
from .base import AreaScreen

COLUMNS = (
    ("VM", 20),
    ("Priority", 11),
    ("Order", 5),
    ("Delay", 5),
    ("Host", 8),
    ("Power", 9),
    (MEM_MAX, 8),
)


def _most(turn) -> int:
    """How many host failures XAPI computes the pool can tolerate now (a read)."""
    return int(turn.conn.call("pool.ha_compute_max_host_failures_to_tolerate"))


async def _unmark(turn) -> None:
    turn.screen.query_one(RowList).unmark()


async def _enable(turn) -> None:
    """Which SRs can hold the heartbeat and why the others cannot, then the form."""
    app, cache = turn.app, turn.cache
    srs, not_offered = ha.heartbeat_candidates(cache)
    why = "\n".join(f"  {line}" for line in not_offered) or "  (none)"
    go = await app.push_screen_wait(
        ChoiceModal(
            "Enable HA: the heartbeat SR",
            "HA keeps its statefile on a shared SR that every host reaches. "
            f"Offered: {', '.join(srs) or 'none'}.\nNot offered:\n{why}",
            [("go", "Continue"), ("cancel", "Cancel")],
        )
    )
    if go != "go":
        return
    if not srs:
        app.notify("No SR can hold the HA statefile.", severity="error")
        return
    most = turn.data
    turn.action = await ask(
        app,
        "Enable HA",
        ha.EnableHa.fields(cache, most),
        lambda v: ha.EnableHa(cache, v["sr"], v["timeout"], v["tolerate"], most),
        precheck=True,
    )
    if turn.action is not None and await perform(app, turn.action):
        await _unmark(turn)


class HaScreen(AreaScreen):
    AREA = "ha"
    ACTS = (
        Act(
            "e",
            "enable",
            "Enable",
            help="Enable HA: the heartbeat SR, its timeout, the failures to tolerate",
            builds=(ha.EnableHa,),
            operation=("pool", "ha_enable"),
            read=_most,
            steps=_enable,
        ),
        Act(
            "d",
            "disable",
            "Disable",
            help="Disable HA on the pool",
            builds=(ha.DisableHa,),
            operation=("pool", "ha_disable"),
            build=lambda t: ha.DisableHa(t.cache),
            after=_unmark,
        ),
        Act(
            "f",
            "tolerate",
            "Failures",
            help="How many host failures HA must tolerate",
            builds=(ha.SetTolerate,),
            read=_most,
            title="Host failures HA must tolerate",
            fields=lambda t: ha.SetTolerate.fields(t.cache, t.data),
            build=lambda t: ha.SetTolerate(t.cache, t.values["tolerate"], t.data),
            after=_unmark,
        ),
        Act(
            "p",
            "protect",
            "Protect",
            help="Restart priority, order and delay of the selected VMs",
            builds=(ha.SetProtection,),
            subject=lambda t: t.screen.query_one(RowList).chosen() or None,
            missing="No VM chosen: put the cursor on one, or select several with space.",
            title=lambda t: (
                f"Protection of {vms_named([t.cache.label('vm', r) for r in t.subject])}"
            ),
            fields=lambda t: ha.SetProtection.fields(),
            build=lambda t: ha.SetProtection(
                t.cache, t.subject, t.values["priority"], t.values["order"], t.values["delay"]
            ),
            precheck=True,
            after=_unmark,
        ),
        Act("A", "mark_all", "Select all", show=False, view=lambda s: s.mark_all()),
        Act("r", "read_plan", "Read plan", show=False, view=lambda s: s.read_plan(said=True)),
        Act("o", "sort", "Sort", show=False, view=lambda s: s.next_sort()),
    )
    DEFAULT_CSS = """
    HaScreen #ha-panel { height: auto; padding: 0 1; }
    """
    DRAWN_FROM = frozenset({"pool", "host", "host_metrics", "vm", "message"})

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
            self.read_plan()
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
                    f"{views.ha_word(True)}, timeout {st.timeout} s, heartbeat on "
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
            grid.add_row("HA", Text(f"{views.ha_word(False)}; {could}"))
        if st.last_alert:  # what Health and Logs list, said here too
            grid.add_row("Alert", Text(st.last_alert))
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
    def read_plan(self, said: bool = False) -> None:
        """``said``: the key pressed, which says it read, or why not."""
        conn = self.conn
        why = (
            "not connected"
            if conn is None or conn.state != "connected"
            else conn.access.refusal((ha.PLAN_CALL,))
        )
        if why:
            if said:
                self.app.notify(f"Read plan: {why}.", severity="warning", timeout=6)
            return
        computed, srs = ha.read_plan(conn, ha.ha_status(conn.cache).statefiles)
        self.app.call_from_thread(self._got_plan, computed, srs)
        if said:
            self.app.notify("HA plan read again.", timeout=4)

    def _got_plan(self, computed: int, srs: list[str]) -> None:
        if (computed, srs) != self.plan_read:
            self.plan_read = (computed, srs)
            self.refresh_view(frozenset({"vm"}))  # redraw without reading again

    def targets(self, cls: str) -> list[str]:
        pool = views.pool(self.conn.cache) if cls == "pool" else None
        return [pool.ref] if pool is not None else []

    def next_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.refresh_view(frozenset({"vm"}))

    def mark_all(self) -> None:
        listing = self.query_one(RowList)
        listing.mark_all([key for key, _ in listing.rows])
