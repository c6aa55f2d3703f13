"""The Status screen: this host, the pool, storage and health at a glance,
and the hosts' load (CPU, memory, network, disk now and a 10-minute sparkline,
from XAPI's RRDs, read every 5 s while that tab is shown)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from xstui.areas import POOL_SIZED, health_probes, health_rules, see
from xstui.services.host.clock import PROBE_SECONDS
from xstui.services.host.local import XAPI_PEM, LocalSystem
from xstui.services.metrics import perfmon
from xstui.services.metrics.mail import MailConfig, SetMailAlerts
from xstui.services.metrics.model import cpu_text
from xstui.services.status import Status, build_status
from xstui.services.status.identity import RenameHost
from xstui.services.values import duration, percent, size
from xstui.terminal.driver import output_queued, wait_output_written
from xstui.widgets.rowlist import RowList
from xstui.widgets.sparkline import sparkline
from xstui.widgets.tabbed import TabbedPanes, TabPane
from xstui.xapi import views
from xstui.xapi.tls import live_fingerprint, spaced

from .act import Act
from .base import AreaScreen, tab_keys
from .sampling import SPARK, Sampling, alarms_act, graphs_act

# Symbols as well as words: legible without colour (BMC consoles, TERM=linux).
SEVERITY_MARK = {"critical": "■ critical", "warning": "! warning", "info": "i info"}


# the pool's hosts and its SRs, at 80 columns (read, not acted on: nothing is marked)
POOL_HOST_COLUMNS = (
    ("Host", 15),
    ("Role", 10),
    ("State", 11),
    ("Address", 15),
    ("Memory used", 16),
    ("VMs", 3),
)
SR_COLUMNS = (
    ("SR", 15),
    ("Type", 9),
    ("Scope", 12),
    ("Prov.", 5),
    ("Size", 8),
    ("Used", 11),
    ("Alloc.", 8),
)
LOAD_COLUMNS = (
    ("Host", 15),
    ("CPU", 4),
    ("Memory used", 14),
    ("Net/s", 8),
    ("Disk/s", 8),
    ("CPU, 10 min", SPARK),
)
HEAD_WIDTH = 78  # the Load tab's head at 80 columns, less its padding
FULL = 90  # percent used from which an SR is marked "!"


def bar(used: float, total: float, width: int = 10) -> str:
    filled = round(width * used / total) if total else 0
    return "█" * filled + "░" * (width - filled)


def kv_table(rows: list[tuple[str, str | Text]]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(key, value if isinstance(value, Text) else Text(str(value)))
    return table


def _load_host(turn) -> str | None:
    key = turn.screen.query_one("#load-hosts", RowList).cursor_key
    return key if key and turn.cache.get("host", key) is not None else None


def _on_load(screen) -> str:
    """The Load tab's keys act on its rows (not tab=, which would make every
    tab's keys tab-bound)."""
    return "" if screen.tab == "load" else "on the Load tab (l)"


def _pool(turn):
    return views.pool(turn.cache)


def _read_mail(turn) -> MailConfig:
    """The pool's mail alerts now (its other_config, read at once)."""
    return MailConfig.of(turn.conn.call("pool.get_other_config", turn.subject.ref))


def _this_host(turn):
    """The host this console is logged in to (the one Status shows)."""
    return turn.cache.get("host", turn.conn.this_host)


FIRST_FRAME_WAIT = 1.0  # seconds the probes wait at most for the first frame to reach the tty
WIDE = 110  # columns from which the host cards sit two abreast


