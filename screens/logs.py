"""The Logs screen. Alerts tab: the pool's XAPI messages, newest first, the
selected one in full; dismiss. Logs tab (dom0): the host's key logs from
their end, follow, search, next error, what fills /var/log, and the
rotation profile (its diff is the plan)."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Input, Static

from xstui.areas import see
from xstui.services import logs
from xstui.services.host.local import LocalSystem
from xstui.services.values import size
from xstui.widgets.notice import notify_error
from xstui.widgets.rowlist import RowList
from xstui.widgets.tabbed import TabbedPanes, TabPane
from xstui.widgets.textfield import TextField

from .act import Act
from .base import AreaScreen, tab_keys

ALERT_COLUMNS = [("When", 16), ("Severity", 8), ("Alert", 28), ("About", 21)]
LOG_COLUMNS = [("", 76)]
FOLLOW_SECONDS = 1.0
MAIL_KEYS = see("status", "l", "e", tab="Load")  # where the pool's mail alerts are set
REMOTE = (
    "The host's logs are files in its dom0: run xstui local there to read them. From here, "
    f"{see('host', 'l')} sends them to a remote syslog server."
)


def _alert(turn) -> str:
    """The alert under the cursor ('' for none: the action says to choose one)."""
    return turn.screen.query_one("#alert-list", RowList).cursor_key or ""


def _log_key(key: str, name: str, label: str, help: str = "", **kw) -> Act:
    """A key of the Logs tab: dom0's log files, read in place (a view)."""
    return Act(key, name, label, help=help, tab="files", dom0=True, **kw)


