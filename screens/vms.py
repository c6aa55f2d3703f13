"""The VMs screen: every VM of the pool, filtered as the admin types (name,
host, address, power state, HA priority), marked with space for bulk power
operations and migration; a VM's memory."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from xstui.services import vms
from xstui.services.fields import Field
from xstui.widgets.flow import ask, connected, perform
from xstui.widgets.rowlist import RowList
from xstui.xapi import operations

from .base import AreaScreen, requires

COLUMNS = (
    ("VM", 19),
    ("Power", 9),
    ("Host", 8),
    ("Memory", 8),
    ("vCPU", 4),
    ("IP", 12),
    ("HA", 11),
)


class VmsScreen(AreaScreen):
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="vms.filter"),
        Binding("p", "power", "Power", id="vms.power"),
        Binding("g", "migrate", "Migrate", id="vms.migrate"),
        Binding("M", "memory", "Memory", id="vms.memory"),
        Binding("A", "mark_all", "Select all", id="vms.mark_all", show=False),
        Binding("escape", "leave_filter", "List", show=False),
    ]
    DEFAULT_CSS = """
    VmsScreen #vm-filter { height: 1; border: none; padding: 0 1; }
    VmsScreen #vm-count { height: 1; padding: 0 1; }
    """
    DRAWN_FROM = frozenset({"vm", "vm_guest_metrics", "host"})

    def __init__(self, area) -> None:
        super().__init__(area)
        self.all_rows: dict[str, vms.VmRow] = {}
        self.shown: list[vms.VmRow] = []

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="/ to filter: name, host, IP, state, HA", id="vm-filter")
        yield Static("", id="vm-count")
        yield RowList(COLUMNS, id="vm-list")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(RowList).focus()

    # data -------------------------------------------------------------------
    def refresh_view(self, classes=None) -> None:
        if not self.drawable(classes):
            return
        self.all_rows = vms.vm_rows(self.conn.cache)
        self._show()

    def _show(self) -> None:
        text = self.query_one("#vm-filter", Input).value
        self.shown = vms.filtered(self.all_rows.values(), text)
        listing = self.query_one(RowList)
        listing.set_rows(
            [
                (r.ref, (r.name, r.power, r.host, r.memory, str(r.vcpus), r.ip, r.ha))
                for r in self.shown
            ]
        )
        self._draw_count()

    def _draw_count(self) -> None:
        marked = len(self.query_one(RowList).marked)
        self.query_one("#vm-count", Static).update(
            Text(
                f"{len(self.shown)} of {len(self.all_rows)} VMs"
                + (f", {marked} selected (space)" if marked else " - space selects, A all shown")
            )
        )

    @on(Input.Changed, "#vm-filter")
    def _filter_changed(self) -> None:
        self._show()

    @on(Input.Submitted, "#vm-filter")
    def _filter_done(self) -> None:
        self.query_one(RowList).focus()

    def action_filter(self) -> None:
        self.query_one("#vm-filter", Input).focus()

    def action_leave_filter(self) -> None:
        """Esc: the filter is cleared and the whole list shown again."""
        self.query_one("#vm-filter", Input).value = ""
        self.query_one(RowList).focus()

    def action_mark_all(self) -> None:
        self.query_one(RowList).mark_all([r.ref for r in self.shown])

    def on_row_list_marked(self) -> None:
        self._draw_count()

    # actions ----------------------------------------------------------------
    def _named(self, chosen: list[str]) -> str:
        """The chosen VMs as a dialog's title names them."""
        cache = self.conn.cache
        return cache.label("vm", chosen[0]) if len(chosen) == 1 else f"{len(chosen)} VMs"

    def _chosen(self) -> list[str]:
        chosen = self.query_one(RowList).chosen()
        if not chosen:
            self.app.notify("No VM here: change the filter.", severity="warning")
        return chosen

    @requires(vms.PowerVms)
    @work(exit_on_error=False, group="action", description="VM power")
    async def action_power(self) -> None:
        chosen, cache = self._chosen(), self.conn.cache
        if not chosen or not connected(self.app):
            return
        with cache.lock:
            offered = vms.PowerVms.offered(cache, chosen)
            states = {cache.get("vm", v).power_state for v in chosen if cache.get("vm", v)}
            why = operations.refusal(cache, "vm", chosen[0], "hard_shutdown")
        if not offered:
            self.app.notify(
                f"No power operation is possible now: {why}."
                if len(chosen) == 1 and why
                else "No power operation fits every selected VM ("
                + ", ".join(sorted(states)).lower()
                + "): select VMs in the same state.",
                severity="warning",
            )
            return
        with cache.lock:
            hosts = vms.PowerVms.hosts(cache)
        by_label = dict(hosts)
        fields = [Field("op", "Operation", offered[0], choices=offered)]
        if set(offered) & set(vms.PLACED):
            fields.append(
                Field("host", "On host (start, resume)", vms.ANY_HOST, choices=list(by_label))
            )
        action = await ask(
            self.app,
            f"Power operation on {self._named(chosen)}",
            fields,
            lambda values: vms.PowerVms(
                cache, chosen, values["op"], by_label.get(values.get("host", ""), "")
            ),
        )
        if action is not None and await perform(self.app, action):
            self.query_one(RowList).unmark()

    def targets(self, cls: str) -> list[str]:
        return self.query_one(RowList).chosen() if cls == "vm" else []

    @requires(vms.MigrateVms, operation=("vm", "pool_migrate"))
    @work(exit_on_error=False, group="action", description="migrate VMs")
    async def action_migrate(self) -> None:
        chosen, cache = self._chosen(), self.conn.cache
        if not chosen or not connected(self.app):
            return
        with cache.lock:
            targets = vms.MigrateVms.targets(cache, chosen)
        if not targets:
            self.app.notify("No host is live and enabled to take them.", severity="warning")
            return
        labels = dict(targets)
        action = await ask(
            self.app,
            f"Migrate {self._named(chosen)} within the pool",
            [Field("host", "To host", targets[0][0], choices=[label for label, _ in targets])],
            lambda values: vms.MigrateVms(cache, chosen, labels.get(values["host"], "")),
            precheck=True,  # XAPI's own placement check, before anything moves
        )
        if action is not None and await perform(self.app, action):
            self.query_one(RowList).unmark()

    @requires(vms.SetMemory)
    @work(exit_on_error=False, group="action", description="VM memory")
    async def action_memory(self) -> None:
        key = self.query_one(RowList).cursor_key
        cache = self.conn.cache
        if key is None or not connected(self.app):
            return
        action = await ask(
            self.app,
            f"Memory of {cache.label('vm', key)}",
            vms.SetMemory.fields(cache, key),
            lambda values: vms.SetMemory(cache, key, values),
        )
        if action is not None:
            await perform(self.app, action)
