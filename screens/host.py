"""The Host screen: the pool's hosts, and for the selected one its state,
hardware and software, time and NTP; maintenance mode, reboot and shutdown,
the toolstack, NTP and time zone, SSH and remote syslog."""

from __future__ import annotations

import time

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Button, Static

from xstui import clock
from xstui.services import host as hs
from xstui.services.actions import InvalidInput
from xstui.services.host.hosts import guests_on
from xstui.services.host.local import (
    OVERWRITE,
    Disk,
    LocalError,
    LocalSystem,
    NtpState,
    ResetNetworking,
    SetKeymap,
    StatusReport,
)
from xstui.services.pool import DesignateMaster, EjectHost, JoinPool, check_join, join_refusal
from xstui.services.values import size
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.flow import ask, connected, perform, read
from xstui.widgets.modal import Dialog, buttons
from xstui.widgets.notice import notify_error
from xstui.widgets.rowlist import RowList
from xstui.widgets.tabbed import TabbedPanes, TabPane
from xstui.widgets.wizard import Wizard
from xstui.xapi import views

from .act import Act
from .base import AreaScreen, run_form, tab_keys


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
            yield buttons(
                Button("Cancel", id="no", compact=True),
                Button("Continue", variant="primary", id="go", compact=True),
            )

    def on_mount(self) -> None:
        self.query_one("#go", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "go")


# the hosts, at 80 columns: a state as long as "back (VMs away)", an IPv4 address
HOST_COLUMNS = (
    ("Host", 16),
    ("Role", 10),
    ("State", 15),
    ("Address", 15),
    ("VMs", 3),
    ("Mem free", 8),
)


# what the keys act on ---------------------------------------------------------------
def _host(turn) -> str | None:
    """The host under the cursor."""
    return turn.screen.host or None


def _name(turn) -> str:
    return turn.cache.label("host", turn.subject)


def _setting(turn) -> str | None:
    """The host chosen; where this release keeps the setting in dom0 (the
    act's way is an InDom0), this host only, said otherwise."""
    host = _host(turn)
    way = turn.way
    if host and way is not None and issubclass(way, hs.InDom0):
        why = way.elsewhere(turn.conn, host)
        if why:
            turn.app.notify(f"{turn.act.label}: {why}.", severity="warning", timeout=12)
            return None
    return host


def _in_xapi(turn) -> bool:
    """The act goes through XAPI (not through dom0's files: an older release)."""
    return not issubclass(turn.way, hs.InDom0)


def _zones(turn) -> list[str]:
    """The zones to pick from: the host's own list, or dom0's zone database."""
    if _in_xapi(turn):
        return hs.time_zones(turn.conn, turn.subject, turn.screen.local)
    return turn.screen.local.timezones()


def _here(turn) -> bool:
    """The console runs in the dom0 of the host chosen."""
    return turn.screen.local is not None and turn.subject == turn.conn.this_host


REMOTE_RESET = (
    "The emergency network reset (xe-reset-networking) rebuilds the host's network "
    "configuration from scratch and reboots it. It is a console job: run xstui in "
    "dom0 at the host's own console (iLO/DRAC), since the network it resets is the "
    "one you would use to reach it. On a member it asks for the master's address."
)


def _in_dom0(what: str, remote: str = ""):
    """The subject of a dom0 job: this host's own system (LocalSystem) when
    the console runs in its dom0 and it is the host chosen; otherwise where
    it is done is said, and nothing opens."""

    def subject(turn):
        screen = turn.screen
        if screen.local is None:
            turn.app.notify(
                remote
                or f"{what} is done in dom0: run xstui on the host itself (xstui local), at "
                "its console or over SSH.",
                severity="warning",
                timeout=15 if remote else 12,
            )
            return None
        if screen.host != turn.conn.this_host:
            turn.app.notify(
                f"{what} applies to this host only: select it first.", severity="warning"
            )
            return None
        return screen.local

    return subject


