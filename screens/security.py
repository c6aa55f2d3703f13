"""The Security screen: each host's certificate (regenerate it, or make a key
and CSR for a CA), the pool's root password, and the way back when it is
lost, for the selected host's own bootloader (printable)."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from xstui.services import security as sec
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.flow import ask, perform
from xstui.widgets.form import FormModal
from xstui.xapi.config import safe_stem, state_dir, write_private
from xstui.xapi.tls import spaced

from .base import AreaScreen, requires


class SecurityScreen(AreaScreen):
    BINDINGS = [
        Binding("w", "password", "Root password", id="security.password"),
        Binding("H", "next_host", "Next host", id="security.next_host"),
        Binding("x", "export", "Save the guide", id="security.export"),
        Binding("c", "regenerate", "New certificate", id="security.regenerate"),
        Binding("k", "csr", "Key + CSR", id="security.csr", show=False),
        Binding("i", "install", "Install signed", id="security.install", show=False),
    ]
    DRAWN_FROM = frozenset({"host", "certificate"})

    def __init__(self, area) -> None:
        super().__init__(area)
        self.guide: sec.Guide | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id="security-guide")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(VerticalScroll).focus()

    def refresh_view(self, classes=None) -> None:
        conn = self.conn
        if not self.drawable(classes):
            return
        self.shown_host()
        self.guide = sec.recovery_guide(conn.cache, self.host)
        text = Text()
        text.append(
            "Certificates (H: host; c: regenerate; k: key + CSR; i: install signed)\n", style="bold"
        )
        for row in sec.host_certificates(conn.cache):
            mark = ">" if row.host == self.host else " "
            days = "?" if row.days_left is None else f"{row.days_left} days"
            text.append(f"{mark} {row.name:<12} until {row.not_after or '?':<10} ({days:>9})  ")
            text.append(f"{row.fingerprint[:23]}...\n" if row.fingerprint else "no record\n")
        text.append("\nRoot password: w changes it pool-wide (typed twice, never shown).\n\n")
        text.append(self.guide.title + "\n", style="bold")
        text.append("(H: another host - x: save this as a text file to print)\n\n")
        for i, step in enumerate(self.guide.steps, 1):
            text.append(f"{i}. ", style="bold")
            text.append(step + "\n")
        text.append("\nDo not:\n", style="bold")
        for d in self.guide.donts:
            text.append(f"- {d}\n")
        self.query_one("#security-guide", Static).update(text)

    def action_export(self) -> None:
        if self.guide is None:
            return
        name = self.conn.cache.label("host", self.host, "host")
        path = state_dir() / f"root-password-recovery-{safe_stem(name)}.txt"
        try:
            write_private(path, sec.guide_text(self.guide).encode())
        except OSError as exc:
            self.app.notify(f"Not saved: {exc}", severity="error")
            return
        self.app.notify(f"Saved to {path}", timeout=10)

    @requires(sec.RegenerateCertificate)
    @work(exit_on_error=False, group="action", description="regenerate certificate")
    async def action_regenerate(self) -> None:
        conn = self.conn
        action = await ask(
            self.app,
            "",
            [],
            lambda _: sec.RegenerateCertificate(conn.cache, self.host, conn.target),
        )
        if action is not None:
            await self._apply_certificate(action)

    @requires(sec.InstallCertificate)
    @work(exit_on_error=False, group="action", description="install certificate")
    async def action_install(self) -> None:
        conn, host = self.conn, self.host
        action = await ask(
            self.app,
            f"Install a CA-signed certificate on {conn.cache.label('host', host)}",
            sec.InstallCertificate.fields(conn.cache, host, state_dir() / "certificates"),
            lambda v: sec.InstallCertificate(
                conn.cache, host, conn.target, v["cert"], v["key"], v["chain"]
            ),
        )
        if action is not None:
            await self._apply_certificate(action)

    async def _apply_certificate(self, action) -> None:
        """Run a certificate change; on the console's own host, compare the
        fingerprints and move the pin only when the admin trusts the new one."""
        conn = self.conn
        if not await perform(self.app, action) or not action.watch or not action.new_fingerprint:
            conn.expect_certificate_change(False)
            return
        answer = await self.app.push_screen_wait(
            ChoiceModal(
                "Trust the new certificate?",
                f"{action.name} now presents a new certificate.\n"
                f"Old SHA-256: {spaced(action.old_fingerprint)}\n"
                f"New SHA-256: {spaced(action.new_fingerprint)}\n"
                "Check the new one on the host's console (Status, Security) if in doubt.",
                [("trust", "Trust the new one"), ("no", "Do not")],
            )
        )
        if answer != "trust":
            conn.expect_certificate_change(False)  # the next attempt is refused
            self.app.notify(
                "The console keeps the old pin: it refuses the host until you trust the new one.",
                severity="warning",
                timeout=12,
            )
            return
        conn.repin(action.new_fingerprint)
        config = self.app.config
        config.fingerprints[conn.target.trust_key] = action.new_fingerprint
        if not config.save():
            self.app.notify(
                f"Trusted for this session only; not remembered: {config.problem}",
                severity="warning",
            )

    @work(exit_on_error=False, group="action", description="key and CSR")
    async def action_csr(self) -> None:
        cache = self.conn.cache
        request = await self.app.push_screen_wait(
            FormModal(
                f"Key and CSR for {cache.label('host', self.host)}",
                sec.csr_fields(cache, self.host),
                lambda values: sec.CsrRequest.checked(values["key"], values["cn"], values["sans"]),
            )
        )
        if request is None:
            return
        key_pem, csr_pem = await asyncio.to_thread(sec.make_csr, request)
        try:
            key_path, csr_path = sec.save_csr(
                state_dir() / "certificates", request.cn, key_pem, csr_pem
            )
        except OSError as exc:
            self.app.notify(f"Not saved: {exc}", severity="error")
            return
        self.app.notify(
            f"Send {csr_path} to your CA. The private key is {key_path} (mode 0600): keep it "
            "there until the signed certificate is installed.",
            timeout=20,
        )

    @requires(sec.ChangeRootPassword)
    @work(exit_on_error=False, group="action", description="root password")
    async def action_password(self) -> None:
        cache = self.conn.cache
        action = await ask(
            self.app,
            "Change the root password of the pool",
            sec.ChangeRootPassword.FIELDS,
            lambda values: sec.ChangeRootPassword(cache, values["new"], values["again"]),
        )
        if action is not None:
            await perform(self.app, action)
