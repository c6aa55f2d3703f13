"""The Networking screen: interfaces of each host, the management interface,
hostname and DNS, bonds, VLANs, NIC replacement, network tests and the pool
consistency check."""

from __future__ import annotations

import asyncio

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from xstui.services import network as net
from xstui.services.actions import InvalidInput
from xstui.services.network.consistency import check_pool
from xstui.services.network.nettest import run_tests, targets
from xstui.widgets.countdown import CountdownModal
from xstui.widgets.flow import ask, connected, perform
from xstui.widgets.modal import Dialog
from xstui.widgets.notice import notify_error
from xstui.widgets.progress import TaskProgressModal
from xstui.widgets.tables import sync_rows

from .base import AreaScreen, requires


class NetworkTestModal(Dialog):
    BINDINGS = [Binding("escape", "dismiss", "Close", id="nettest.close")]

    def __init__(self, items: list[tuple[str, str]]):
        super().__init__()
        self.items = items
        self.lines: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Test network (from dom0)", classes="dialog-title")
            yield Static("Pinging...", id="nettest-results")
            yield Static("Escape to close", classes="dialog-text")

    def on_mount(self) -> None:
        self._run()

    @work(thread=True, exit_on_error=False, group="nettest", description="ping")
    def _run(self) -> None:
        for result in run_tests(self.items):
            mark = "ok  " if result.ok else "FAIL"
            self.lines.append(f"{mark} {result.label:<8} {result.address:<16} {result.detail}")
            self.app.call_from_thread(
                self.query_one("#nettest-results", Static).update, Text("\n".join(self.lines))
            )
        self.lines.append("done.")
        self.app.call_from_thread(
            self.query_one("#nettest-results", Static).update, Text("\n".join(self.lines))
        )


