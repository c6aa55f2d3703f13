"""The Networking screen: interfaces of each host, the management interface,
hostname and DNS, bonds, VLANs, NIC replacement, network tests and the pool
consistency check."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static, TabbedContent, TabPane

from xstui.services import network as net
from xstui.services import validate as v
from xstui.services.actions import InvalidInput
from xstui.services.consistency import check_pool
from xstui.services.nettest import run_tests, targets
from xstui.widgets.countdown import CountdownModal
from xstui.widgets.flow import perform
from xstui.widgets.form import FormField, FormModal
from xstui.widgets.notice import notify_error
from xstui.widgets.progress import TaskProgressModal

from .base import AreaScreen


def _modes(text: str) -> str | None:
    return None if text.strip().lower() in ("dhcp", "static") else "mode is dhcp or static"


class NetworkTestModal(ModalScreen[None]):
    DEFAULT_CSS = """
    NetworkTestModal { align: center middle; }
    NetworkTestModal > Vertical {
        width: 80%; max-width: 80; height: auto; border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close", id="nettest.close")]

    def __init__(self, items: list[tuple[str, str]]):
        super().__init__()
        self.items = items
        self.lines: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Test network (from dom0)", classes="plan-title")
            yield Static("Pinging…", id="nettest-results")
            yield Label("Escape to close")

    def on_mount(self) -> None:
        self._run()

    @work(thread=True, exit_on_error=False, group="nettest", description="ping")
    def _run(self) -> None:
        for result in run_tests(self.items):
            mark = "ok  " if result.ok else "FAIL"
            self.lines.append(f"{mark} {result.label:<8} {result.address:<16} {result.detail}")
            self.app.call_from_thread(
                self.query_one("#nettest-results", Static).update, "\n".join(self.lines)
            )
        self.lines.append("done.")
        self.app.call_from_thread(
            self.query_one("#nettest-results", Static).update, "\n".join(self.lines)
        )


class NetworkScreen(AreaScreen):
    BINDINGS = [
        Binding("H", "next_host", "Next host", id="network.next_host"),
        Binding("m", "management", "Management", id="network.management"),
        Binding("o", "hostname", "Hostname", id="network.hostname"),
        Binding("d", "dns", "DNS", id="network.dns"),
        Binding("b", "bond", "Bond", id="network.bond"),
        Binding("v", "vlan", "VLAN", id="network.vlan"),
        Binding("x", "destroy", "Destroy bond/VLAN", id="network.destroy"),
        Binding("r", "replace_nic", "Replace NIC", id="network.replace_nic"),
        Binding("t", "test_network", "Test", id="network.test"),
        Binding("c", "show_check", "Pool check", id="network.check", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.host = ""  # the host shown; defaults to the session's host
        self.rows: list[net.PifRow] = []
        self.pending_nic: net.ForgetNic | None = None
        self.confirm_seconds = 60  # apply-then-confirm window for local management changes

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="network-tabs", initial="interfaces"):
            with TabPane("Interfaces", id="interfaces"):
                yield Label("", id="network-host")
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
    @property
    def conn(self):
        return self.app.connection

    def refresh_view(self) -> None:
        conn = self.conn
        if conn is None or not conn.cache.table("host"):
            return
        hosts = conn.cache.table("host")
        if self.host not in hosts:
            self.host = conn.this_host if conn.this_host in hosts else next(iter(hosts))
        h = hosts[self.host]
        backend = (h.get("software_version") or {}).get("network_backend", "")
        self.query_one("#network-host", Label).update(
            f"Host {h.get('name_label')} ({h.get('hostname')}) — backend {backend or 'unknown'} — "
            f"{len(hosts)} host(s), H for the next"
        )
        table = self.query_one("#pifs", DataTable)
        selected = table.cursor_row
        table.clear()
        self.rows = net.pif_rows(conn.cache, self.host)
        for r in self.rows:
            link = (
                "no link"
                if r.carrier is False
                else (f"{r.speed // 1000}G" if r.speed >= 1000 else f"{r.speed}M")
                if r.speed
                else ("up" if r.carrier else "-")
            )
            if r.duplex is False and r.speed:
                link += " half"
            ip = (
                r.ip
                if r.mode == "Static"
                else (f"DHCP {r.ip}".strip() if r.mode == "DHCP" else "-")
            )
            table.add_row(
                r.device,
                "*" if r.management else "",
                ip,
                link,
                str(r.mtu),
                str(r.vlan) if r.vlan >= 0 else "",
                r.bond,
                r.network,
                r.mac,
            )
        if self.rows:
            table.move_cursor(row=min(max(selected, 0), len(self.rows) - 1))
        self._draw_check()

    def _draw_check(self) -> None:
        findings = check_pool(self.conn.cache)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column()
        for f in findings:
            grid.add_row(Text("! " + f.severity, style="bold"), f.rule, f.text)
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
    def action_next_host(self) -> None:
        hosts = sorted(
            self.conn.cache.table("host").items(), key=lambda kv: kv[1].get("name_label", "")
        )
        refs = [r for r, _ in hosts]
        self.host = refs[(refs.index(self.host) + 1) % len(refs)] if self.host in refs else refs[0]
        self.refresh_view()

    def action_show_check(self) -> None:
        self.query_one(TabbedContent).active = "check"

    async def _form(self, title: str, fields: list[FormField]) -> dict | None:
        return await self.app.push_screen_wait(FormModal(title, fields))

    @work(exit_on_error=False, group="action", description="management interface")
    async def action_management(self) -> None:
        row = self.selected()
        if row is None:
            return
        conn = self.conn
        current = next((r for r in self.rows if r.management), row)
        values = await self._form(
            f"Management interface on {row.device} ({row.host_name})",
            [
                FormField(
                    "mode",
                    "Mode (static or dhcp)",
                    "static" if (row.mode or current.mode) != "DHCP" else "dhcp",
                    _modes,
                ),
                FormField(
                    "ip", "IP address", row.ip, lambda t: t.strip() and v.problem(v.ipv4, t) or None
                ),
                FormField(
                    "netmask",
                    "Netmask",
                    row.netmask or current.netmask,
                    lambda t: t.strip() and v.problem(v.netmask, t) or None,
                ),
                FormField(
                    "gateway",
                    "Gateway (optional)",
                    row.gateway or current.gateway,
                    lambda t: t.strip() and v.problem(v.ipv4, t, "gateway") or None,
                ),
                FormField(
                    "dns",
                    "DNS servers (comma separated)",
                    ",".join(row.dns or current.dns),
                    lambda t: v.problem(v.dns_servers, t),
                ),
            ],
        )
        if values is None:
            return
        try:
            config = net.IpConfig.checked(
                values["mode"], values["ip"], values["netmask"], values["gateway"], values["dns"]
            )
            action = net.ReconfigureManagement(
                conn.cache,
                row.host,
                row.ref,
                config,
                session_host=conn.target.host,
                local=conn.target.kind == "local",
            )
        except InvalidInput as exc:
            notify_error(self.app, exc)
            return
        if not await perform(self.app, action):
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

    @work(exit_on_error=False, group="action", description="hostname")
    async def action_hostname(self) -> None:
        host = self.conn.cache.get("host", self.host) or {}
        values = await self._form(
            f"Hostname of {host.get('name_label')}",
            [
                FormField(
                    "hostname",
                    "Hostname",
                    host.get("hostname", ""),
                    lambda t: v.problem(v.hostname, t),
                )
            ],
        )
        if values is not None:
            await self._perform(
                lambda: net.SetHostname(self.conn.cache, self.host, values["hostname"])
            )

    @work(exit_on_error=False, group="action", description="DNS")
    async def action_dns(self) -> None:
        mgmt = next((r for r in self.rows if r.management), None)
        values = await self._form(
            "DNS servers",
            [
                FormField(
                    "dns",
                    "DNS servers (comma separated)",
                    ",".join(mgmt.dns if mgmt else []),
                    lambda t: v.problem(v.dns_servers, t),
                )
            ],
        )
        if values is not None:
            await self._perform(lambda: net.SetDns(self.conn.cache, self.host, values["dns"]))

    @work(exit_on_error=False, group="action", description="create bond")
    async def action_bond(self) -> None:
        values = await self._form(
            "Create a bond on every host",
            [
                FormField(
                    "devices",
                    "NICs (e.g. eth2,eth3)",
                    "",
                    lambda t: (
                        None
                        if len([d for d in t.split(",") if d.strip()]) >= 2
                        else "name at least two NICs"
                    ),
                ),
                FormField(
                    "mode",
                    "Mode: active-backup, balance-slb or lacp",
                    "active-backup",
                    lambda t: (
                        None
                        if t.strip() in net.BOND_MODES
                        else "active-backup, balance-slb or lacp"
                    ),
                ),
                FormField("name", "Network name", "", lambda t: None),
                FormField("mtu", "MTU", "1500", lambda t: v.problem(v.mtu, t)),
            ],
        )
        if values is not None:
            await self._perform(
                lambda: net.CreateBond(
                    self.conn.cache,
                    values["name"],
                    values["devices"].split(","),
                    values["mode"].strip(),
                    values["mtu"],
                )
            )

    @work(exit_on_error=False, group="action", description="create VLAN")
    async def action_vlan(self) -> None:
        row = self.selected()
        values = await self._form(
            "Create a VLAN on every host",
            [
                FormField("tag", "VLAN tag (0-4094)", "", lambda t: v.problem(v.vlan_tag, t)),
                FormField(
                    "over", "On network (NIC or bond)", row.network if row else "", lambda t: None
                ),
                FormField("name", "Network name", "", lambda t: None),
            ],
        )
        if values is None:
            return
        networks = {n.get("name_label"): ref for ref, n in self.conn.cache.table("network").items()}
        await self._perform(
            lambda: net.CreateVlan(
                self.conn.cache,
                values["name"],
                values["tag"],
                networks.get(values["over"].strip(), ""),
            )
        )

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

    @work(exit_on_error=False, group="action", description="replace NIC")
    async def action_replace_nic(self) -> None:
        if self.pending_nic is None:
            row = self.selected()
            if row is None:
                return
            try:
                forget = net.ForgetNic(self.conn.cache, row.ref, self.conn.this_host)
            except InvalidInput as exc:
                notify_error(self.app, exc)
                return
            if not await perform(self.app, forget):
                return
            self.pending_nic = forget
        old = self.pending_nic
        values = await self._form(
            f"After the swap: the new NIC for {old.rec.get('device')} on {old.host_name}",
            [FormField("mac", "New NIC's MAC address", "", lambda t: v.problem(v.mac, t))],
        )
        if values is None:
            self.app.notify(
                "The old NIC is forgotten; press r again when the new one is in.", timeout=8
            )
            return
        if await self._perform(lambda: net.IntroduceNic(old, values["mac"])):
            self.pending_nic = None

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
        self.app.push_screen(NetworkTestModal(targets(mgmt.gateway, mgmt.dns)))

    async def _perform(self, make) -> bool:
        try:
            action = make()
        except InvalidInput as exc:
            notify_error(self.app, exc)
            return False
        return await perform(self.app, action)
