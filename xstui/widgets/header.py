"""The top line: pool, host, role, user and connection state."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

STATE_STYLE = {
    "connected": ("●", "$success"),
    "reconnecting": ("◌", "$warning"),
    "disconnected": ("○", "$error"),
    "closed": ("○", "$error"),
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
    ConnectionBar.-disconnected, ConnectionBar.-closed { background: $error 30%; }
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
        text = Text.assemble(
            (pool or "xstui", "bold"),
            (f" › {host}" if host else ""),
            (f" ({role})" if role else ""),
            f" │ {user} │ ",
            (f"{mark} {state}", "bold"),
            ("" if encrypted else " │ unencrypted", "bold"),
            (f" │ {detail}" if detail and state != "connected" else ""),
            f" │ {url}",
        )
        text.no_wrap, text.overflow = True, "ellipsis"
        self.update(text)
        for s in STATE_STYLE:
            self.set_class(s == state, f"-{s}")
