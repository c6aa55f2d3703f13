"""The VMs screen: every VM of the pool, filtered as the admin types (name,
host, address, power state, HA priority), marked with space for bulk power
operations and migration; a VM's memory."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Static

from xstui.services import vms
from xstui.services.fields import Field
from xstui.widgets.rowlist import RowList
from xstui.xapi import operations

from .act import Act
from .base import AreaScreen

COLUMNS = (
    ("VM", 18),
    ("Power", 9),
    ("Host", 8),
    ("Memory", 8),
    ("vCPU", 4),
    ("IP", 12),
    ("HA", 11),
)


def _chosen(turn) -> list[str] | None:
    """The marked VMs, or the one under the cursor; None (said) when the
    filter shows none."""
    chosen = turn.screen.query_one(RowList).chosen()
    if not chosen:
        turn.app.notify("No VM here: change the filter.", severity="warning")
    return chosen or None


def _named(turn, chosen: list[str]) -> str:
    """The chosen VMs as a dialog's title names them."""
    return turn.cache.label("vm", chosen[0]) if len(chosen) == 1 else f"{len(chosen)} VMs"


def _power_subject(turn) -> tuple[list[str], list[str], dict[str, str]] | None:
    """(VMs, the operations every one allows, host label -> ref); None, said
    in words, when no operation fits them all."""
    chosen, cache = _chosen(turn), turn.cache
    if chosen is None:
        return None
    with cache.lock:
        offered = vms.PowerVms.offered(cache, chosen)
        states = {cache.get("vm", v).power_state for v in chosen if cache.get("vm", v)}
        why = operations.refusal(cache, "vm", chosen[0], "hard_shutdown")
        hosts = dict(vms.PowerVms.hosts(cache))
    if not offered:
        turn.app.notify(
            f"No power operation is possible now: {why}."
            if len(chosen) == 1 and why
            else "No power operation fits every selected VM ("
            + ", ".join(sorted(states)).lower()
            + "): select VMs in the same state.",
            severity="warning",
        )
        return None
    return chosen, offered, hosts


def _power_fields(turn) -> list[Field]:
    _chosen_vms, offered, hosts = turn.subject
    fields = [Field("op", "Operation", offered[0], choices=offered)]
    if set(offered) & set(vms.PLACED):
        fields.append(Field("host", "On host (start, resume)", vms.ANY_HOST, choices=list(hosts)))
    return fields


def _power(turn) -> vms.PowerVms:
    chosen, _offered, hosts = turn.subject
    return vms.PowerVms(
        turn.cache, chosen, turn.values["op"], hosts.get(turn.values.get("host", ""), "")
    )


def _migrate_subject(turn) -> tuple[list[str], dict[str, str]] | None:
    """(VMs, host label -> ref of the hosts that may take them); None, said
    in words, when no host can."""
    chosen, cache = _chosen(turn), turn.cache
    if chosen is None:
        return None
    with cache.lock:
        targets = vms.MigrateVms.targets(cache, chosen)
    if not targets:
        turn.app.notify("No host is live and enabled to take them.", severity="warning")
        return None
    return chosen, dict(targets)


async def _unmark(turn) -> None:
    turn.screen.query_one(RowList).unmark()


def _memory_subject(turn) -> str | None:
    return turn.screen.query_one(RowList).cursor_key


def _focus_filter(screen) -> None:
    screen.query_one("#vm-filter", Input).focus()


def _leave_filter(screen) -> None:
    """Esc: the filter is cleared and the whole list shown again."""
    screen.query_one("#vm-filter", Input).value = ""
    screen.query_one(RowList).focus()


def _mark_all(screen) -> None:
    screen.query_one(RowList).mark_all([r.ref for r in screen.shown])


class VmsScreen(AreaScreen):
    AREA = "vms"
    ACTS = (
        Act(
            "slash",
            "filter",
            "Filter",
            help="Filter by name, host, IP, state, HA",
            view=_focus_filter,
        ),
        Act(
            "p",
            "power",
            "Power",
            help="Start, shut down, reboot, suspend... the chosen VMs",
            builds=(vms.PowerVms,),
            subject=_power_subject,
            title=lambda t: f"Power operation on {_named(t, t.subject[0])}",
            fields=_power_fields,
            build=_power,
            after=_unmark,
        ),
        Act(
            "g",
            "migrate",
            "Migrate",
            help="Live-migrate the chosen VMs to another host of the pool",
            builds=(vms.MigrateVms,),
            operation=("vm", "pool_migrate"),
            subject=_migrate_subject,
            title=lambda t: f"Migrate {_named(t, t.subject[0])} within the pool",
            fields=lambda t: [
                Field("host", "To host", next(iter(t.subject[1])), choices=list(t.subject[1]))
            ],
            build=lambda t: vms.MigrateVms(
                t.cache, t.subject[0], t.subject[1].get(t.values["host"], "")
            ),
            precheck=True,  # XAPI's own placement check, before anything moves
            after=_unmark,
        ),
        Act(
            "M",
            "memory",
            "Memory",
            help="The memory of the VM under the cursor",
            builds=(vms.SetMemory,),
            subject=_memory_subject,
            title=lambda t: f"Memory of {t.cache.label('vm', t.subject)}",
            fields=lambda t: vms.SetMemory.fields(t.cache, t.subject),
            build=lambda t: vms.SetMemory(t.cache, t.subject, t.values),
        ),
        Act(
            "A", "mark_all", "Select all", show=False, help="Select every VM shown", view=_mark_all
        ),
        Act(
            "escape",
            "leave_filter",
            "List",
            show=False,
            help="Clear the filter and show every VM",
            view=_leave_filter,
        ),
    )
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

    def on_row_list_marked(self) -> None:
        self._draw_count()

    def targets(self, cls: str) -> list[str]:
        return self.query_one(RowList).chosen() if cls == "vm" else []
