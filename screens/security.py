"""The Security screen: change the pool's root password, and the way back
when it is lost, for the selected host's own bootloader (printable)."""

from __future__ import annotations

import os

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from xstui.services import security as sec
from xstui.widgets.flow import connected, perform
from xstui.widgets.form import FormModal
from xstui.xapi.config import state_dir

from .base import AreaScreen


class SecurityScreen(AreaScreen):
    BINDINGS = [
        Binding("w", "password", "Root password", id="security.password"),
        Binding("H", "next_host", "Next host", id="security.next_host"),
        Binding("x", "export", "Save the guide", id="security.export"),
    ]
    DRAWN_FROM = frozenset({"host"})

    def __init__(self, area) -> None:
        super().__init__(area)
        self.host = ""
        self.guide: sec.Guide | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id="security-guide")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(VerticalScroll).focus()

    def refresh_view(self, classes=None) -> None:
        conn = self.conn
        if conn is None or not conn.cache.table("host"):
            return
        if classes is not None and not classes & self.DRAWN_FROM:
            return
        hosts = conn.cache.table("host")
        if self.host not in hosts:
            self.host = conn.this_host if conn.this_host in hosts else next(iter(hosts))
        self.guide = sec.recovery_guide(conn.cache, self.host)
        text = Text()
        text.append("Root password: w changes it pool-wide (typed twice, never shown).\n\n")
        text.append(self.guide.title + "\n", style="bold")
        text.append("(H: another host - x: save this as a text file to print)\n\n")
        for i, step in enumerate(self.guide.steps, 1):
            text.append(f"{i}. ", style="bold")
            text.append(step + "\n")
        text.append("\nDo not:\n", style="bold")
        for d in self.guide.donts:
            text.append(f"- {d}\n")
        self.query_one("#security-guide", Static).update(text)

    def action_next_host(self) -> None:
        hosts = sorted(self.conn.cache.table("host").values(), key=lambda h: h.name_label)
        refs = [h.ref for h in hosts]
        self.host = refs[(refs.index(self.host) + 1) % len(refs)] if self.host in refs else refs[0]
        self.refresh_view()

    def action_export(self) -> None:
        if self.guide is None:
            return
        name = self.conn.cache.label("host", self.host, "host")
        path = (
            state_dir()
            / f"root-password-recovery-{''.join(c if c.isalnum() or c in '-_.' else '_' for c in name)}.txt"
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_text(sec.guide_text(self.guide))
            os.chmod(path, 0o600)
        except OSError as exc:
            self.app.notify(f"Not saved: {exc}", severity="error")
            return
        self.app.notify(f"Saved to {path}", timeout=10)

    @work(exit_on_error=False, group="action", description="root password")
    async def action_password(self) -> None:
        if not connected(self.app):
            return
        cache = self.conn.cache
        action = await self.app.push_screen_wait(
            FormModal(
                "Change the root password of the pool",
                sec.ChangeRootPassword.FIELDS,
                lambda values: sec.ChangeRootPassword(cache, values["new"], values["again"]),
            )
        )
        if action is not None:
            await perform(self.app, action)
