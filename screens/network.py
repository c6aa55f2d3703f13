"""The Networking screen: interfaces of each host, the management interface,
hostname and DNS, bonds, VLANs, NIC replacement, network tests and the pool
consistency check."""

from __future__ import annotations

import asyncio

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from xstui.services import network as net
from xstui.services.actions import InvalidInput
from xstui.services.network import nettest
from xstui.services.network.consistency import check_pool
from xstui.services.network.nettest import run_tests, targets
from xstui.widgets.countdown import CountdownModal
from xstui.widgets.flow import ask, perform
from xstui.widgets.form import FormModal
from xstui.widgets.modal import ResultModal
from xstui.widgets.notice import notify_error
from xstui.widgets.progress import TaskProgressModal
from xstui.widgets.rowlist import RowList
from xstui.widgets.tabbed import TabbedPanes, TabPane

from .act import Act
from .base import AreaScreen, tab_keys


class NetworkTestModal(ResultModal):
    """The pings' answers, line by line as they come."""

    def __init__(self, items: list[tuple[str, str]]):
        super().__init__("Test network (from dom0)", "Pinging...")
        self.items = items
        self.lines: list[str] = []

    def on_mount(self) -> None:
        self._run()

    @work(thread=True, exit_on_error=False, group="nettest", description="ping")
    def _run(self) -> None:
        for result in run_tests(self.items):
            mark = "ok  " if result.ok else "FAIL"
            self.lines.append(f"{mark} {result.label:<8} {result.address:<16} {result.detail}")
            self.app.call_from_thread(self.show, Text("\n".join(self.lines)))
        self.lines.append("done.")
        self.app.call_from_thread(self.show, Text("\n".join(self.lines)))


def _row(turn):
    return turn.screen.selected()


async def _keep_or_revert(turn) -> None:
    """From dom0 a new management interface is kept only when the admin can
    still answer: otherwise it reverts by itself."""
    conn, action = turn.conn, turn.action
    if conn.target.kind != "local":
        return
    keep = await turn.app.push_screen_wait(
        CountdownModal(
            f"The management interface is now {action.pif_rec.device} "
            f"({action.new_address or 'DHCP'}). Can you still reach the host? "
            "Keep this configuration?",
            seconds=turn.screen.confirm_seconds,
        )
    )
    if not keep:
        ok, message = await turn.app.push_screen_wait(TaskProgressModal(action.revert(), conn))
        turn.app.notify(message, severity="information" if ok else "error", timeout=10)


def _destroy(turn):
    row = turn.subject
    if row.bond == "master":
        return net.DestroyBond(turn.cache, row.network_ref)
    if row.vlan >= 0:
        return net.DestroyVlan(turn.cache, row.network_ref)
    raise InvalidInput(["select a bond (its bond master row) or a VLAN row to destroy"])


async def _replace_nic(turn) -> None:
    """Step 1 forgets the selected NIC; step 2 (now, or after the swap and
    even after a restart of the console) introduces the new one."""
    screen, cache, app = turn.screen, turn.cache, turn.app
    host = screen.host
    if host not in dict(net.pending_replacements(cache)):
        row = screen.selected()
        if row is None:
            return
        try:
            forget = net.ForgetNic(cache, row.ref, turn.conn.this_host)
        except InvalidInput as exc:
            notify_error(app, exc)
            return
        if not await perform(app, forget):
            return
        # the host record's change arrives through the event stream
        await asyncio.to_thread(
            cache.wait_for, lambda: host in dict(net.pending_replacements(cache)), 5
        )
    saved = dict(net.pending_replacements(cache)).get(host)
    if saved is None:
        return
    action = await ask(
        app,
        f"After the swap: the new NIC for {saved['device']} on {cache.label('host', host)}",
        net.IntroduceNic.FIELDS,
        lambda values: net.IntroduceNic(cache, host, values["mac"]),
    )
    if action is None:
        app.notify("The old NIC is forgotten; press r again when the new one is in.", timeout=8)
        return
    await perform(app, action)


async def _test_network(turn) -> None:
    mgmt = next((r for r in turn.screen.rows if r.management), None)
    if mgmt is None:
        turn.app.notify("This host has no management interface to test.", severity="warning")
        return
    items = await turn.app.push_screen_wait(
        FormModal(
            "Test network from dom0: ping the gateway and the DNS servers",
            [nettest.CUSTOM],
            lambda values: targets(mgmt.gateway, list(mgmt.dns), values["custom"]),
        )
    )
    if items is not None:
        turn.app.push_screen(NetworkTestModal(items))


PIF_COLUMNS = (
    ("Dev", 6),
    ("M", 1),
    ("IP", 15),
    ("Link", 5),
    ("MTU", 5),
    ("VLAN", 4),
    ("Bond", 8),
    ("Network", 25),
)  # 79 columns: the MAC and a long network name in full below the list (cut ones end in ~)


