"""The fleet overview: every saved pool on one screen, worst first (F12 from
anywhere). Enter opens a pool in the console as the connect screen does; n
opens the next pool with a finding (F11 does from anywhere); r asks a pool not asked (no answer, no
password, refused) again now; Esc (or F12) goes back to the pool in the console. Its keys are declared as data (ACTS); the rows come from
:mod:`xstui.services.fleet` (light connections, no Textual there)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from xstui.services.fleet.overview import (
    COLUMNS,
    cells,
    detail,
    next_problem,
    no_next_problem,
    summary,
)
from xstui.services.fleet.passwords import NoPassword, Passwords
from xstui.services.fleet.targets import saved_fleet
from xstui.services.fleet.watch import FleetWatch
from xstui.widgets.footer import KeysFooter
from xstui.widgets.rowlist import RowList
from xstui.xapi.targets import parse_target

from .act import Act
from .connect import ConnectScreen


def start_fleet_watch(app) -> FleetWatch | None:
    """Light connections to every pool of the fleet file the console was
    started with, else to every saved pool (None when none is saved)."""
    pools = app.fleet_pools or saved_fleet(app.config)
    if not pools:
        return None
    for pool in pools:  # a fleet file's pins, for the connect screen too (not over the config's)
        if pool.fingerprint:
            key = parse_target(pool.url).trust_key
            app.config.fingerprints.setdefault(key, pool.fingerprint)
    watch = FleetWatch(
        pools,
        Passwords(interactive=False),
        app.config.fingerprints,
        baseline=app.fleet_baseline,
    )
    watch.start()
    return watch


def wants_fleet(config) -> bool:
    """The overview comes first when more than one pool is saved."""
    return len(saved_fleet(config)) > 1


@dataclass
class FleetChanged(Message):
    """Some pool's row changed (from a connection's thread); a burst is one."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FleetChanged)


def in_focus(app) -> str:
    """The pool the console shows (its name in the fleet), or ''."""
    conn = app.connection
    if conn is None or app.fleet is None:
        return ""
    return next((p.name for p in app.fleet.pools.values() if p.url == conn.target.url), "")


def open_pool(app, name: str | None) -> None:
    """Open a pool of the fleet in the console (the one there: back to it)."""
    if not name:
        return
    if name == in_focus(app):
        app.show_pool()
        return
    watch = app.fleet
    pool = watch.pools[name]
    password = watch.password.get(name, "")
    if not password:
        try:
            password = watch.passwords.for_pool(pool)
        except NoPassword:
            password = ""  # the connect screen asks for it
    app.open_pool(pool.url, pool.user, password)


def next_problem_pool(app) -> None:
    """From anywhere (F11): straight to the next pool with a finding after
    the one in the console, in the overview's order, said in a notice."""
    if app.fleet is None:
        app.fleet = start_fleet_watch(app)
    if app.fleet is None:
        app.notify("No saved pools: the fleet is the targets you connected to.", timeout=6)
        return
    rows = app.fleet.worst_first()
    row = next_problem(rows, in_focus(app))
    if row is None:
        app.notify(no_next_problem(rows), timeout=6)
        return
    app.notify(f"Next pool with a finding: {detail(row)}", timeout=8)
    open_pool(app, row.name)


def _open(screen: FleetScreen) -> None:
    screen.open(screen.query_one(RowList).cursor_key)


def _next_problem(screen: FleetScreen) -> None:
    row = next_problem(screen.rows, in_focus(screen.app) or screen.query_one(RowList).cursor_key)
    if row is None:
        screen.app.notify(no_next_problem(screen.rows), timeout=6)
        return
    screen.open(row.name)


def _row(screen: FleetScreen):
    key = screen.query_one(RowList).cursor_key
    return next((r for r in screen.rows if r.name == key), None)


def _retry_refusal(screen: FleetScreen) -> str:
    row = _row(screen)
    if row is None:
        return "no pool under the cursor"
    return "" if row.not_asked else f"{row.name} answers (r is for a pool not asked)"


def _retry(screen: FleetScreen) -> None:
    row = _row(screen)
    screen.app.notify(f"Asking {row.name} again ({row.state} until now)...", timeout=4)
    screen.app.fleet.retry(row.name)