class LogsScreen(AreaScreen):
    AREA = "logs"
    BINDINGS = [
        *tab_keys("logs", ("a", "alerts", "Alerts"), ("g", "files", "Logs")),
    ]
    ACTS = (
        Act(
            "x",
            "dismiss_alert",
            "Dismiss",
            id="logs.dismiss",
            tab="alerts",
            help="Remove the alert under the cursor, for every client",
            builds=(logs.DismissAlert,),
            build=lambda t: logs.DismissAlert(t.cache, _alert(t)),
        ),
        _log_key(
            "l", "next_log", "Next log", "The next file under /var/log", view=lambda s: s.next_log()
        ),
        _log_key("slash", "search", "Search", "Find a text in the log", view=lambda s: s.search()),
        _log_key(
            "n",
            "next_match",
            "Next match",
            "The next line found",
            show=False,
            view=lambda s: s.next_match(),
        ),
        _log_key(
            "e",
            "next_error",
            "Next error",
            "The next line with an error",
            view=lambda s: s.next_error(),
        ),
        _log_key("f", "follow", "Follow", "Show new lines as they come", view=lambda s: s.follow()),
        _log_key(
            "u",
            "usage",
            "Usage",
            "What fills /var/log",
            show=False,
            view=lambda s: s.show_usage(),
        ),
        _log_key(
            "p",
            "profile",
            "Rotation",
            "Rotate daily or past 20M, keep 7, compressed (the diff is the plan)",
            show=False,
            build=lambda t: logs.ApplyLogProfile(LocalSystem()),
        ),
    )
    DRAWN_FROM = frozenset({"message", "pool"})

    def __init__(self, area) -> None:
        super().__init__(area)
        self.log_name = ""
        self.lines: list[str] = []
        self.pattern = ""
        self.following = False
        self._log_bytes = -1

    def compose_body(self) -> ComposeResult:
        with TabbedPanes(initial="alerts"):
            with TabPane("Alerts", id="alerts"):
                yield Static("", id="alert-mail")
                yield RowList(ALERT_COLUMNS, id="alert-list", markable=False)
                yield Static("", id="alert-body")
            with TabPane("Logs (dom0)", id="files"):
                yield Static("", id="log-head")
                yield RowList(LOG_COLUMNS, id="log-lines", markable=False)
                yield TextField(placeholder="search, Enter", id="log-search", compact=True)
                yield Static("", id="log-line")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#log-search", Input).display = False
        self.query_one("#alert-list", RowList).focus()
        self.set_interval(FOLLOW_SECONDS, self._follow_tick)

    @property
    def local(self) -> bool:
        return self.conn is not None and self.conn.target.kind == "local"

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedPanes).active = tab
        self.query_one("#log-lines" if tab == "files" else "#alert-list", RowList).focus()
        if tab == "files" and not self.log_name:
            self.next_log()  # from elsewhere than dom0, the tab says where the logs are

    # alerts ------------------------------------------------------------------------
    def refresh_view(self, classes=None) -> None:
        if not self.drawable(classes):
            return
        rows = logs.alerts(self.conn.cache)
        self.query_one("#alert-list", RowList).set_rows(
            [(a.ref, (a.when, a.severity, a.name, a.about)) for a in rows]
        )
        self._draw_mail()
        self._draw_alert()

    def _draw_mail(self) -> None:
        """Where alerts go, read-only, with the keys that change it."""
        words, mailed = logs.mail_words(self.conn.cache)
        text = Text()
        text.append("Mail: ", style="bold")
        text.append(words[0].upper() + words[1:])  # the pool's strings: data, never markup
        text.append(f". {'Changed' if mailed else 'Set'} in {MAIL_KEYS}.")
        self.query_one("#alert-mail", Static).update(text)

    @on(RowList.Moved, "#alert-list")
    def _draw_alert(self) -> None:
        ref = self.query_one("#alert-list", RowList).cursor_key
        alert = next((a for a in logs.alerts(self.conn.cache) if a.ref == ref), None)
        text = Text()
        if alert is not None:
            text.append(f"{alert.name} ({alert.severity}) about {alert.about}\n", style="bold")
            text.append(alert.body)
        else:
            text.append("No alerts.")
        self.query_one("#alert-body", Static).update(text)

    # dom0 logs -------------------------------------------------------------------
    def _system(self) -> LocalSystem | None:
        if not self.local:
            self.query_one("#log-head", Static).update(REMOTE)
            return None
        return LocalSystem()

    def next_log(self) -> None:
        system = self._system()
        if system is None:
            return
        names = logs.log_names(system)
        if not names:
            self.query_one("#log-head", Static).update("No logs under /var/log.")
            return
        i = names.index(self.log_name) + 1 if self.log_name in names else 0
        self.log_name = names[i % len(names)]
        self._load(system, to_end=True)

    def _load(self, system: LocalSystem, to_end: bool) -> None:
        try:
            self.lines = logs.tail(system, self.log_name)
        except Exception as exc:
            notify_error(self.app, exc)
            return
        listing = self.query_one("#log-lines", RowList)
        listing.set_rows([(str(i), (line,)) for i, line in enumerate(self.lines)])
        if to_end:
            listing.move_to_end()
        self._log_bytes = system.path(f"{logs.LOG_DIR}/{self.log_name}").stat().st_size
        self._draw_head()
        self._draw_line()

    def _draw_head(self) -> None:
        head = Text()
        head.append(f"/var/log/{self.log_name}", style="bold")
        head.append(f"  {len(self.lines)} lines")
        head.append("  FOLLOWING" if self.following else "", style="bold")
        head.append("\nl: next log  /: search  n: next match  e: next error  f: follow")
        head.append("  u: /var/log usage  p: rotation profile")
        self.query_one("#log-head", Static).update(head)

    @on(RowList.Moved, "#log-lines")
    def _draw_line(self) -> None:
        key = self.query_one("#log-lines", RowList).cursor_key
        line = self.lines[int(key)] if key is not None and int(key) < len(self.lines) else ""
        self.query_one("#log-line", Static).update(Text(line))

    def _jump(self, found: int | None, what: str) -> None:
        if found is None:
            self.app.notify(f"No {what}.", timeout=4)
            return
        listing = self.query_one("#log-lines", RowList)
        listing.action_move(found - listing.cursor)

    def search(self) -> None:
        if self._system() is None:
            return
        box = self.query_one("#log-search", Input)
        box.display = True
        box.value = self.pattern
        box.focus()

    @on(Input.Submitted, "#log-search")
    def _searched(self, event: Input.Submitted) -> None:
        event.input.display = False
        self.pattern = event.value.strip()
        self.query_one("#log-lines", RowList).focus()
        self.next_match()

    def next_match(self) -> None:
        if self.pattern:
            cursor = self.query_one("#log-lines", RowList).cursor
            self._jump(logs.find(self.lines, self.pattern, cursor), f"line with {self.pattern!r}")

    def next_error(self) -> None:
        cursor = self.query_one("#log-lines", RowList).cursor
        self._jump(logs.find(self.lines, "", cursor, errors=True), "error below or above")

    def follow(self) -> None:
        if self._system() is None:
            return
        self.following = not self.following
        self._draw_head()

    def _follow_tick(self) -> None:
        if not (self.following and self.log_name and self.tab == "files" and self.local):
            return
        system = LocalSystem()
        try:
            grown = system.path(f"{logs.LOG_DIR}/{self.log_name}").stat().st_size != self._log_bytes
        except OSError:
            return
        if grown:
            self._load(system, to_end=True)

    @work(exit_on_error=False, group="logs", description="log usage")
    async def show_usage(self) -> None:
        system = self._system()
        if system is None:
            return
        used = await asyncio.to_thread(logs.usage, system)
        free = f", {size(used.free)} free" if used.free is not None else ""
        biggest = "; ".join(f"{name} {size(n)}" for name, n in used.biggest)
        self.app.notify(f"/var/log holds {size(used.total)}{free}. Biggest: {biggest}", timeout=15)