class NetworkScreen(AreaScreen):
    AREA = "network"
    ACTS = (
        Act("H", "next_host", "Next host", view=AreaScreen.next_host),
        Act(
            "m",
            "management",
            "Management",
            help="Move or re-address a host's management interface",
            builds=(net.ReconfigureManagement,),
            subject=lambda t: t.screen.shown_host(),
            title=lambda t: f"Management interface of {t.cache.label('host', t.subject)}",
            fields=lambda t: net.ReconfigureManagement.fields(t.cache, t.subject),
            build=lambda t: net.ReconfigureManagement.of_form(
                t.cache, t.subject, t.values, session=t.conn.target
            ),
            after=_keep_or_revert,
        ),
        Act(
            "o",
            "hostname",
            "Hostname",
            show=False,
            builds=(net.SetHostname,),
            subject=lambda t: t.screen.shown_host(),
            title=lambda t: f"Hostname of {t.cache.label('host', t.subject)}",
            fields=lambda t: net.SetHostname.fields(t.cache, t.subject),
            build=lambda t: net.SetHostname(t.cache, t.subject, t.values["hostname"]),
        ),
        Act(
            "d",
            "dns",
            "DNS",
            show=False,
            builds=(net.SetDns,),
            subject=lambda t: t.screen.shown_host(),
            title=lambda t: f"DNS servers of {t.cache.label('host', t.subject)}",
            fields=lambda t: net.SetDns.fields(t.cache, t.subject),
            build=lambda t: net.SetDns(t.cache, t.subject, t.values["dns"]),
        ),
        Act(
            "b",
            "bond",
            "Bond",
            help="Create a bond on every host",
            builds=(net.CreateBond,),
            title="Create a bond on every host",
            fields=lambda t: net.CreateBond.fields(t.cache, t.screen.shown_host()),
            build=lambda t: net.CreateBond(
                t.cache, t.values["name"], t.values["devices"], t.values["mode"], t.values["mtu"]
            ),
        ),
        Act(
            "v",
            "vlan",
            "VLAN",
            help="Create a VLAN on every host",
            builds=(net.CreateVlan,),
            title="Create a VLAN on every host",
            fields=lambda t: net.CreateVlan.fields(
                t.cache, t.screen.shown_host(), getattr(_row(t), "network_ref", "")
            ),
            build=lambda t: net.CreateVlan(
                t.cache,
                t.values["name"],
                t.values["tag"],
                net.CreateVlan.carriers(t.cache, t.screen.host).get(t.values["over"], ""),
            ),
        ),
        Act(
            "x",
            "destroy",
            "Destroy",
            help="Destroy the bond or VLAN under the cursor, on every host",
            tab="interfaces",  # the row under the cursor: not from the Pool check
            builds=(net.DestroyBond, net.DestroyVlan),
            subject=_row,
            build=_destroy,
        ),
        Act(
            "r",
            "replace_nic",
            "Replace NIC",
            show=False,
            help="Forget a failed NIC, then introduce its replacement",
            builds=(net.ForgetNic, net.IntroduceNic),
            steps=_replace_nic,
        ),
        Act(
            "t",
            "test_network",
            "Test network",
            id="network.test",
            show=False,
            dom0=True,
            help="Ping the gateway, DNS servers and a host from dom0",
            steps=_test_network,
        ),
    )

    # the tabs, as every tabbed area shows them (AreaScreen: show_tab)
    BINDINGS = [
        *tab_keys("network", ("i", "interfaces", "Interfaces"), ("c", "check", "Pool check")),
    ]

    def __init__(self, area) -> None:
        super().__init__(area)
        self.rows: list[net.PifRow] = []
        self.confirm_seconds = 60  # apply-then-confirm window for local management changes

    def compose_body(self) -> ComposeResult:
        with TabbedPanes(id="network-tabs", initial="interfaces"):
            with TabPane("Interfaces", id="interfaces"):
                yield Static("", id="network-host")
                yield RowList(PIF_COLUMNS, markable=False, id="pifs")
                yield Static("", id="pif-detail", markup=False)
            with TabPane("Pool check", id="check"):
                with VerticalScroll():
                    yield Static(id="check-list")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#pifs", RowList).focus()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedPanes).active = tab
        if tab == "interfaces":
            self.query_one("#pifs", RowList).focus()

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
        self.query_one("#pifs", RowList).set_rows(
            [
                (
                    r.ref,
                    (
                        r.device,
                        "*" if r.management else "",
                        r.address,
                        r.link,
                        str(r.mtu),
                        str(r.vlan) if r.vlan >= 0 else "",
                        r.bond,
                        r.network,
                    ),
                )
                for r in self.rows
            ]
        )
        self._draw_detail()
        self._draw_check()

    @on(RowList.Moved, "#pifs")
    def _draw_detail(self) -> None:
        """The interface under the cursor: what its columns cut (its network's
        whole name) and what they leave out (the MAC)."""
        r = self.selected()
        self.query_one("#pif-detail", Static).update(
            f"{r.device}: {r.network or 'no network'}, MAC {r.mac or '-'}" if r else ""
        )

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
        self.set_tab_count("check", "Pool check", len(findings))

    def selected(self) -> net.PifRow | None:
        key = self.query_one("#pifs", RowList).cursor_key
        return next((r for r in self.rows if r.ref == key), None)
