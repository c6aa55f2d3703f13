"""The top line: pool, host, role, user and connection state."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

STATE_STYLE = {
    "connected": ("•", "$success"),
    "reconnecting": ("○", "$warning"),
    "disconnected": ("○", "$error"),
    "closed": ("○", "$error"),
    "refused": ("x", "$error"),
}


class ConnectionBar(Vertical):
    """One line that never wraps (pool, host, role, user, state, URL), and
    under it, while not connected, the whole reason, wrapped."""

    DEFAULT_CSS = """
    ConnectionBar {
        dock: top;
        height: auto;
        max-height: 7;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    ConnectionBar #bar-line { height: 1; text-wrap: nowrap; text-overflow: clip; }
    ConnectionBar #bar-detail { height: auto; }
    ConnectionBar.-reconnecting { background: $warning 30%; }
    ConnectionBar.-disconnected, ConnectionBar.-closed, ConnectionBar.-refused {
        background: $error 30%;
    }
    """

    said: tuple | None = None  # the line and the reason shown

    def compose(self) -> ComposeResult:
        yield Static(id="bar-line")
        yield Static(id="bar-detail")

    def show(
        self,
        *,
        pool: str,
        host: str,
        role: str,
        user: str,
        state: str,
        url: str,
        encrypted: bool,
        detail: str = "",
    ) -> None:
        mark = STATE_STYLE.get(state, ("?", ""))[0]
        # Most important first: at 80 columns the URL is what gets cut.
        line = Text.assemble(
            (pool or "xstui", "bold"),
            (f" » {host}" if host else ""),
            (f" ({role})" if role else ""),
            f" │ {user} │ ",
            (f"{mark} {state}", "bold"),
            ("" if encrypted else " │ unencrypted", "bold"),
            f" │ {url}",
        )
        said = (line, detail if state != "connected" else "")
        if said == self.said:  # the same again: nothing to lay out or draw
            return
        self.said = said
        self.query_one("#bar-line", Static).update(line)
        reason = self.query_one("#bar-detail", Static)
        reason.update(Text(said[1]) if said[1] else "")
        reason.display = bool(said[1])
        for s in STATE_STYLE:
            self.set_class(s == state, f"-{s}")