async def _reread_dom0(turn) -> None:
    """dom0's own state (sshd, disks) read again after a change there."""
    if turn.screen.local is not None:
        turn.screen.read_dom0()


def _keymaps(turn) -> list[str]:
    try:
        return turn.subject.keymaps()
    except LocalError as exc:
        raise InvalidInput([str(exc)]) from None


# the steps of the wizards -------------------------------------------------------------
async def _precheck(turn, title: str) -> list[hs.Blocker] | None:
    """XAPI's evacuation plan for the host, shown before anything moves;
    None when it cannot be read (said) or the admin stops there."""
    cache, host = turn.cache, turn.subject
    blockers = await read(turn.app, hs.evacuation_blockers, turn.conn, host)
    if blockers is None:
        return None
    with cache.lock:
        guests = [(vm.name_label, vm.power_state) for vm in guests_on(cache, host)]
    if not await turn.app.push_screen_wait(PrecheckModal(title, guests, blockers)):
        return None
    return blockers


async def _master_first(turn, what: str) -> bool:
    """On the master of a pool, offer to designate another master first;
    False when the admin stops (or designated, and now picks again)."""
    cache, host = turn.cache, turn.subject
    if host != views.master_ref(cache) or len(cache.table("host")) < 2:
        return True
    answer = await turn.app.push_screen_wait(
        ChoiceModal(
            f"{cache.label('host', host)} is the pool master",
            f"Going on with {what} designates no other master: while this host is away "
            "the pool cannot be managed (its VMs elsewhere keep running). Designate a new "
            "master first?",
            [("designate", "Designate first"), ("go", "Go on"), ("cancel", "Cancel")],
        )
    )
    if answer == "designate":
        await run_form(turn, turn.screen.acts["designate"])
        return False
    return answer == "go"


async def _maintenance(turn) -> None:
    """m: into maintenance (the master designated first if wished, the
    evacuation pre-checked), or out of it for a host already there."""
    cache, host = turn.cache, turn.subject
    rec = cache.get("host", host)
    if hs.in_maintenance(cache, host) or not rec.enabled:
        await run_form(turn, turn.screen.acts["exit_maintenance"])
        return
    if not await _master_first(turn, "maintenance mode"):
        return
    blockers = await _precheck(turn, f"Maintenance mode for {rec.name_label}: pre-check")
    if blockers is None:
        return
    action = await ask(
        turn.app,
        f"Maintenance mode for {rec.name_label}",
        hs.EnterMaintenance.fields(blockers),
        lambda values: hs.EnterMaintenance(cache, host, blockers, values.get("blocked", "refuse")),
    )
    if action is not None:
        await perform(turn.app, action)