class HostCard(Static):
    """The Host tab's first card. Once the screen has the pool
    (``with_pool``), the first frame that paints it and goes to the
    terminal calls ``painted`` after it. A pass that paints it renders its
    lines and hands the frame to the driver in the same call (the next call
    on this card's queue sees the driver's count grown); a pass whose frame
    Textual drops (a batch of updates in progress) leaves it waiting."""

    def __init__(self, painted, **kwargs) -> None:
        super().__init__(**kwargs)
        self._painted = painted
        self.with_pool = False

    def render_lines(self, crop):
        lines = super().render_lines(crop)
        if self.with_pool and self._painted is not None:
            self.call_later(self._sent, output_queued(self.app))
        return lines

    def _sent(self, before: int | None) -> None:
        if self._painted is not None and (before is None or output_queued(self.app) != before):
            painted, self._painted = self._painted, None
            painted()


class StatusScreen(AreaScreen):
    AREA = "status"
    SUMMARISED = POOL_SIZED  # the VMs: counts, and dom0's memory
    BINDINGS = [
        *tab_keys(
            "status",
            ("h", "host", "Host"),
            ("p", "pool", "Pool"),
            ("s", "storage", "Storage"),
            ("a", "health", "Health"),
            ("l", "load", "Load"),
        ),
    ]
    ACTS = (
        graphs_act(
            "host_graphs",
            "host",
            _load_host,
            "No host under the cursor.",
            lambda t: (t.subject, t.cache.label("host", t.subject)),
            lambda screen: screen.sampling,
            refuse=_on_load,
        ),
        alarms_act(
            "w",
            "host_alarms",
            "host",
            perfmon.SetHostAlarms,
            _load_host,
            "No host under the cursor.",
            show=False,  # the Load tab's head says it
            refuse=_on_load,
            help=f"Host CPU, network and free memory alarms (perfmon); SR I/O: {see('storage', 'w')}",
        ),
        Act(
            "e",
            "mail_alerts",
            "Mail alerts",
            show=False,  # the Load tab's head says it
            refuse=_on_load,
            help="Where the pool mails its alerts: address, mail server, least priority",
            builds=(SetMailAlerts,),
            subject=_pool,
            missing="The pool is not read yet.",
            read=_read_mail,
            title=lambda t: (
                "Mail alerts of the pool" + ("" if t.data.destination else " (none set)")
            ),
            fields=lambda t: SetMailAlerts.fields(t.data),
            build=lambda t: SetMailAlerts(t.subject.ref, t.subject.uuid, t.data, t.values),
        ),
        Act(
            "n",
            "rename_host",
            "Rename host",
            help="The name label of this host (not its DNS hostname)",
            builds=(RenameHost,),
            subject=_this_host,
            title=lambda t: f"Rename host {t.subject.name_label}",
            fields=lambda t: RenameHost.fields(t.subject.name_label),
            build=lambda t: RenameHost(
                t.subject.ref, t.subject.uuid, t.subject.name_label, t.values["name"]
            ),
        ),
        Act(
            "f",
            "refresh_fingerprint",
            "Fingerprint",
            id="status.fingerprint",
            show=False,
            help="Read the host's TLS certificate fingerprint again",
            view=lambda s: s.read_fingerprint(said=True),
        ),
    )

    def __init__(self, area) -> None:
        super().__init__(area)
        self.status: Status | None = None
        self.fingerprint, self.fingerprint_source = "", ""
        self.dom0 = None
        self.probed: list | None = None  # flags the areas' health probes found last
        self.probe_started = False
        self.drawn: dict[str, Status] = {}  # tab -> the Status it shows
        self.load_rows: dict = {}  # host ref -> its Load row (xstui.services.metrics.Row)
        self.sampling = Sampling(self, "load", self.draw_load)

    def compose_body(self) -> ComposeResult:
        with TabbedPanes(id="status-tabs", initial="host"):
            with TabPane("Host", id="host"):
                with VerticalScroll(id="host-grid"):  # the cards, in a grid that scrolls
                    yield HostCard(self._first_frame, id="card-identity", classes="card")
                    yield Static(id="card-management", classes="card")
                    yield Static(id="card-capacity", classes="card")
                    yield Static(id="card-security", classes="card")
            with TabPane("Pool", id="pool"):
                yield Static(id="pool-summary")
                yield RowList(POOL_HOST_COLUMNS, markable=False, id="pool-hosts")
            with TabPane("Storage", id="storage"):
                yield RowList(SR_COLUMNS, markable=False, id="srs")
            with TabPane("Health", id="health"):
                with VerticalScroll():
                    yield Static(id="health-list")
            with TabPane("Load", id="load"):
                yield Static(id="load-head")
                yield RowList(LOAD_COLUMNS, markable=False, id="load-hosts")
                yield Static(id="load-detail")

    def on_resize(self, event: events.Resize) -> None:
        self._fit_cards(event.size.width)

    def _fit_cards(self, width: int) -> None:
        """The host cards two abreast on a wide terminal."""
        self.query_one("#host-grid").styles.grid_size_columns = 2 if width >= WIDE else 1

    def on_mount(self) -> None:
        self._fit_cards(self.app.size.width)
        for card, title in (
            ("identity", "Host"),
            ("management", "Management interface"),
            ("capacity", "Capacity"),
            ("security", "Security"),
        ):
            self.query_one(f"#card-{card}").border_title = title
        super().on_mount()
        # focus the content, not the tab bar: arrows and Page keys scroll it
        # at once (focus() waits for the app's queue): its styles are in the first frame
        self.set_focus(self.query_one("#host VerticalScroll"), scroll_visible=False)
        self.read_fingerprint()
        if self.conn and self.conn.target.kind == "local":
            self.sample_dom0()
            self.dom0_timer = self.set_interval(5, self.sample_dom0)
        # health that needs calls: at most once a minute, only while shown (the
        # first round as soon as the pool is loaded: see refresh_view)
        self.probe_timer = self.set_interval(PROBE_SECONDS, self.probe_health)
        self.sampling.mount()

    def on_screen_suspend(self) -> None:
        if hasattr(self, "dom0_timer"):
            self.dom0_timer.pause()
        self.probe_timer.pause()
        self.sampling.hidden()

    def on_screen_resume(self) -> None:
        if hasattr(self, "dom0_timer"):
            self.dom0_timer.resume()
        self.probe_timer.resume()
        super().on_screen_resume()
        self.sampling.shown()

    def _first_frame(self) -> None:
        """The first frame with the pool, painted: the probes, after it is on the tty."""
        self.probe_health(True)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="probes",
        description="health probes",
    )
    def probe_health(self, first: bool = False) -> None:
        conn = self.conn
        if conn is None:
            return
        if first:
            wait_output_written(self.app, FIRST_FRAME_WAIT)
        flags = None
        try:
            if conn.state == "connected":
                flags = [flag for probe in health_probes() for flag in probe(conn)]
        finally:
            self.app.call_from_thread(self._got_probes, flags)

    def _got_probes(self, flags) -> None:
        """The probes' flags (None: not asked, or they failed) drawn; the
        first screen, so completed and painted, lets the rest be read."""
        if flags is not None:
            self.probed = flags
            self.refresh_view()
        if self.conn is not None and self.conn.first_drawn is not None:
            self.call_after_refresh(self.conn.first_drawn.set)

    # data ------------------------------------------------------------------
    def refresh_view(self, classes=None) -> None:
        conn = self.conn
        if conn is None or not conn.cache.table("host"):
            self.query_one("#card-identity", Static).update("Loading the pool...")
            return
        self.status = build_status(
            conn.cache,
            conn.this_host,
            rules=health_rules(),
            fingerprint=self.fingerprint,
            fingerprint_source=self.fingerprint_source,
            pinned=conn.fingerprints.get(conn.target.trust_key, "")
            if conn.target.scheme == "https"
            else "",
            dom0=self.dom0,
            probed=self.probed,
        )
        self._draw_health_label(self.status)
        tab = self.query_one(TabbedPanes).active or "host"
        self._draw_tab(tab)
        if not self.probe_started:
            self.probe_started = True
            # the probes' calls once this is painted and on the tty (the first
            # frame waits for no call but the pool's first part); their
            # answers complete it; the rest of the pool once their flags are known
            if tab == "host":
                self.query_one(HostCard).with_pool = True
            else:  # another tab already: no card to wait for
                self.probe_health()

    def _draw_tab(self, tab: str) -> None:
        """Only the visible tab is drawn, the others when they are shown; and
        only when what it shows changed: a tab shown again, or a change to
        what it does not show (another client renaming VMs), draws nothing."""
        if self.status is None:
            return
        if tab == "load":  # live figures, drawn from their own sampling
            self.draw_load()
            return
        if self.drawn.get(tab) == self.status:
            return
        self.drawn[tab] = self.status
        {
            "host": self._draw_host,
            "pool": self._draw_pool,
            "storage": self._draw_storage,
            "health": self._draw_health,
        }[tab](self.status)

    @on(TabbedPanes.TabActivated)
    def _tab_shown(self, event: TabbedPanes.TabActivated) -> None:
        self._draw_tab(event.pane.id or "host")
        self.sampling.shown()
        # the tab's content takes the keys (Down, PageDown, End scroll it): the
        # widget focused before was on the tab now hidden, and focus went with it
        content = next((w for w in event.pane.query("*") if w.focusable), None)
        if content is not None:
            content.focus()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="fingerprint",
        description="TLS fingerprint",
    )
    def read_fingerprint(self, said: bool = False) -> None:
        """``said``: the key pressed, which says what it read, or why nothing."""
        pem = LocalSystem().path(XAPI_PEM)  # read in dom0 only (a local target)
        fingerprint, source = live_fingerprint(self.conn.target, str(pem))
        if not fingerprint:  # no handshake (plain HTTP): what the host serves, as F6 shows it
            from xstui.services.security.certificates import served_fingerprint

            conn = self.conn
            conn.cache.wait_for(lambda: conn.cache.ready(("host", "certificate")), 30)
            fingerprint, source = served_fingerprint(conn, conn.this_host)
        self.app.call_from_thread(self._got_fingerprint, fingerprint, source, said)

    def _got_fingerprint(self, fingerprint: str, source: str, said: bool = False) -> None:
        self.fingerprint, self.fingerprint_source = fingerprint, source
        self.refresh_view()
        if not said:
            return
        target = self.conn.target
        if fingerprint:
            self.app.notify(f"TLS fingerprint read again ({source}).", timeout=4)
        elif target.kind == "remote" and target.scheme != "https":
            self.app.notify(
                "Fingerprint: nothing to read over plain HTTP (no TLS handshake); the host's "
                "certificate record is shown when it has one.",
                severity="warning",
                timeout=8,
            )
        else:
            where = "in dom0's certificate file" if target.kind == "local" else "from the host"
            self.app.notify(f"Fingerprint: none could be read {where}.", severity="warning")

    @work(thread=True, exclusive=True, exit_on_error=False, group="dom0", description="dom0 usage")
    def sample_dom0(self) -> None:
        from xstui.services.status.dom0 import dom0_status

        dom0 = dom0_status(LocalSystem())
        self.app.call_from_thread(self._got_dom0, dom0)

    def _got_dom0(self, dom0) -> None:
        self.dom0 = dom0
        self.refresh_view()

    # drawing ---------------------------------------------------------------
    def _draw_host(self, st: Status) -> None:
        h = st.host
        role = h.role
        if h.role == "member":
            role = f"member of {h.master_name} ({h.master_address})"
        self.query_one("#card-identity", Static).update(
            kv_table(
                [
                    ("Name", h.name),
                    ("Hostname", h.hostname),
                    ("Role", role),
                    ("State", Text(h.state, style="" if h.state == "enabled" else "bold")),
                    ("Product", f"{h.product} ({h.build})" if h.build else h.product),
                    ("XAPI", f"{h.xapi_version}, API {h.api_version}"),
                    (
                        "Uptime",
                        duration(h.uptime_seconds) if h.uptime_seconds is not None else "unknown",
                    ),
                    ("Network", h.network_backend or "unknown"),
                ]
            )
        )
        m = h.management
        self.query_one("#card-management", Static).update(
            kv_table(
                [
                    ("Device", f"{m.device} ({m.mac})"),
                    ("Mode", m.mode),
                    ("IP", f"{m.ip} / {m.netmask}" if m.ip else "none"),
                    ("Gateway", m.gateway or "none"),
                    ("DNS", ", ".join(m.dns) or "none"),
                    ("Network", m.network),
                ]
            )
            if m
            else Text("No management interface is configured on this host.")
        )
        used = h.memory_total - h.memory_free
        reading = "reading the VMs..."
        self.query_one("#card-capacity", Static).update(
            kv_table(
                [
                    (
                        "Memory",
                        f"{bar(used, h.memory_total)} {size(used)} of {size(h.memory_total)} used",
                    ),
                    ("Free", size(h.memory_free)),
                    ("Xen overhead", size(h.memory_overhead)),
                    ("dom0", size(h.dom0_memory) if st.vms_loaded else reading),
                    ("CPUs", f"{h.cpu_count} x {h.cpu_model}" if h.cpu_model else str(h.cpu_count)),
                    (
                        "VMs running",
                        f"{h.vms_running} here, {st.pool.vms_running} of {st.pool.vms_total} in the pool"
                        if st.vms_loaded
                        else reading,
                    ),
                ]
            )
        )
        rows: list[tuple[str, str | Text]] = [
            ("TLS SHA-256", spaced(st.tls_fingerprint) if st.tls_fingerprint else "unknown"),
            ("Source", st.tls_fingerprint_source or "-"),
        ]
        if st.pinned_fingerprint and st.tls_fingerprint:
            same = st.pinned_fingerprint.upper() == st.tls_fingerprint.upper()
            rows.append(
                (
                    "Pinned",
                    Text(
                        "matches" if same else f"DIFFERS: pinned {spaced(st.pinned_fingerprint)}",
                        style="" if same else "bold",
                    ),
                )
            )
        if st.dom0:
            d = st.dom0
            rows += [
                (
                    "dom0 /",
                    f"{bar(d.root_used, d.root_total)} {percent(d.root_used, d.root_total):.0f}% of {size(d.root_total)}",
                ),
                ("/var/log", f"{size(d.var_log_bytes)} in logs"),
                ("Load", " ".join(f"{x:.2f}" for x in d.load)),
            ]
            rows += [(f"SSH {k}", v) for k, v in d.ssh_fingerprints.items()]
        self.query_one("#card-security", Static).update(kv_table(rows))

    def _draw_pool(self, st: Status) -> None:
        p = st.pool
        ha = (
            (
                f"{views.ha_word(True)}, tolerates {p.ha_failures_to_tolerate} failure(s), "
                f"plan for {p.ha_plan_exists_for}"
                + (", overcommitted" if p.ha_overcommitted else "")
            )
            if p.ha_enabled
            else views.ha_word(False)
        )
        self.query_one("#pool-summary", Static).update(
            kv_table(
                [
                    ("Pool", f"{p.name or '(unnamed)'}, master {p.master_name}"),
                    ("Hosts", f"{p.live_hosts} of {p.host_count} live"),
                    ("HA", ha),
                    ("Default SR", p.default_sr or "none"),
                ]
            )
        )
        rows = []
        for h in p.hosts:
            used = percent(h.memory_total - h.memory_free, h.memory_total)
            memory = f"{used:.0f}% of {size(h.memory_total)}"
            vms = str(h.vms_running) if st.vms_loaded else "..."
            rows.append((h.ref, (h.name, h.role, h.state, h.address, memory, vms)))
        self.query_one("#pool-hosts", RowList).set_rows(rows)

    def draw_load(self) -> None:
        """Each host's figures now and its CPU over 10 minutes; a host with
        no data says why."""
        metrics = self.sampling.metrics
        head = self.query_one("#load-head", Static)
        if metrics is None:
            head.update("Reading the hosts' performance data...")
            return
        rows = metrics.hosts(self.conn.cache)
        missing = [r for r in rows if r.reason]
        said = f"{len(rows) - len(missing)} of {len(rows)} hosts report, every 5 s" + (
            f"; no data from {', '.join(r.name for r in missing)}" if missing else ""
        )
        keys = "; Enter graphs, w alarms, e mail"
        # the keys when they fit on the line (the palette has them too): which
        # hosts are silent comes first
        head.update(Text(said + keys if len(said + keys) <= HEAD_WIDTH else said))
        self.load_rows = {r.ref: r for r in rows}
        cells = []
        for r in rows:
            f = r.figures
            if r.reason:
                cells.append((r.ref, (r.name, "-", "-", "-", "-", "no data")))
                continue
            memory = (
                f"{percent(f.memory, f.memory_total):.0f}% of {size(f.memory_total)}"
                if f.memory is not None and f.memory_total
                else "-"
            )
            cells.append(
                (
                    r.ref,
                    (
                        r.name,
                        cpu_text(f.cpu),
                        memory,
                        "-" if f.net is None else size(f.net),
                        "-" if f.disk is None else size(f.disk),
                        sparkline(
                            f.history.get("cpu", []), SPARK, top=1.0, glyphs=self.sampling.glyphs
                        ),
                    ),
                )
            )
        self.query_one("#load-hosts", RowList).set_rows(cells)
        self._draw_load_detail()

    @on(RowList.Moved, "#load-hosts")
    def _draw_load_detail(self) -> None:
        key = self.query_one("#load-hosts", RowList).cursor_key
        row = self.load_rows.get(key or "")
        if row is None:
            words = ""
        elif row.reason:
            words = f"{row.name}: no data, {row.reason}"
        else:
            f = row.figures
            spark = sparkline(
                f.history.get("memory", []), SPARK, top=f.memory_total, glyphs=self.sampling.glyphs
            )
            words = f"{row.name}: memory used over 10 min {spark}"
        self.query_one("#load-detail", Static).update(Text(words))

    def _draw_storage(self, st: Status) -> None:
        rows = []
        for sr in st.storage:
            # detached on some host: said in Scope, not after the name (cut at 80
            # columns); the Health tab says on which host
            scope = "shared" if sr.shared else f"local {sr.host}"
            scope = scope if sr.attached else "detached"
            # nearly full: a mark as well as the bar (no colour, no bold on the console)
            used = f"{bar(sr.used, sr.size, 5)} {sr.used_percent:3.0f}%" + (
                "!" if sr.used_percent >= FULL else ""
            )
            alloc = size(sr.allocated) if sr.provisioning == "thin" else "-"
            rows.append(
                (sr.ref, (sr.name, sr.type, scope, sr.provisioning, size(sr.size), used, alloc))
            )
        self.query_one("#srs", RowList).set_rows(rows)

    def _draw_health(self, st: Status) -> None:
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column()
        for flag in st.health:
            mark = SEVERITY_MARK[flag.severity]
            table.add_row(
                Text(mark, style="bold" if flag.severity != "info" else ""),
                flag.area,
                Text(flag.text),
            )
        self.query_one("#health-list", Static).update(
            table if st.health else Text("No problems found.")
        )

    def _draw_health_label(self, st: Status) -> None:
        self.set_tab_count("health", "Health", len(st.health))

    # actions ---------------------------------------------------------------
    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedPanes).active = tab
