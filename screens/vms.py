"""The VMs screen. VMs tab: every VM of the pool, filtered as the admin
types (name, host, address, power state, HA priority), marked with space for
bulk power operations and migration; a VM's memory. Snapshots tab: the
snapshots of the VM under the cursor as a tree, with where it is now; take,
revert, delete, make a template of one, export one to an XVA file. Top tab
(T): the running VMs busiest first by CPU, memory, disk or network (o), with
their host and the last 10 minutes as a sparkline, from XAPI's RRDs: one
rrd_updates per host every 5 seconds, only while the tab is shown."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Static

from xstui.services import vms
from xstui.services.fields import Field
from xstui.services.metrics import SORTS, perfmon
from xstui.services.metrics.model import cpu_text
from xstui.services.values import MEM_MAX, MEM_USED, size
from xstui.widgets.rowlist import RowList
from xstui.widgets.sparkline import sparkline
from xstui.widgets.tabbed import TabbedPanes, TabPane
from xstui.widgets.textfield import TextField
from xstui.xapi import operations

from .act import Act
from .base import AreaScreen, tab_keys
from .sampling import SPARK, Sampling, alarms_act, graphs_act

SORT_NAMES = {"cpu": "CPU", "memory": "memory", "disk": "disk", "net": "network"}
SNAPSHOT_COLUMNS = (("Snapshot", 38), ("Taken", 16), ("Size", 9), ("Kind", 10))
COLUMNS = (
    ("VM", 18),
    ("Power", 9),
    ("Host", 8),
    (MEM_MAX, 8),
    ("vCPU", 4),
    ("IP", 12),
    ("HA", 11),
)


def _chosen(turn) -> list[str] | None:
    """The marked VMs, or the one under the cursor; None (said) when the
    filter shows none."""
    chosen = turn.screen.query_one("#vm-list", RowList).chosen()
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
    turn.screen.query_one("#vm-list", RowList).unmark()


def _cursor_vm(turn) -> str | None:
    return turn.screen.query_one("#vm-list", RowList).cursor_key


def _focus_filter(screen) -> None:
    screen.query_one("#vm-filter", Input).focus()


def _leave_filter(screen) -> None:
    """Esc: the filter is cleared and the whole list shown again."""
    screen.query_one("#vm-filter", Input).value = ""
    screen.query_one("#vm-list", RowList).focus()


def _mark_all(screen) -> None:
    screen.query_one("#vm-list", RowList).mark_all([r.ref for r in screen.shown])


# the Snapshots tab -----------------------------------------------------------------------
NO_VM = "No VM: choose one in the VM list, then n."
NO_SNAPSHOT = "No snapshot under the cursor (it is on now): choose one."


def _vm_shown(turn) -> str | None:
    """The VM whose snapshots the tab shows, at first the one under the list's
    cursor (None: gone, or none chosen)."""
    screen = turn.screen
    vm = screen.snap_vm or screen.query_one("#vm-list", RowList).cursor_key or ""
    return vm if turn.cache.get("vm", vm) is not None else None


def _snapshot(turn) -> str | None:
    """The snapshot under the tab's cursor (None on the row that says now)."""
    key = turn.screen.query_one("#snap-list", RowList).cursor_key
    rec = turn.cache.get("vm", key) if key else None
    return key if rec is not None and rec.is_a_snapshot else None


def _on_snapshot(key, name, label, action, operation, asks=(), **kw) -> Act:
    """An act on the snapshot under the Snapshots tab's cursor: the VM
    operation it needs (dimmed where no snapshot allows it), and its form's
    values (``asks``, in the order the action takes them) after the snapshot."""
    return Act(
        key,
        name,
        label,
        tab="snapshots",
        builds=(action,),
        operation=("vm", operation),
        subject=_snapshot,
        missing=NO_SNAPSHOT,
        **({"fields": lambda t: action.fields(t.cache, t.subject)} if asks else {}),
        build=lambda t: action(t.cache, t.subject, *(t.values[a] for a in asks)),
        **kw,
    )


def _snapshot_label(turn) -> str:
    return turn.cache.label("vm", turn.subject)


def _show_list(screen) -> None:
    screen.action_show_tab("list")


def _next_sort(screen) -> None:
    screen.top_sort = SORTS[(SORTS.index(screen.top_sort) + 1) % len(SORTS)]
    screen.show_top()


def _top_vm(turn) -> str | None:
    key = turn.screen.query_one("#top-list", RowList).cursor_key
    return key if key and turn.cache.get("vm", key) is not None else None


def _vm_where(turn) -> tuple[str, str]:
    """The host the VM runs on (its RRDs are there) and the graphs' title."""
    vm = turn.cache.get("vm", turn.subject)
    return vm.resident_on, f"{vm.name_label} on {turn.cache.label('host', vm.resident_on, '')}"


