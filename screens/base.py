"""What every area screen shares: the connection bar, the footer and live
refresh from the event cache."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent

from xstui.widgets.header import ConnectionBar


class AreaScreen(Screen):
    """Subclasses compose their body in ``compose_body`` and redraw in ``refresh_view``."""

    def compose(self) -> ComposeResult:
        yield ConnectionBar()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    ready = False  # set once mounted: cache changes before that are drawn by on_mount

    def on_mount(self) -> None:
        self.refresh_bar()
        self.refresh_view()
        self.ready = True

    def on_screen_resume(self) -> None:
        if self.ready:
            self.refresh_bar()
            self.refresh_view()

    def refresh_bar(self) -> None:
        conn = self.app.connection
        if conn is None:
            return
        cache = conn.cache
        with cache.lock:
            pool = next(iter(cache.table("pool").values()), {})
            host = cache.get("host", conn.this_host) or {}
            hosts = len(cache.table("host"))
        role = (
            ""
            if not host
            else (
                "standalone"
                if hosts <= 1
                else "master"
                if pool.get("master") == conn.this_host
                else "member"
            )
        )
        # while reconnecting, the last known state stays on screen, dimmed
        self.set_class(conn.state != "connected", "-stale")
        self.query_one(ConnectionBar).show(
            pool=pool.get("name_label", ""),
            host=host.get("name_label", ""),
            role=role,
            user=conn.user,
            state=conn.state,
            url=conn.target.url,
            encrypted=conn.target.encrypted,
            detail=conn.state_detail,
        )

    def refresh_view(self) -> None:
        """Redraw from the cache (called on every coalesced change)."""

    def set_tab_label(self, pane: str, label: str) -> None:
        """Retitle a tab (e.g. with a count); tabs appear a moment after the
        screen mounts, and the next refresh catches up."""
        try:
            self.query_one(TabbedContent).get_tab(pane).label = label
        except ValueError:
            pass