def _power(cls, what: str):
    """Reboot or shut down: the master designated first if wished, then where
    the VMs go (pre-checked), then the form."""

    async def steps(turn) -> None:
        conn, host = turn.conn, turn.subject
        if not await _master_first(turn, what.lower()):
            return
        blockers = await _precheck(turn, f"{what} {_name(turn)}: where its VMs go")
        if blockers is None:
            return
        action = await ask(
            turn.app,
            f"{what} {_name(turn)}",
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
            await perform(turn.app, action)

    return steps


async def _join(turn) -> None:
    """The pool's master and its root password first, then the comparison
    with it (a read), then the plan; a comparison or a join that fails brings
    the form back, as typed, saying why."""
    conn = turn.conn

    async def master(w: Wizard) -> None:
        values = await w.form("Join this host to a pool", JoinPool.fields(), lambda v: v)
        address, password = values["address"], values["password"]
        check = await w.read(
            check_join,
            conn,
            address,
            password,
            note="Comparing this host with the pool's master...",
        )
        await w.perform(JoinPool(conn.cache, address, password, values["force"], check))

    await Wizard(turn.app).run([master])


async def _show_time(turn) -> None:
    turn.screen.show_time()


# the Time tab's hint: the keys that change the clock's settings
TIME_KEYS = (("n", "ntp", "NTP servers"), ("z", "timezone", "time zone"))


class HostScreen(AreaScreen):
    AREA = "host"
    # the tabs; t on Time reads its clocks again
    BINDINGS = tab_keys("host", ("d", "details", "Details"), ("t", "time", "Time"))
    ACTS = (
        Act(
            "m",
            "maintenance",
            "Maintenance",
            help="Move the VMs away and take the host out of service (or bring it back)",
            builds=(hs.EnterMaintenance,),
            subject=_host,
            steps=_maintenance,
        ),
        Act(
            "x",
            "exit_maintenance",
            "Exit maint.",
            help="Take the host out of maintenance mode, its VMs back if wished",
            builds=(hs.ExitMaintenance,),
            # offered (in the footer) only for a host in maintenance
            offered=lambda s: s.in_maintenance(),
            subject=_host,
            title=lambda t: f"Exit maintenance mode: {_name(t)}",
            fields=lambda t: hs.ExitMaintenance.fields(t.cache, t.subject),
            build=lambda t: hs.ExitMaintenance(
                t.cache, t.subject, t.values.get("bring_back", "yes")
            ),
        ),
        # a reboot or shutdown starts by moving the VMs away: what the host must allow
        Act(
            "R",
            "reboot",
            "Reboot",
            help="Reboot the host, its VMs moved away or shut down first",
            builds=(hs.RebootHost,),
            operation=("host", "evacuate"),
            subject=_host,
            steps=_power(hs.RebootHost, "Reboot"),
        ),
        Act(
            "S",
            "shutdown",
            "Shut down",
            show=False,
            help="Shut the host down, its VMs moved away or shut down first",
            builds=(hs.ShutdownHost,),
            operation=("host", "evacuate"),
            subject=_host,
            steps=_power(hs.ShutdownHost, "Shut down"),
        ),
        Act(
            "T",
            "toolstack",
            "Toolstack",
            help="Restart the host's toolstack (XAPI); the VMs keep running",
            builds=(hs.RestartToolstack,),
            subject=_host,
            build=lambda t: hs.RestartToolstack(t.cache, t.subject, this_host=t.conn.this_host),
        ),
        Act(
            "n",
            "ntp",
            "NTP",
            help="NTP mode and servers, of this host or every host",
            builds=(hs.SetNtp, hs.NtpInDom0),
            subject=_setting,
            # in dom0 (an older release): whether the NTP daemon runs now
            read=lambda t: _in_xapi(t) or hs.NtpInDom0.running(t.screen.local),
            title=lambda t: f"NTP of {_name(t)}",
            fields=lambda t: (
                hs.SetNtp.fields(t.cache, t.subject)
                if _in_xapi(t)
                else hs.NtpInDom0.fields(t.screen.local)
            ),
            build=lambda t: (
                hs.SetNtp(
                    t.cache, t.subject, t.values["mode"], t.values["servers"], t.values["scope"]
                )
                if _in_xapi(t)
                else hs.NtpInDom0(t.cache, t.subject, t.screen.local, t.values["servers"], t.data)
            ),
            after=_show_time,
        ),
        Act(
            "z",
            "timezone",
            "Time zone",
            show=False,
            help="The time zone, picked from the host's own list",
            builds=(hs.SetTimezone, hs.TimezoneInDom0),
            subject=_setting,
            read=_zones,
            title=lambda t: f"Time zone of {_name(t)}",
            fields=lambda t: (
                hs.SetTimezone.fields(t.cache, t.subject, t.data)
                if _in_xapi(t)
                else hs.TimezoneInDom0.fields(t.screen.local, t.data)
            ),
            build=lambda t: (
                hs.SetTimezone(t.cache, t.subject, t.values["timezone"], t.data, t.values["scope"])
                if _in_xapi(t)
                else hs.TimezoneInDom0(
                    t.cache, t.subject, t.screen.local, t.values["timezone"], t.data
                )
            ),
            after=_show_time,
        ),
        Act(
            "s",
            "ssh",
            "SSH",
            help="SSH on or off, and when it turns itself off",
            builds=(hs.SetSsh, hs.SshInDom0),
            subject=_setting,
            # in dom0 (an older release): whether sshd runs now
            read=lambda t: _in_xapi(t) or hs.SshInDom0.running(t.screen.local),
            title=lambda t: f"SSH on {_name(t)}",
            fields=lambda t: (
                hs.SetSsh.fields(t.cache, t.subject) if _in_xapi(t) else hs.SshInDom0.fields(t.data)
            ),
            build=lambda t: (
                hs.SetSsh(t.cache, t.subject, t.values["ssh"], t.values["timeout"])
                if _in_xapi(t)
                else hs.SshInDom0(t.cache, t.subject, t.screen.local, t.values["ssh"], t.data)
            ),
            after=_reread_dom0,
        ),
        Act(
            "l",
            "syslog",
            "Syslog",
            show=False,
            help="Send the host's logs to a remote syslog server (host or host:port)",
            builds=(hs.SetSyslog,),
            subject=_host,
            title=lambda t: f"Remote syslog of {_name(t)}",
            fields=lambda t: hs.SetSyslog.fields(t.cache, t.subject),
            build=lambda t: hs.SetSyslog(
                t.cache, t.subject, t.values["destination"], t.values["scope"]
            ),
        ),
        Act(
            "e",
            "network_reset",
            "Emergency net reset",
            show=False,
            help="xe-reset-networking in dom0: the network from scratch, VMs force-stopped, a reboot",
            subject=_in_dom0("The emergency network reset", REMOTE_RESET),
            title="Emergency network reset of this host",
            fields=lambda t: ResetNetworking.fields(t.cache, t.subject, t.conn.this_host),
            build=lambda t: ResetNetworking(t.cache, t.subject, t.conn.this_host, t.values),
        ),
        Act(
            "D",
            "designate",
            "Designate master",
            show=False,
            help="Make another host the pool master",
            builds=(DesignateMaster,),
            title="Designate a new pool master",
            fields=lambda t: DesignateMaster.fields(t.cache),
            build=lambda t: DesignateMaster(t.cache, t.values["host"]),
        ),
        Act(
            "E",
            "eject",
            "Eject from pool",
            show=False,
            help="The host leaves the pool (and its local disks are erased)",
            builds=(EjectHost,),
            subject=_host,
            build=lambda t: EjectHost(t.cache, t.subject),
        ),
        Act(
            "J",
            "join",
            "Join a pool",
            show=False,
            help="This host joins a pool, compared with its master first",
            builds=(JoinPool,),
            refuse=lambda s: join_refusal(s.conn.cache, s.conn.this_host),
            steps=_join,
        ),
        Act(
            "k",
            "keymap",
            "Keyboard layout",
            show=False,
            help="The keyboard layout of the host's own console (dom0)",
            subject=_in_dom0("The console keyboard layout"),
            read=_keymaps,
            title="Keyboard layout of this host's console",
            fields=lambda t: SetKeymap.fields(t.subject, t.data),
            build=lambda t: SetKeymap(t.subject, t.values["keymap"], t.data),
        ),
        Act(
            "B",
            "status_report",
            "Status report",
            show=False,
            help="A server status report (xen-bugtool): uploaded, or saved to a file",
            builds=(StatusReport,),
            subject=_host,
            title=lambda t: f"Server status report of {_name(t)}",
            fields=lambda t: StatusReport.fields(_here(t)),
            build=lambda t: StatusReport(
                t.cache,
                t.subject,
                system=t.screen.local if _here(t) else None,
                url=t.values.get("url", ""),
                path=t.values["path"],
                overwrite=t.values["overwrite"] == OVERWRITE[1],
            ),
        ),
    )

    DEFAULT_CSS = """
    HostScreen #hosts { height: 4; }
    HostScreen #host-tabs { height: 1fr; }
    """

    def __init__(self, area) -> None:
        super().__init__(area)
        self.rows: list[hs.HostRow] = []
        self.time_state: hs.TimeState | None = None
        self.ntpd: NtpState | str | None = None  # dom0's NTP daemon (or why it cannot say)
        self.disks: list[Disk] = []  # dom0's disks
        self.sshd: bool | None = None  # dom0's sshd runs (read with the disks)
        self.local: LocalSystem | None = None  # set in dom0: this host's own tools
        self.drawn_host = ""  # the host whose details are drawn

    def compose_body(self) -> ComposeResult:
        yield RowList(HOST_COLUMNS, markable=False, id="hosts")
        with TabbedPanes(id="host-tabs", initial="details"):
            with TabPane("Details", id="details"):
                with VerticalScroll():
                    yield Static(id="host-details")
            with TabPane("Time", id="time"):
                with VerticalScroll():
                    yield Static("Press t to read the clocks.", id="host-time")
                # the line above the footer, which notices leave free (xstui.tcss)
                yield Static("", id="time-hint", classes="screen-hint", markup=False)

    def on_mount(self) -> None:
        if self.conn is not None and self.conn.target.kind == "local":
            self.local = LocalSystem()
            self.read_dom0()
        super().on_mount()
        self.query_one("#hosts", RowList).focus()

    # data -------------------------------------------------------------------
    DRAWN_FROM = frozenset({"host", "host_metrics", "pif", "vm", "pool"})

    @property
    def host(self) -> str:
        """The host shown: the one under the list's cursor (AreaScreen's
        shown_host and next_host move the cursor)."""
        try:
            return self.query_one("#hosts", RowList).cursor_key or ""
        except NoMatches:
            return ""

    @host.setter
    def host(self, ref: str) -> None:
        listing = self.query_one("#hosts", RowList)
        index = next((i for i, (key, _) in enumerate(listing.rows) if key == ref), None)
        if index is not None:
            listing.go_to(index)  # Moved: _host_chosen follows

    def refresh_view(self, classes=None) -> None:
        if not self.drawable(classes):
            return
        self.rows = hs.host_rows(self.conn.cache)
        listing = self.query_one("#hosts", RowList)
        first = not listing.rows
        # the cursor stays on its host; on another if that one left the pool
        listing.set_rows(
            [(r.ref, (r.name, r.role, r.state, r.address, str(r.vms), r.memory)) for r in self.rows]
        )
        listing.styles.height = min(len(self.rows) + 1, 9)  # header + hosts, scrolls beyond
        if first:
            self.host = self.conn.this_host  # the session's host at first
        if self.host != self.drawn_host:
            self._host_chosen()
        else:
            self._draw_details()

    def _draw_details(self) -> None:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column()
        here = self.local is not None and self.host == self.conn.this_host
        for label, value in hs.host_facts(self.conn.cache, self.host):
            if label == "SSH" and value == hs.UNREPORTED and here and self.sshd is not None:
                value = f"{'on' if self.sshd else 'off'} (sshd in dom0)"  # an older release
            grid.add_row(label, Text(value))
        if here:
            for disk in self.disks:
                grid.add_row("Disk", Text(f"{disk.name} {size(disk.size)} {disk.model}"))
        self.query_one("#host-details", Static).update(grid)

    @work(thread=True, exit_on_error=False, group="dom0", description="dom0 disks")
    def read_dom0(self) -> None:
        try:
            disks = self.local.disks()
        except LocalError:
            disks = []  # no lsblk: the line is left out
        try:
            sshd = hs.SshInDom0.running(self.local)
        except LocalError:
            sshd = None  # neither systemctl nor service: not said
        self.app.call_from_thread(self._got_dom0, disks, sshd)

    def _got_dom0(self, disks, sshd: bool | None) -> None:
        self.disks, self.sshd = disks, sshd
        if self.rows:
            self._draw_details()

    @on(RowList.Moved, "#hosts")
    def _host_chosen(self) -> None:
        """Another host is shown: its details, its keys, its clocks."""
        if self.host == self.drawn_host:
            return  # drawn already (refresh_view moved the cursor)
        self.drawn_host = self.host
        self._draw_details()
        self.time_state = None
        if self.ready:
            self.refresh_bindings()  # the keys follow what this host can do
            if self.query_one(TabbedPanes).active == "time":
                self.show_time()

    @on(TabbedPanes.TabActivated)
    def _tab_shown(self, event: TabbedPanes.TabActivated) -> None:
        if event.pane.id == "time":
            self.show_time()

    def targets(self, cls: str) -> list[str]:
        return [self.host] if cls == "host" and self.host else []

    def in_maintenance(self) -> bool:
        """The host under the cursor is in maintenance mode (or disabled)."""
        if self.conn is None or not self.host:
            return True
        rec = self.conn.cache.get("host", self.host)
        return rec is None or not rec.enabled or hs.in_maintenance(self.conn.cache, self.host)

    def action_show_tab(self, tab: str) -> None:
        if tab == "time":
            self.show_time()  # (its clocks read again)
        else:
            self.query_one(TabbedPanes).active = tab

    # time -------------------------------------------------------------------
    def show_time(self) -> None:
        self.query_one(TabbedPanes).active = "time"
        if connected(self.app):
            self._read_time(self.host)

    @work(thread=True, exclusive=True, exit_on_error=False, group="time", description="clocks")
    def _read_time(self, host: str) -> None:
        try:
            state = hs.read_time(self.conn, host)
        except Exception as exc:  # said on screen, in words
            self.app.call_from_thread(notify_error, self.app, exc)
            return
        ntpd = None
        if self.local is not None and host == self.conn.this_host:
            try:
                ntpd = self.local.ntp_state()
            except LocalError as exc:
                ntpd = str(exc)
            if state.timezone == hs.UNREPORTED:  # an older release: dom0 says
                state.timezone = self.local.timezone() or state.timezone
        self.app.call_from_thread(self._draw_time, state, ntpd)

    def _draw_time(self, st: hs.TimeState, ntpd=None) -> None:
        self.time_state, self.ntpd = st, ntpd
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
            grid.add_row("Difference", Text(hs.skew_words(st.skew)))
        grid.add_row("Time zone", Text(st.timezone or "-"))
        from_dom0 = isinstance(self.ntpd, NtpState)  # says more than an older API can
        if not (from_dom0 and st.mode == hs.UNREPORTED):
            grid.add_row("NTP mode", Text(st.mode))
        if st.synchronised is None:
            if not from_dom0:
                grid.add_row("Synchronised", Text(st.unsupported))
        else:
            grid.add_row(
                "Synchronised",
                Text("yes" if st.synchronised else "NO", style="" if st.synchronised else "bold"),
            )
            for server, status in sorted(st.server_status.items()):
                grid.add_row("  server", Text(f"{server}: {status}"))
        if isinstance(self.ntpd, str):
            grid.add_row("NTP daemon", Text(self.ntpd))
        elif self.ntpd is not None:
            c = self.ntpd
            grid.add_row(
                c.daemon,
                Text(
                    ("synchronised" if c.synchronised else "NOT synchronised")
                    + f", last offset {c.offset}"
                ),
            )
            for server, status in sorted(c.sources.items()):
                grid.add_row("  source", Text(f"{server}: {status}"))
        keys = [f"{k}: {what}" for k, name, what in TIME_KEYS if not self.refusal(name)]
        self.query_one("#host-time", Static).update(grid)
        hint = self.query_one("#time-hint", Static)
        hint.update(" - ".join([*keys, "t: read again"]))  # only keys that work here