def _back_refusal(screen: FleetScreen) -> str:
    return "" if screen.app.connection is not None else "no pool is open yet: Enter opens one"


class FleetScreen(Screen):
    ACTS = (
        Act("enter", "open", "Open", "this pool in the console", view=_open, connection=False),
        Act(
            "n",
            "next_problem",
            "Next finding",
            "open the next pool with a finding, worst first (one that does not answer: Enter)",
            view=_next_problem,
            connection=False,
        ),
        Act(
            "r",
            "retry",
            "Retry",
            "ask a pool not asked (no answer, no password, refused) again now",
            view=_retry,
            refuse=_retry_refusal,
            connection=False,
        ),
        Act(
            "escape",
            "back",
            "Back",
            "to the pool in the console (F12 too)",
            view=lambda screen: screen.app.show_pool(),
            refuse=_back_refusal,
            connection=False,
        ),
    )
    acts = {a.name: a for a in ACTS}
    BINDINGS = [
        Binding(a.key, f"act('{a.name}')", a.label, id=f"fleet.{a.name}", show=a.show) for a in ACTS
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows = []
        self.cursor_moved = False  # by the admin: until then it stays on the worst pool

    def compose(self) -> ComposeResult:
        yield Static("", id="fleet-title", markup=False)
        yield RowList(COLUMNS, markable=False, id="fleet-pools")
        # the row's detail, which notices never cover (widgets/notice.KEEP_CLEAR)
        yield Static("", id="fleet-detail", classes="notice-floor", markup=False)
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        watch = self.app.fleet
        watch.on_change = lambda name: self.post_message(FleetChanged())
        self.redraw()
        self.query_one(RowList).focus()

    def on_fleet_changed(self, message: FleetChanged) -> None:
        self.redraw()

    def on_screen_resume(self) -> None:
        self.redraw()  # the pool in the console may have changed meanwhile

    def on_row_list_moved(self, message: RowList.Moved) -> None:
        self.cursor_moved = True
        self.show_detail()
        self.refresh_bindings()  # r follows the pool under the cursor

    def refusal(self, name: str) -> str:
        act = self.acts[name]
        return act.refuse(self) if act.refuse is not None else ""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "act" and parameters and self.refusal(str(parameters[0])):
            return None  # shown dimmed; its key says why (on_key)
        return True

    def on_key(self, event: events.Key) -> None:
        """A dimmed key says why instead of doing nothing."""
        for act in self.ACTS:
            binding = next(b for b in self.BINDINGS if b.id == f"fleet.{act.name}")
            reason = self.refusal(act.name) if event.key in self.app.keys_of(binding) else ""
            if reason:
                event.stop()
                self.app.notify(f"{act.label}: {reason}.", severity="warning", timeout=6)
                return

    def action_act(self, name: str) -> None:
        self.acts[name].view(self)

    def redraw(self) -> None:
        self.rows = self.app.fleet.worst_first()
        title = f"Fleet: {len(self.rows)} pools, {summary(self.rows)}"
        focus = in_focus(self.app)
        if focus:
            title += f"; in the console: {focus}"
        self.query_one("#fleet-title", Static).update(Text(title))
        rowlist = self.query_one(RowList)
        rowlist.set_rows([(r.name, cells(r)) for r in self.rows])
        if not self.cursor_moved:
            rowlist.cursor = 0  # (no Moved message: the admin did not move it)
            rowlist.refresh()
        self.show_detail()
        self.refresh_bindings()

    def show_detail(self) -> None:
        key = self.query_one(RowList).cursor_key
        row = next((r for r in self.rows if r.name == key), None)
        self.query_one("#fleet-detail", Static).update(Text(detail(row) if row else ""))

    def open(self, name: str | None) -> None:
        open_pool(self.app, name)


class FleetConnectScreen(ConnectScreen):
    """The connect screen the fleet opens pools through: Esc goes back to the
    fleet instead of quitting."""

    BINDINGS = [Binding("escape", "app.show_fleet", "Fleet", id="connect.fleet")]
    BACK, BACK_ACTION = "Cancel", "app.show_fleet"
