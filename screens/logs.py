"""The Logs screen. Alerts tab: the pool's XAPI messages, newest first, the
selected one in full; dismiss. Logs tab (dom0): the host's key logs from
their end, follow, search, next error, what fills /var/log, and the
rotation profile (its diff is the plan)."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static, TabbedContent, TabPane

from xstui.services import logs
from xstui.services.host.local import LocalSystem
from xstui.services.values import size
from xstui.widgets.flow import ask, perform
from xstui.widgets.notice import notify_error
from xstui.widgets.rowlist import RowList

from .base import AreaScreen, requires

ALERT_COLUMNS = [("When", 11), ("Severity", 8), ("Alert", 28), ("About", 26)]
LOG_COLUMNS = [("", 76)]
FOLLOW_SECONDS = 1.0
REMOTE = (
    "The host's logs are files in its dom0: run xstui local there to read them. From here, "
    "Host > l sends them to a remote syslog server."
)


class LogsScreen(AreaScreen):
    BINDINGS = [
        Binding("a", "show_tab('alerts')", "Alerts", id="logs.alerts"),
        Binding("g", "show_tab('files')", "Logs", id="logs.files"),
        Binding("x", "dismiss_alert", "Dismiss", id="logs.dismiss"),
        Binding("l", "next_log", "Next log", id="logs.next_log"),
        Binding("slash", "search", "Search", id="logs.search"),
        Binding("n", "next_match", "Next match", id="logs.next_match", show=False),
        Binding("e", "next_error", "Next error", id="logs.next_error"),
        Binding("f", "follow", "Follow", id="logs.follow"),
        Binding("u", "usage", "Usage", id="logs.usage", show=False),
        Binding("p", "profile", "Rotation", id="logs.profile", show=False),
    ]
    TAB_ACTIONS = {
        "alerts": {"show_tab", "dismiss_alert"},
        "files": {"show_tab", "next_log", "search", "next_match", "next_error", "follow"}
        | {"usage", "profile"},
    }
    DRAWN_FROM = frozenset({"message"})

    def __init__(self, area) -> None:
        super().__init__(area)
        self.log_name = ""
        self.lines: list[str] = []
        self.pattern = ""
        self.following = False
        self._log_bytes = -1

    def compose_body(self) -> ComposeResult:
        with TabbedContent(initial="alerts"):
            with TabPane("Alerts", id="alerts"):
                yield RowList(ALERT_COLUMNS, id="alert-list", markable=False)
                yield Static("", id="alert-body")
            with TabPane("Logs (dom0)", id="files"):
                yield Static("", id="log-head")
                yield RowList(LOG_COLUMNS, id="log-lines", markable=False)
                yield Input(placeholder="search, Enter", id="log-search", compact=True)
                yield Static("", id="log-line")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#log-search", Input).display = False
        self.query_one("#alert-list", RowList).focus()
        self.set_interval(FOLLOW_SECONDS, self._follow_tick)

    @property
    def local(self) -> bool:
        return self.conn is not None and self.conn.target.kind == "local"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # the log files are dom0's: from elsewhere the tab only says so, no keys
        if action != "show_tab" and action in self.TAB_ACTIONS["files"] and not self.local:
            return False
        return super().check_action(action, parameters)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.query_one("#log-lines" if tab == "files" else "#alert-list", RowList).focus()
        if tab == "files" and not self.log_name:
            self.action_next_log()

    # alerts ------------------------------------------------------------------------
    def refresh_view(self, classes=None) -> None:
        if not self.drawable(classes):
            return
        rows = logs.alerts(self.conn.cache)
        self.query_one("#alert-list", RowList).set_rows(
            [(a.ref, (a.when, a.severity, a.name, a.about)) for a in rows]
        )
        self._draw_alert()

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

    @requires(logs.DismissAlert)
    @work(exit_on_error=False, group="action", description="dismiss alert")
    async def action_dismiss_alert(self) -> None:
        ref = self.query_one("#alert-list", RowList).cursor_key or ""
        action = await ask(self.app, "", [], lambda _: logs.DismissAlert(self.conn.cache, ref))
        if action is not None:
            await perform(self.app, action)

    # dom0 logs -------------------------------------------------------------------
    def _system(self) -> LocalSystem | None:
        if not self.local:
            self.query_one("#log-head", Static).update(REMOTE)
            return None
        return LocalSystem()

    def action_next_log(self) -> None:
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

    def action_search(self) -> None:
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
        self.action_next_match()

    def action_next_match(self) -> None:
        if self.pattern:
            cursor = self.query_one("#log-lines", RowList).cursor
            self._jump(logs.find(self.lines, self.pattern, cursor), f"line with {self.pattern!r}")

    def action_next_error(self) -> None:
        cursor = self.query_one("#log-lines", RowList).cursor
        self._jump(logs.find(self.lines, "", cursor, errors=True), "error below or above")

    def action_follow(self) -> None:
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
    async def action_usage(self) -> None:
        system = self._system()
        if system is None:
            return
        used = await asyncio.to_thread(logs.usage, system)
        free = f", {size(used.free)} free" if used.free is not None else ""
        biggest = "; ".join(f"{name} {size(n)}" for name, n in used.biggest)
        self.app.notify(f"/var/log holds {size(used.total)}{free}. Biggest: {biggest}", timeout=15)

    @work(exit_on_error=False, group="action", description="log rotation")
    async def action_profile(self) -> None:
        system = self._system()
        if system is None:
            return
        action = await ask(self.app, "", [], lambda _: logs.ApplyLogProfile(system))
        if action is not None:
            await perform(self.app, action)