class NetworkScreen(AreaScreen):
    BINDINGS = [
        Binding("H", "next_host", "Next host", id="network.next_host"),
        Binding("m", "management", "Management", id="network.management"),
        Binding("o", "hostname", "Hostname", id="network.hostname", show=False),
        Binding("d", "dns", "DNS", id="network.dns", show=False),
        Binding("b", "bond", "Bond", id="network.bond"),
        Binding("v", "vlan", "VLAN", id="network.vlan"),
        Binding("x", "destroy", "Destroy", id="network.destroy"),
        Binding("r", "replace_nic", "Replace NIC", id="network.replace_nic", show=False),
        Binding("t", "test_network", "Test network", id="network.test", show=False),
        Binding("c", "show_check", "Pool check", id="network.check", show=False),
    ]

    def __init__(self, area) -> None:
        super().__init__(area)
        self.rows: list[net.PifRow] = []
        self.confirm_seconds = 60  # apply-then-confirm window for local management changes

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="network-tabs", initial="interfaces"):
            with TabPane("Interfaces", id="interfaces"):
                yield Static("", id="network-host")
                yield DataTable(id="pifs", cursor_type="row", zebra_stripes=True)
            with TabPane("Pool check", id="check"):
                with VerticalScroll():
                    yield Static(id="check-list")

    def on_mount(self) -> None:
        self.query_one("#pifs", DataTable).add_columns(
            "Dev", "M", "IP", "Link", "MTU", "VLAN", "Bond", "Network", "MAC"
        )
        super().on_mount()
        self.query_one("#pifs", DataTable).focus()

    # data -------------------------------------------------------------------
    # what the interface table and the pool check are drawn from (VMs are
    # watched only to name the users of a network before destroying it)
    DRAWN_FROM = frozenset({"host", "pif", "pif_metrics", "network", "bond", "vlan"})

    def refresh_view(self, classes=None) -> None:
        conn = self.conn
        if not self.drawable(classes):
            return
        h = conn.cache.get("host", self.shown_host())
        backend = h.software_version.get("network_backend", "")
        waiting = dict(net.pending_replacements(conn.cache)).get(self.host)
        # one line whatever the names' length (the table must stay in view)
        line = Text(
            f"{len(conn.cache.table('host'))} host(s), H for the next - backend {backend or 'unknown'} - "
            f"host {h.name_label} ({h.hostname})"
        )
        if waiting:
            line.append(
                f"\nWaiting for the new NIC for {waiting['device']}: press r to introduce it.",
                style="bold",
            )
        self.query_one("#network-host", Static).update(line)
        self.rows = net.pif_rows(conn.cache, self.host)
        sync_rows(
            self.query_one("#pifs", DataTable),
            [
                (
                    r.ref,
                    (
                        Text(r.device),
                        "*" if r.management else "",
                        r.address,
                        r.link,
                        str(r.mtu),
                        str(r.vlan) if r.vlan >= 0 else "",
                        r.bond,
                        Text(r.network),
                        r.mac,
                    ),
                )
                for r in self.rows
            ],
        )
        self._draw_check()

    def _draw_check(self) -> None:
        findings = check_pool(self.conn.cache)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column()
        for f in findings:
            grid.add_row(Text("! " + f.severity, style="bold"), f.rule, Text(f.text))
        self.query_one("#check-list", Static).update(
            grid if findings else Text("The pool is consistent.")
        )
        self.set_tab_label("check", f"Pool check ({len(findings)})" if findings else "Pool check")

    def selected(self) -> net.PifRow | None:
        table = self.query_one("#pifs", DataTable)
        if not self.rows or table.cursor_row < 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    # actions ----------------------------------------------------------------
    def action_show_check(self) -> None:
        self.query_one(TabbedContent).active = "check"

    @requires(net.ReconfigureManagement)
    @work(exit_on_error=False, group="action", description="management interface")
    async def action_management(self) -> None:
        row = self.selected()
        if row is None:
            return
        conn = self.conn

        def build(values):
            config = net.IpConfig.checked(
                values["mode"], values["ip"], values["netmask"], values["gateway"], values["dns"]
            )
            return net.ReconfigureManagement(
                conn.cache,
                row.host,
                row.ref,
                config,
                session_host=conn.target.host,
                local=conn.target.kind == "local",
            )

        action = await ask(
            self.app,
            f"Management interface on {row.device} ({row.host_name})",
            net.ReconfigureManagement.fields(conn.cache, row.ref),
            build,
        )
        if action is None or not await perform(self.app, action):
            return
        if conn.target.kind == "local":
            keep = await self.app.push_screen_wait(
                CountdownModal(
                    f"The management interface is now {row.device} ({action.new_address or 'DHCP'}). "
                    "Can you still reach the host? Keep this configuration?",
                    seconds=self.confirm_seconds,
                )
            )
            if not keep:
                ok, message = await self.app.push_screen_wait(
                    TaskProgressModal(action.revert(), conn)
                )
                self.app.notify(message, severity="information" if ok else "error", timeout=10)

    @requires(net.SetHostname)
    @work(exit_on_error=False, group="action", description="hostname")
    async def action_hostname(self) -> None:
        host = self.conn.cache.get("host", self.host)
        if host is None:
            return
        action = await ask(
            self.app,
            f"Hostname of {host.name_label}",
            net.SetHostname.fields(self.conn.cache, self.host),
            lambda values: net.SetHostname(self.conn.cache, self.host, values["hostname"]),
        )
        if action is not None:
            await perform(self.app, action)

    @requires(net.SetDns)
    @work(exit_on_error=False, group="action", description="DNS")
    async def action_dns(self) -> None:
        action = await ask(
            self.app,
            "DNS servers",
            net.SetDns.fields(self.conn.cache, self.host),
            lambda values: net.SetDns(self.conn.cache, self.host, values["dns"]),
        )
        if action is not None:
            await perform(self.app, action)

    @requires(net.CreateBond)
    @work(exit_on_error=False, group="action", description="create bond")
    async def action_bond(self) -> None:
        action = await ask(
            self.app,
            "Create a bond on every host",
            net.CreateBond.fields(self.conn.cache, self.host),
            lambda values: net.CreateBond(
                self.conn.cache, values["name"], values["devices"], values["mode"], values["mtu"]
            ),
        )
        if action is not None:
            await perform(self.app, action)

    @requires(net.CreateVlan)
    @work(exit_on_error=False, group="action", description="create VLAN")
    async def action_vlan(self) -> None:
        row = self.selected()
        cache = self.conn.cache
        names = net.CreateVlan.carriers(cache, self.host)
        action = await ask(
            self.app,
            "Create a VLAN on every host",
            net.CreateVlan.fields(cache, self.host, row.network_ref if row else ""),
            lambda values: net.CreateVlan(
                self.conn.cache, values["name"], values["tag"], names.get(values["over"], "")
            ),
        )
        if action is not None:
            await perform(self.app, action)

    @requires(net.DestroyBond, net.DestroyVlan)
    @work(exit_on_error=False, group="action", description="destroy bond or VLAN")
    async def action_destroy(self) -> None:
        row = self.selected()
        if row is None:
            return
        if row.bond == "master":
            await self._perform(lambda: net.DestroyBond(self.conn.cache, row.network_ref))
        elif row.vlan >= 0:
            await self._perform(lambda: net.DestroyVlan(self.conn.cache, row.network_ref))
        else:
            self.app.notify(
                "Select a bond (bond master row) or a VLAN row to destroy.", severity="warning"
            )

    @requires(net.ForgetNic, net.IntroduceNic)
    @work(exit_on_error=False, group="action", description="replace NIC")
    async def action_replace_nic(self) -> None:
        """Step 1 forgets the selected NIC; step 2 (now, or after the swap and
        even after a restart of the console) introduces the new one."""
        cache = self.conn.cache
        if not connected(self.app):
            return
        if self.host not in dict(net.pending_replacements(cache)):
            row = self.selected()
            if row is None:
                return
            try:
                forget = net.ForgetNic(cache, row.ref, self.conn.this_host)
            except InvalidInput as exc:
                notify_error(self.app, exc)
                return
            if not await perform(self.app, forget):
                return
            # the host record's change arrives through the event stream
            host = self.host
            await asyncio.to_thread(
                cache.wait_for, lambda: host in dict(net.pending_replacements(cache)), 5
            )
        saved = dict(net.pending_replacements(cache)).get(self.host)
        if saved is None:
            return
        host = self.host
        action = await ask(
            self.app,
            f"After the swap: the new NIC for {saved['device']} on {cache.label('host', host)}",
            net.IntroduceNic.FIELDS,
            lambda values: net.IntroduceNic(cache, host, values["mac"]),
        )
        if action is None:
            self.app.notify(
                "The old NIC is forgotten; press r again when the new one is in.", timeout=8
            )
            return
        await perform(self.app, action)

    def action_test_network(self) -> None:
        conn = self.conn
        if conn.target.kind != "local":
            self.app.notify(
                "Test network pings from dom0: run xstui on the host (xstui local).",
                severity="warning",
            )
            return
        mgmt = next((r for r in self.rows if r.management), None)
        if mgmt is None:
            self.app.notify("This host has no management interface to test.", severity="warning")
            return
        self.app.push_screen(NetworkTestModal(targets(mgmt.gateway, list(mgmt.dns))))

    async def _perform(self, make) -> bool:
        try:
            action = make()
        except InvalidInput as exc:
            notify_error(self.app, exc)
            return False
        return await perform(self.app, action)
