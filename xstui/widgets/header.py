"""The top line: pool, host, role, user and connection state."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

STATE_STYLE = {
    "connected": ("•", "$success"),
    "reconnecting": ("○", "$warning"),
    "disconnected": ("○", "$error"),
    "closed": ("○", "$error"),
    "refused": ("x", "$error"),
}


class ConnectionBar(Static):
    DEFAULT_CSS = """
    ConnectionBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    ConnectionBar.-reconnecting { background: $warning 30%; }
    ConnectionBar.-disconnected, ConnectionBar.-closed, ConnectionBar.-refused {
        background: $error 30%;
    }
    /* not connected: the whole reason, wrapped, under the bar's first line */
    ConnectionBar.-reconnecting, ConnectionBar.-refused { height: auto; max-height: 6; }
    """

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
        line.no_wrap, line.overflow = True, "crop"
        if detail and state != "connected":
            line = Group(line, Text(detail, overflow="fold"))
        self.update(line)
        for s in STATE_STYLE:
            self.set_class(s == state, f"-{s}")
