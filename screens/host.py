"""The Host screen: the pool's hosts, and for the selected one its state,
hardware and software, time and NTP; maintenance mode, reboot and shutdown,
the toolstack, NTP and time zone, SSH and remote syslog."""

from __future__ import annotations

import asyncio
import time

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Static, TabbedContent, TabPane

from xstui import clock
from xstui.services import host as hs
from xstui.services.host.hosts import guests_on
from xstui.services.host.local import (
    OVERWRITE,
    Chrony,
    Disk,
    LocalError,
    LocalSystem,
    ResetNetworking,
    SetKeymap,
    StatusReport,
)
from xstui.services.pool import DesignateMaster, EjectHost, JoinPool, check_join
from xstui.services.values import size
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.flow import ask, connected, perform, read
from xstui.widgets.form import FormModal
from xstui.widgets.modal import Dialog
from xstui.widgets.notice import notify_error
from xstui.widgets.tables import sync_rows
from xstui.xapi import views

from .base import AreaScreen, requires


class PrecheckModal(Dialog):
    """What entering maintenance (or a reboot) does to each VM, before
    anything moves. Dismisses True to go on."""

    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel", id="precheck.cancel")]
    DEFAULT_CSS = "PrecheckModal #precheck-body { height: auto; max-height: 60vh; }"

    def __init__(self, title: str, guests: list[tuple[str, str]], blockers: list[hs.Blocker]):
        super().__init__(classes="-warning" if blockers else "")
        self.title_text, self.guests, self.blockers = title, guests, blockers

    def compose(self) -> ComposeResult:
        blocked = {b.name: b.reason for b in self.blockers}
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column()
        for name, power in self.guests:
            why = blocked.get(name)
            grid.add_row(
                Text(name), Text(f"cannot move: {why}" if why else f"moves live ({power.lower()})")
            )
        with Vertical():
            yield Static(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(id="precheck-body"):
                yield Static(
                    grid if self.guests else Text("No VM runs on this host: nothing moves.")
                )
            summary = (
                f"{len(self.blockers)} VM(s) cannot move: next, choose to shut them down or suspend them."
                if self.blockers
                else "Every VM can move."
            )
            yield Static(summary, classes="dialog-text", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Continue", variant="primary", id="go", compact=True)
                yield Button("Cancel", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#go", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "go")


class HostScreen(AreaScreen):
    BINDINGS = [
        Binding("m", "maintenance", "Maintenance", id="host.maintenance"),
        Binding("x", "exit_maintenance", "Exit maint.", id="host.exit_maintenance"),
        Binding("R", "reboot", "Reboot", id="host.reboot"),
        Binding("S", "shutdown", "Shut down", id="host.shutdown", show=False),
        Binding("T", "toolstack", "Toolstack", id="host.toolstack"),
        Binding("n", "ntp", "NTP", id="host.ntp"),
        Binding("z", "timezone", "Time zone", id="host.timezone", show=False),
        Binding("s", "ssh", "SSH", id="host.ssh"),
        Binding("l", "syslog", "Syslog", id="host.syslog", show=False),
        Binding(
            "e", "network_reset", "Emergency network reset", id="host.network_reset", show=False
        ),
        Binding("t", "show_time", "Time", id="host.time", show=False),
        Binding("D", "designate", "Designate master", id="host.designate", show=False),
        Binding("E", "eject", "Eject from pool", id="host.eject", show=False),
        Binding("J", "join", "Join a pool", id="host.join", show=False),
        Binding("k", "keymap", "Keyboard layout", id="host.keymap", show=False),
        Binding("B", "status_report", "Status report", id="host.status_report", show=False),
    ]
    DEFAULT_CSS = """
    HostScreen #hosts { height: 4; }
    HostScreen #host-tabs { height: 1fr; }
    """

    def __init__(self, area) -> None:
        super().__init__(area)
        self.rows: list[hs.HostRow] = []
        self.time_state: hs.TimeState | None = None
        self.chrony: Chrony | str | None = None  # dom0's chronyd (or why it cannot say)
        self.disks: list[Disk] = []  # dom0's disks
        self.local: LocalSystem | None = None  # set in dom0: this host's own tools

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="hosts", cursor_type="row", zebra_stripes=True)
        with TabbedContent(id="host-tabs", initial="details"):
            with TabPane("Details", id="details"):
                with VerticalScroll():
                    yield Static(id="host-details")
            with TabPane("Time", id="time"):
                with VerticalScroll():
                    yield Static("Press t to read the clocks.", id="host-time")

    def on_mount(self) -> None:
        if self.conn is not None and self.conn.target.kind == "local":
            self.local = LocalSystem()
            self._read_disks()
        table = self.query_one("#hosts", DataTable)
        table.add_columns("Host", "Role")
        table.add_column("State", width=15)  # wide enough for every state
        table.add_columns("Address", "VMs", "Memory free")
        super().on_mount()
        self.query_one("#hosts", DataTable).focus()

    # data -------------------------------------------------------------------
    DRAWN_FROM = frozenset({"host", "host_metrics", "pif", "vm", "pool"})

    @property
    def host(self) -> str:
        """The host under the cursor (the session's host at first)."""
        table = self.query_one("#hosts", DataTable)
        if not self.rows:
            return ""
        return self.rows[min(max(table.cursor_row, 0), len(self.rows) - 1)].ref

    def refresh_view(self, classes=None) -> None:
        conn = self.conn
        if not self.drawable(classes):
            return
        first = not self.rows
        self.rows = hs.host_rows(conn.cache)
        table = self.query_one("#hosts", DataTable)
        sync_rows(
            table,
            [
                (r.ref, (Text(r.name), r.role, r.state, r.address, str(r.vms), r.memory))
                for r in self.rows
            ],
        )
        table.styles.height = min(len(self.rows) + 1, 9)  # header + hosts, scrolls beyond
        if first:
            mine = next((i for i, r in enumerate(self.rows) if r.ref == conn.this_host), 0)
            table.move_cursor(row=mine)
        self._draw_details()

    def _draw_details(self) -> None:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column()
        for label, value in hs.host_facts(self.conn.cache, self.host):
            grid.add_row(label, Text(value))
        if self.local is not None and self.host == self.conn.this_host:
            for disk in self.disks:
                grid.add_row("Disk", Text(f"{disk.name} {size(disk.size)} {disk.model}"))
        self.query_one("#host-details", Static).update(grid)

    @work(thread=True, exit_on_error=False, group="dom0", description="dom0 disks")
    def _read_disks(self) -> None:
        try:
            disks = self.local.disks()
        except LocalError:
            return  # no lsblk: the line is left out
        self.app.call_from_thread(self._got_disks, disks)

    def _got_disks(self, disks) -> None:
        self.disks = disks
        if self.rows:
            self._draw_details()

    @on(DataTable.RowHighlighted, "#hosts")
    def _host_chosen(self, event: DataTable.RowHighlighted) -> None:
        if self.ready:
            self.refresh_bindings()  # the keys follow what this host can do
            self._draw_details()
            self.time_state = None
            if self.query_one(TabbedContent).active == "time":
                self.action_show_time()

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "time":
            self.action_show_time()

    # time -------------------------------------------------------------------
    def action_show_time(self) -> None:
        self.query_one(TabbedContent).active = "time"
        if connected(self.app):
            self._read_time(self.host)

    @work(thread=True, exclusive=True, exit_on_error=False, group="time", description="clocks")
    def _read_time(self, host: str) -> None:
        try:
            state = hs.read_time(self.conn, host)
        except Exception as exc:  # said on screen, in words
            self.app.call_from_thread(notify_error, self.app, exc)
            return
        chrony = None
        if self.local is not None and host == self.conn.this_host:
            try:
                chrony = self.local.chrony()
            except LocalError as exc:
                chrony = str(exc)
        self.app.call_from_thread(self._draw_time, state, chrony)

    def _draw_time(self, st: hs.TimeState, chrony=None) -> None:
        self.time_state, self.chrony = st, chrony
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column()
        now = clock.now()
        grid.add_row("Host", Text(st.name))
        if st.skew is not None:
            host_clock = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now + st.skew))
            grid.add_row("Host clock", Text(host_clock))
            grid.add_row(
                "This machine", Text(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now)))
            )
            # the host reports whole seconds: below that, there is no difference to show
            skew = "none measurable (< 1.5 s)" if abs(st.skew) < 1.5 else f"{st.skew:+.0f} s"
            grid.add_row("Difference", Text(skew))
        grid.add_row("Time zone", Text(st.timezone or "-"))
        grid.add_row("NTP mode", Text(st.mode))
        if st.synchronised is None:
            grid.add_row("Synchronised", Text(st.unsupported))
        else:
            grid.add_row(
                "Synchronised",
                Text("yes" if st.synchronised else "NO", style="" if st.synchronised else "bold"),
            )
            for server, status in sorted(st.server_status.items()):
                grid.add_row("  server", Text(f"{server}: {status}"))
        if isinstance(self.chrony, str):
            grid.add_row("chronyd", Text(self.chrony))
        elif self.chrony is not None:
            c = self.chrony
            grid.add_row(
                "chronyd",
                Text(
                    ("synchronised" if c.synchronised else "NOT synchronised")
                    + f", last offset {c.offset}"
                ),
            )
            for server, status in sorted(c.sources.items()):
                grid.add_row("  source", Text(f"{server}: {status}"))
        grid.add_row("", Text("n: NTP servers - z: time zone - t: read again"))
        self.query_one("#host-time", Static).update(grid)

    # actions ----------------------------------------------------------------
    async def _precheck(self, host: str, title: str) -> list[hs.Blocker] | None:
        """XAPI's evacuation plan for the host, shown before anything moves;
        None when the admin stops there."""
        cache = self.conn.cache
        try:
            blockers = await asyncio.to_thread(hs.evacuation_blockers, self.conn, host)
        except Exception as exc:  # said in words; nothing was changed
            notify_error(self.app, exc)
            return None
        with cache.lock:
            guests = [(vm.name_label, vm.power_state) for vm in guests_on(cache, host)]
        if not await self.app.push_screen_wait(PrecheckModal(title, guests, blockers)):
            return None
        return blockers

    @requires(hs.EnterMaintenance)
    @work(exit_on_error=False, group="action", description="maintenance mode")
    async def action_maintenance(self) -> None:
        host, cache = self.host, self.conn.cache
        if not host or not connected(self.app):
            return
        rec = cache.get("host", host)
        if hs.in_maintenance(cache, host) or not rec.enabled:
            await self._exit_maintenance(host)
            return
        if not await self._master_first(host, "maintenance mode"):
            return
        blockers = await self._precheck(host, f"Maintenance mode for {rec.name_label}: pre-check")
        if blockers is None:
            return
        action = await ask(
            self.app,
            f"Maintenance mode for {rec.name_label}",
            hs.EnterMaintenance.fields(blockers),
            lambda values: hs.EnterMaintenance(
                cache, host, blockers, values.get("blocked", "refuse")
            ),
        )
        if action is not None:
            await perform(self.app, action)

    @requires(hs.ExitMaintenance)
    @work(exit_on_error=False, group="action", description="exit maintenance mode")
    async def action_exit_maintenance(self) -> None:
        if self.host and connected(self.app):
            await self._exit_maintenance(self.host)

    async def _exit_maintenance(self, host: str) -> None:
        cache = self.conn.cache
        action = await ask(
            self.app,
            f"Exit maintenance mode: {cache.label('host', host)}",
            hs.ExitMaintenance.fields(cache, host),
            lambda values: hs.ExitMaintenance(cache, host, values.get("bring_back", "yes")),
        )
        if action is not None:
            await perform(self.app, action)

    async def _power(self, cls, what: str) -> None:
        host, conn = self.host, self.conn
        if not host or not connected(self.app):
            return
        name = conn.cache.label("host", host)
        if not await self._master_first(host, what.lower()):
            return
        blockers = await self._precheck(host, f"{what} {name}: where its VMs go")
        if blockers is None:
            return
        action = await ask(
            self.app,
            f"{what} {name}",
            cls.fields(conn.cache, host),
            lambda values: cls(
                conn.cache,
                host,
                blockers,
                values.get("vms", "move them"),
                this_host=conn.this_host,
            ),
        )
        if action is not None:
            await perform(self.app, action)

    async def _master_first(self, host: str, what: str) -> bool:
        """On the master of a pool, offer to designate another master first;
        False when the admin stops (or designated, and now picks again)."""
        cache = self.conn.cache
        if host != views.master_ref(cache) or len(cache.table("host")) < 2:
            return True
        answer = await self.app.push_screen_wait(
            ChoiceModal(
                f"{cache.label('host', host)} is the pool master",
                f"Going on with {what} designates no other master: while this host is away "
                "the pool cannot be managed (its VMs elsewhere keep running). Designate a new "
                "master first?",
                [("designate", "Designate first"), ("go", "Go on"), ("cancel", "Cancel")],
            )
        )
        if answer == "designate":
            await self._designate()
            return False
        return answer == "go"

    @requires(DesignateMaster)
    @work(exit_on_error=False, group="action", description="designate a new master")
    async def action_designate(self) -> None:
        await self._designate()

    async def _designate(self) -> None:
        cache = self.conn.cache
        action = await ask(
            self.app,
            "Designate a new pool master",
            DesignateMaster.fields(cache),
            lambda values: DesignateMaster(cache, values["host"]),
        )
        if action is not None:
            await perform(self.app, action)

    @requires(EjectHost)
    @work(exit_on_error=False, group="action", description="eject host")
    async def action_eject(self) -> None:
        cache, host = self.conn.cache, self.host
        action = await ask(self.app, "", [], lambda _: EjectHost(cache, host))
        if action is not None:
            await perform(self.app, action)

    @requires(JoinPool)
    @work(exit_on_error=False, group="action", description="join a pool")
    async def action_join(self) -> None:
        if not connected(self.app):
            return
        conn = self.conn
        values = await self.app.push_screen_wait(
            FormModal("Join this host to a pool", JoinPool.fields(), lambda v: v)
        )
        if values is None:
            return
        check = await read(
            self.app,
            check_join,
            conn,
            values["address"],
            values["password"],
            note="Comparing this host with the pool's master...",
        )
        if check is None:
            return
        action = await ask(
            self.app,
            "",
            [],
            lambda _: JoinPool(
                conn.cache, values["address"], values["password"], values["force"], check
            ),
        )
        if action is not None:
            await perform(self.app, action)

    def targets(self, cls: str) -> list[str]:
        return [self.host] if cls == "host" and self.host else []

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "Exit maint." is offered (in the footer) only for a host in maintenance
        if action == "exit_maintenance" and self.conn is not None and self.host:
            rec = self.conn.cache.get("host", self.host)
            if (
                rec is not None
                and rec.enabled
                and not hs.in_maintenance(self.conn.cache, self.host)
            ):
                return False
        return super().check_action(action, parameters)

    # a reboot or shutdown starts by moving the VMs away: what the host must allow
    @requires(hs.RebootHost, operation=("host", "evacuate"))
    @work(exit_on_error=False, group="action", description="reboot host")
    async def action_reboot(self) -> None:
        await self._power(hs.RebootHost, "Reboot")

    @requires(hs.ShutdownHost, operation=("host", "evacuate"))
    @work(exit_on_error=False, group="action", description="shut down host")
    async def action_shutdown(self) -> None:
        await self._power(hs.ShutdownHost, "Shut down")

    @requires(hs.RestartToolstack)
    @work(exit_on_error=False, group="action", description="restart toolstack")
    async def action_toolstack(self) -> None:
        conn = self.conn
        action = await ask(
            self.app,
            "",
            [],
            lambda values: hs.RestartToolstack(conn.cache, self.host, this_host=conn.this_host),
        )
        if action is not None:
            await perform(self.app, action)

    @requires(hs.SetNtp)
    @work(exit_on_error=False, group="action", description="NTP")
    async def action_ntp(self) -> None:
        host, cache = self.host, self.conn.cache
        action = await ask(
            self.app,
            f"NTP of {cache.label('host', host)}",
            hs.SetNtp.fields(cache, host),
            lambda values: hs.SetNtp(
                cache, host, values["mode"], values["servers"], values["scope"]
            ),
        )
        if action is not None and await perform(self.app, action):
            self.action_show_time()

    @requires(hs.SetTimezone)
    @work(exit_on_error=False, group="action", description="time zone")
    async def action_timezone(self) -> None:
        host, conn = self.host, self.conn
        if not connected(self.app):
            return
        try:
            zones = await asyncio.to_thread(conn.call, "host.list_timezones", host)
        except Exception as exc:
            notify_error(self.app, exc)
            return
        action = await ask(
            self.app,
            f"Time zone of {conn.cache.label('host', host)}",
            hs.SetTimezone.fields(conn.cache, host, zones),
            lambda values: hs.SetTimezone(
                conn.cache, host, values["timezone"], zones, values["scope"]
            ),
        )
        if action is not None and await perform(self.app, action):
            self.action_show_time()

    @requires(hs.SetSsh)
    @work(exit_on_error=False, group="action", description="SSH")
    async def action_ssh(self) -> None:
        host, conn = self.host, self.conn
        action = await ask(
            self.app,
            f"SSH on {conn.cache.label('host', host)}",
            hs.SetSsh.fields(conn.cache, host),
            lambda values: hs.SetSsh(conn.cache, host, values["ssh"], values["timeout"]),
        )
        if action is not None:
            await perform(self.app, action)

    @requires(hs.SetSyslog)
    @work(exit_on_error=False, group="action", description="remote syslog")
    async def action_syslog(self) -> None:
        host, cache = self.host, self.conn.cache
        action = await ask(
            self.app,
            f"Remote syslog of {cache.label('host', host)}",
            hs.SetSyslog.fields(cache, host),
            lambda values: hs.SetSyslog(cache, host, values["destination"], values["scope"]),
        )
        if action is not None:
            await perform(self.app, action)

    def _dom0_only(self, what: str) -> bool:
        """In dom0, on this host; otherwise say where it can be done."""
        if self.local is None:
            self.app.notify(
                f"{what} is done in dom0: run xstui on the host itself (xstui local), at its "
                "console or over SSH.",
                severity="warning",
                timeout=12,
            )
            return False
        if self.host != self.conn.this_host:
            self.app.notify(
                f"{what} applies to this host only: select it first.", severity="warning"
            )
            return False
        return True

    @work(exit_on_error=False, group="action", description="emergency network reset")
    async def action_network_reset(self) -> None:
        if self.local is None:
            self.app.notify(
                "The emergency network reset (xe-reset-networking) rebuilds the host's network "
                "configuration from scratch and reboots it. It is a console job: run xstui in "
                "dom0 at the host's own console (iLO/DRAC), since the network it resets is the "
                "one you would use to reach it. On a member it asks for the master's address.",
                severity="warning",
                timeout=15,
            )
            return
        if not self._dom0_only("The emergency network reset"):
            return
        conn, system = self.conn, self.local
        action = await ask(
            self.app,
            "Emergency network reset of this host",
            ResetNetworking.fields(system),
            lambda values: ResetNetworking(conn.cache, system, conn.this_host, values),
        )
        if action is not None:
            await perform(self.app, action)

    @work(exit_on_error=False, group="action", description="keyboard layout")
    async def action_keymap(self) -> None:
        if not self._dom0_only("The console keyboard layout"):
            return
        system = self.local
        try:
            keymaps = await asyncio.to_thread(system.keymaps)
        except LocalError as exc:
            self.app.notify(str(exc), severity="error")
            return
        action = await ask(
            self.app,
            "Keyboard layout of this host's console",
            SetKeymap.fields(system, keymaps),
            lambda values: SetKeymap(system, values["keymap"], keymaps),
        )
        if action is not None:
            await perform(self.app, action)

    @requires(StatusReport)
    @work(exit_on_error=False, group="action", description="status report")
    async def action_status_report(self) -> None:
        host, conn = self.host, self.conn
        here = self.local is not None and host == conn.this_host
        action = await ask(
            self.app,
            f"Server status report of {conn.cache.label('host', host)}",
            StatusReport.fields(here),
            lambda values: StatusReport(
                conn.cache,
                host,
                system=self.local if here else None,
                url=values.get("url", ""),
                path=values["path"],
                overwrite=values["overwrite"] == OVERWRITE[1],
            ),
        )
        if action is not None:
            await perform(self.app, action)