def _top_columns(sort: str) -> tuple[tuple[str, int], ...]:
    return (
        ("VM", 15),
        ("Host", 7),
        ("CPU", 4),
        (MEM_USED, 8),
        ("Net/s", 8),
        ("Disk/s", 8),
        (f"{SORT_NAMES[sort]}, 10 min", SPARK),
    )


class _SparkCells(Sequence):
    """A Top row's cells, its sparkline last, made when the row is first drawn:
    a screen shows twenty of thousands of rows, and a sparkline reads the VM's
    ten minutes."""

    def __init__(self, cells: tuple[str, ...], spark: Callable[[], str]) -> None:
        self._cells, self._spark, self._made = cells, spark, None

    def __len__(self) -> int:
        return len(self._cells) + 1

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(len(self))[i]]
        if isinstance(i, int) and i < 0:
            i += len(self)
        if i == len(self._cells):
            if self._made is None:
                self._made = self._spark()
            return self._made
        return self._cells[i]


class VmsScreen(AreaScreen):
    AREA = "vms"
    BINDINGS = [
        *tab_keys(
            "vms", ("v", "list", "VMs"), ("n", "snapshots", "Snapshots"), ("T", "top", "Top")
        ),
    ]
    ACTS = (
        Act(
            "slash",
            "filter",
            "Filter",
            tab="list",
            help="Filter by name, host, IP, state, HA",
            view=_focus_filter,
        ),
        Act(
            "p",
            "power",
            "Power",
            tab="list",
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
            tab="list",
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
            tab="list",
            help="The memory of the VM under the cursor",
            builds=(vms.SetMemory,),
            subject=_cursor_vm,
            title=lambda t: f"Memory of {t.cache.label('vm', t.subject)}",
            fields=lambda t: vms.SetMemory.fields(t.cache, t.subject),
            build=lambda t: vms.SetMemory(t.cache, t.subject, t.values),
        ),
        Act(
            "X",
            "delete_vm",
            "Delete VM",
            show=False,  # a rare, final act: in the palette, its key in the README
            tab="list",
            help="Delete the halted VM under the cursor with the disks only it uses",
            builds=(vms.DeleteVm,),
            operation=("vm", "destroy"),
            subject=_cursor_vm,
            missing="No VM under the cursor.",
            build=lambda t: vms.DeleteVm(t.cache, t.subject),
        ),
        Act(
            "A",
            "mark_all",
            "Select all",
            show=False,
            tab="list",
            help="Select every VM shown",
            view=_mark_all,
        ),
        Act(
            "escape",
            "leave_filter",
            "List",
            show=False,
            tab="list",
            help="Clear the filter and show every VM",
            view=_leave_filter,
        ),
        Act(
            "s",
            "take_snapshot",
            "Snapshot",
            tab="snapshots",
            help="Take a snapshot of the VM (of a running one, its memory too if asked)",
            builds=(vms.TakeSnapshot,),
            subject=_vm_shown,
            missing=NO_VM,
            title=lambda t: f"Take a snapshot of {t.cache.label('vm', t.subject)}",
            fields=lambda t: vms.TakeSnapshot.fields(t.cache, t.subject),
            build=lambda t: vms.TakeSnapshot(
                t.cache, t.subject, t.values["name"], t.values.get("keep", "")
            ),
        ),
        _on_snapshot(
            "r",
            "revert",
            "Revert",
            vms.RevertToSnapshot,
            "revert",
            ("first",),
            help="Take the VM back to the snapshot under the cursor (keep its state first?)",
            title=lambda t: f"Revert to {_snapshot_label(t)}",
        ),
        _on_snapshot(
            "x",
            "delete_snapshot",
            "Delete",
            vms.DeleteSnapshot,
            "destroy",
            help="Delete the snapshot under the cursor with its disks",
        ),
        _on_snapshot(
            "t",
            "to_template",
            "Template",
            vms.SnapshotToTemplate,
            "clone",
            ("name", "disks"),
            help="Make a template of the snapshot under the cursor (fast clone or full copy)",
            title=lambda t: f"A template from {_snapshot_label(t)}",
        ),
        _on_snapshot(
            "e",
            "export_snapshot",
            "Export",
            vms.ExportSnapshot,
            "export",
            ("path",),
            help="Export the snapshot under the cursor to an XVA file (it imports as a template)",
            title=lambda t: f"Export {_snapshot_label(t)} to an XVA file",
        ),
        Act(
            "escape",
            "back",
            "VM list",
            show=False,  # v, with the other tabs' keys, in the footer
            tab="snapshots",
            help="Back to the list of VMs from the snapshots",
            view=_show_list,
        ),
        Act(
            "o",
            "top_sort",
            "Sort",
            tab="top",
            help="Order the running VMs by CPU, memory, disk or network in turn",
            view=_next_sort,
        ),
        graphs_act(
            "graphs",
            "vm",
            _top_vm,
            "No running VM under the cursor.",
            _vm_where,
            lambda screen: screen.top,
            tab="top",
        ),
        alarms_act(
            "a",
            "alarms",
            "vm",
            perfmon.SetVmAlarms,
            _top_vm,
            "No running VM under the cursor.",
            tab="top",
            help="CPU, network and disk alarms of the VM under the cursor (perfmon)",
        ),
        Act(
            "escape",
            "top_back",
            "VM list",
            show=False,  # v, with the other tabs' keys, in the footer
            tab="top",
            help="Back to the list of VMs from the busiest",
            view=_show_list,
        ),
    )
    DEFAULT_CSS = """
    VmsScreen #vm-filter { height: 1; border: none; padding: 0 1; }
    VmsScreen #vm-count, VmsScreen #snap-head, VmsScreen #snap-detail { height: 1; padding: 0 1; }
    VmsScreen #top-head, VmsScreen #top-detail { height: 1; padding: 0 1; }
    """
    DRAWN_FROM = frozenset({"vm", "vm_guest_metrics", "host", "vbd", "vdi"})

    def __init__(self, area) -> None:
        super().__init__(area)
        self.all_rows: dict[str, vms.VmRow] = {}
        self.shown: list[vms.VmRow] = []
        self.snap_vm = ""  # the VM whose snapshots the Snapshots tab shows
        self.snap_rows: list[vms.SnapshotRow] = []
        self.top_sort = "cpu"
        self.top_rows: dict = {}  # ref -> the Top tab's row (xstui.services.metrics.Row)
        self.top = Sampling(self, "top", self.show_top)

    def compose_body(self) -> ComposeResult:
        with TabbedPanes(id="vm-tabs", initial="list"):
            with TabPane("VMs", id="list"):
                yield TextField(
                    placeholder="/ to filter: name, host, IP, state, HA", id="vm-filter"
                )
                yield Static("", id="vm-count")
                yield RowList(COLUMNS, id="vm-list")
            with TabPane("Snapshots", id="snapshots"):
                yield Static("", id="snap-head")
                yield RowList(SNAPSHOT_COLUMNS, id="snap-list", markable=False)
                yield Static("", id="snap-detail")
            with TabPane("Top", id="top"):
                yield Static("", id="top-head")
                yield RowList(_top_columns(self.top_sort), id="top-list", markable=False)
                yield Static("", id="top-detail")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#vm-list", RowList).focus()
        self.top.mount()

    def on_screen_suspend(self) -> None:
        self.top.hidden()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.top.shown()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedPanes).active = tab

    @on(TabbedPanes.TabActivated, "#vm-tabs")
    def _tab_shown(self, event: TabbedPanes.TabActivated) -> None:
        self.top.shown()
        if self.tab == "top":
            self.show_top()
            self.query_one("#top-list", RowList).focus()
        elif self.tab == "snapshots":  # the VM under the list's cursor
            self.snap_vm = self.query_one("#vm-list", RowList).cursor_key or ""
            self._show_snapshots()
            self.query_one("#snap-list", RowList).focus()
        else:
            self.query_one("#vm-list", RowList).focus()

    # the Top tab ------------------------------------------------------------------------
    def show_top(self) -> None:
        listing = self.query_one("#top-list", RowList)
        listing.columns = list(_top_columns(self.top_sort))
        head = Text()
        head.append(f"Busiest by {SORT_NAMES[self.top_sort]}", style="bold")
        metrics = self.top.metrics
        if metrics is None:
            head.append(": reading the hosts' performance data...")
            self.query_one("#top-head", Static).update(head)
            return
        rows = metrics.vms(self.conn.cache, self.top_sort)
        words = self.query_one("#vm-filter", Input).value.strip()
        if words:  # the VM list's filter applies here too
            shown = {r.ref for r in self.shown}
            rows = [r for r in rows if r.ref in shown]
            head.append(f" (filter: {words})")
        # "running" as every area counts it (views.running_vms): paused ones apart
        cache = self.conn.cache
        paused = sum(
            1 for r in rows if getattr(cache.get("vm", r.ref), "power_state", "") == "Paused"
        )
        head.append(f", {len(rows) - paused} running" + (f", {paused} paused" if paused else ""))
        head.append("; o sorts, Enter graphs")
        self.query_one("#top-head", Static).update(head)
        glyphs = self.top.glyphs
        top = 1.0 if self.top_sort == "cpu" else None
        self.top_rows = {r.ref: r for r in rows}
        cells = []
        for r in rows:
            f = r.figures
            if r.reason:
                cells.append((r.ref, (r.name, r.host, "-", "-", "-", "-", "no data")))
                continue
            cells.append(
                (
                    r.ref,
                    _SparkCells(
                        (
                            r.name,
                            r.host,
                            cpu_text(f.cpu),
                            "-" if f.memory is None else size(f.memory),
                            "-" if f.net is None else size(f.net),
                            "-" if f.disk is None else size(f.disk),
                        ),
                        lambda f=f: sparkline(
                            f.history.get(self.top_sort, []), SPARK, top=top, glyphs=glyphs
                        ),
                    ),
                )
            )
        listing.set_rows(cells)
        self._draw_top_detail()

    @on(RowList.Moved, "#top-list")
    def _draw_top_detail(self) -> None:
        key = self.query_one("#top-list", RowList).cursor_key
        row = self.top_rows.get(key or "")
        if row is None:
            words = "No running VM to show." if self.top.metrics is not None else ""
        elif row.reason:
            words = f"{row.name} on {row.host}: no data, {row.reason}"
        else:
            f = row.figures
            words = (
                f"{row.name} on {row.host}: CPU {cpu_text(f.cpu)}, memory "
                f"{size(f.memory or 0)}, net {size(f.net or 0)}/s, disk {size(f.disk or 0)}/s"
            )
        self.query_one("#top-detail", Static).update(Text(words))

    # data -------------------------------------------------------------------
    def refresh_view(self, classes=None) -> None:
        if not self.drawable(classes):
            return
        self.all_rows = vms.vm_rows(self.conn.cache)
        self._show()
        self._show_snapshots()

    def _show(self) -> None:
        text = self.query_one("#vm-filter", Input).value
        self.shown = vms.filtered(self.all_rows.values(), text)
        listing = self.query_one("#vm-list", RowList)
        listing.set_rows(
            [
                (r.ref, (r.name, r.power, r.host, r.memory, str(r.vcpus), r.ip, r.ha))
                for r in self.shown
            ]
        )
        self._draw_count()

    def _show_snapshots(self) -> None:
        cache = self.conn.cache
        vm = cache.get("vm", self.snap_vm) if self.snap_vm else None
        head = Text()
        if vm is None:
            self.snap_rows = []
            head.append("No VM chosen: choose one in the VM list (Esc), then n.")
        else:
            self.snap_rows = vms.snapshot_rows(cache, self.snap_vm)
            count = len(self.snap_rows) - 1
            head.append("Snapshots of ", style="bold")
            head.append(vm.name_label, style="bold")
            head.append(f" ({vm.power_state.lower()}): {count}")
        self.query_one("#snap-head", Static).update(head)
        self.query_one("#snap-list", RowList).set_rows(
            [(r.ref, (r.name, r.taken, r.size, r.kind)) for r in self.snap_rows]
        )
        self._draw_snapshot()

    @on(RowList.Moved, "#snap-list")
    def _draw_snapshot(self) -> None:
        key = self.query_one("#snap-list", RowList).cursor_key
        row = next((r for r in self.snap_rows if r.ref == key), None)
        rec = self.conn.cache.get("vm", key) if key else None
        if row is None or rec is None:
            words = ""
        elif row.now:
            words = "Where the VM is now: a snapshot taken now (s) goes here."
        else:
            words = f"{rec.uuid}  {rec.name_description}".rstrip()
        self.query_one("#snap-detail", Static).update(Text(words))

    def _draw_count(self) -> None:
        marked = len(self.query_one("#vm-list", RowList).marked)
        self.query_one("#vm-count", Static).update(
            Text(
                f"{len(self.shown)} of {len(self.all_rows)} VMs"
                + (f", {marked} selected (space)" if marked else " - space selects, A all shown")
                + "; T busiest"
            )
        )

    @on(Input.Changed, "#vm-filter")
    def _filter_changed(self) -> None:
        self._show()

    @on(Input.Submitted, "#vm-filter")
    def _filter_done(self) -> None:
        self.query_one("#vm-list", RowList).focus()

    def on_row_list_marked(self) -> None:
        self._draw_count()

    def targets(self, cls: str) -> list[str]:
        if cls != "vm":
            return []
        if self.tab == "snapshots":  # the snapshot under the cursor (none on "now")
            key = self.query_one("#snap-list", RowList).cursor_key
            rec = self.conn.cache.get("vm", key) if key else None
            return [key] if rec is not None and rec.is_a_snapshot else []
        return self.query_one("#vm-list", RowList).chosen()
