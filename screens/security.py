"""The Security screen. Certificates tab: each host's certificate (regenerate
it, or make a key and CSR for a CA), the pool's root password, and the way
back when it is lost, for the selected host's own bootloader (printable).
Users tab: Active Directory, the users and groups who may log in, and the
roles."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

from xstui.files import write_atomic
from xstui.services import security as sec
from xstui.services.host.local import LocalSystem
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.flow import ask, perform
from xstui.widgets.form import FormModal
from xstui.widgets.rowlist import RowList
from xstui.xapi.access import ROLE_NAMES
from xstui.xapi.config import safe_stem, state_dir
from xstui.xapi.tls import spaced

from .base import AreaScreen, requires

SUBJECT_COLUMNS = [("User or group", 40), ("Kind", 6), ("Role", 16)]
MARKS = {True: "ok ", False: "!! ", None: "?? "}  # checked fine, a problem, for the admin


class SecurityScreen(AreaScreen):
    BINDINGS = [
        Binding("u", "show_tab('users')", "Users", id="security.users"),
        Binding("g", "show_tab('certs')", "Certificates", id="security.certs"),
        Binding("w", "password", "Root password", id="security.password"),
        Binding("H", "next_host", "Next host", id="security.next_host", show=False),
        Binding("x", "export", "Save the guide", id="security.export"),
        Binding("c", "regenerate", "New certificate", id="security.regenerate"),
        Binding("k", "csr", "Key + CSR", id="security.csr", show=False),
        Binding("i", "install", "Install signed", id="security.install", show=False),
        Binding("a", "directory", "AD on/off", id="security.directory"),
        Binding("n", "add_subject", "Add user", id="security.add_subject"),
        Binding("r", "set_role", "Role", id="security.set_role"),
        Binding("d", "remove_subject", "Remove", id="security.remove_subject"),
    ]
    # the keys of each tab: hidden (and inactive) on the other one
    TAB_ACTIONS = {
        "certs": {"show_tab", "password", "next_host", "export", "regenerate", "csr", "install"},
        "users": {"show_tab", "directory", "add_subject", "set_role", "remove_subject"},
    }
    DRAWN_FROM = frozenset({"host", "certificate", "subject", "role", "PIF"})

    def __init__(self, area) -> None:
        super().__init__(area)
        self.guide: sec.Guide | None = None
        self.crls: list[str] = []

    def compose_body(self) -> ComposeResult:
        with TabbedContent(initial="certs"):
            with TabPane("Certificates & password", id="certs"):
                with VerticalScroll():
                    yield Static("", id="security-guide")
            with TabPane("Users", id="users"):
                yield Static("", id="directory")
                yield RowList(SUBJECT_COLUMNS, id="subjects", markable=False)
                yield Static("", id="roles")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(VerticalScroll).focus()
        self.read_crls()

    @work(thread=True, exit_on_error=False, group="crls", description="CRLs")
    def read_crls(self) -> None:
        """CRLs are not objects (no events): read once when the screen opens."""
        conn = self.conn
        if conn is None or conn.state != "connected":
            return
        crls = sec.read_crls(conn)
        if crls:
            self.app.call_from_thread(self._got_crls, crls)

    def _got_crls(self, crls: list[str]) -> None:
        self.crls = crls
        self.refresh_view()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        (self.query_one(RowList) if tab == "users" else self.query_one(VerticalScroll)).focus()

    def refresh_view(self, classes=None) -> None:
        if not self.drawable(classes):
            return
        self.draw_certificates()
        self.draw_users()

    def draw_users(self) -> None:
        cache = self.conn.cache
        state = sec.directory_state(cache)
        text = Text()
        if state.enabled:
            text.append("Active Directory: ", style="bold")
            text.append(f"joined {state.domain}")
            if state.user:
                text.append(f" (join account {state.user})")
            if state.mixed:
                text.append("\n!! some hosts have not joined: disable and enable again", "bold")
            text.append("\nUsers and groups who may log in (n: add, r: role, d: remove):")
        else:
            text.append("Active Directory: ", style="bold")
            text.append("not joined; only root may log in (a: join a domain)\n")
            for check in sec.prerequisites(cache):
                text.append(MARKS[check.ok], style="bold")
                text.append(check.text + "\n")
            kept = bool(cache.table("subject"))
            text.append("Users and groups kept from an earlier join:" if kept else "No users yet.")
        self.query_one("#directory", Static).update(text)
        self.query_one(RowList).set_rows(
            [
                (r.ref, (r.name, "group" if r.group else "user", ROLE_NAMES.get(r.role, "none")))
                for r in sec.subject_rows(cache)
            ]
        )
        roles = Text("Roles (each may also do what those below it may):\n", style="bold")
        for role in sec.role_rows(cache):
            roles.append(f"{role.title:<15}", style="bold")
            roles.append(f"{role.may}\n")
        self.query_one("#roles", Static).update(roles)

    def draw_certificates(self) -> None:
        conn = self.conn
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
        cas = sec.trusted_cas(conn.cache)
        if cas or self.crls:
            text.append("Trusted by the pool:\n", style="bold")
        for row in cas:
            days = "?" if row.days_left is None else f"{row.days_left} days"
            text.append(f"  CA  {row.name:<26} until {row.not_after or '?'} ({days})\n")
        for name in self.crls or ():
            text.append(f"  CRL {name}\n")
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
            write_atomic(path, sec.guide_text(self.guide))
        except OSError as exc:
            self.app.notify(f"Not saved: {exc}", severity="error")
            return
        self.app.notify(f"Saved to {path}", timeout=10)

    @requires(sec.RegenerateCertificate)
    @work(exit_on_error=False, group="action", description="regenerate certificate")
    async def action_regenerate(self) -> None:
        conn, host = self.conn, self.host
        local = conn.target.kind == "local"
        mode = await asyncio.to_thread(sec.regenerate_mode, conn.has_method, local)
        action = await ask(
            self.app,
            f"New self-signed certificate for {conn.cache.label('host', host)}",
            sec.RegenerateCertificate.fields(mode),
            lambda v: sec.RegenerateCertificate(
                conn.cache,
                host,
                conn.target,
                mode,
                v.get("days", sec.DAYS_DEFAULT),
                LocalSystem() if local else None,
            ),
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
                lambda values: sec.CsrRequest.checked(
                    values["key"],
                    values["cn"],
                    values["sans"],
                    values["o"],
                    values["ou"],
                    values["c"],
                ),
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
        cache, local = self.conn.cache, self.conn.target.kind == "local"
        action = await ask(
            self.app,
            "Change the root password of the pool",
            sec.ChangeRootPassword.FIELDS,
            lambda values: sec.ChangeRootPassword(
                cache,
                values["current"],
                values["new"],
                values["again"],
                LocalSystem() if local else None,
            ),
            precheck=True,
        )
        if action is not None:
            await perform(self.app, action)

    # Active Directory, users and roles ---------------------------------------------
    def _me(self) -> str:
        """The console's own user when it is a directory user ('' for root)."""
        conn = self.conn
        return "" if conn.access.superuser else conn.user

    @requires(sec.EnableDirectory, sec.DisableDirectory)
    @work(exit_on_error=False, group="action", description="Active Directory")
    async def action_directory(self) -> None:
        conn = self.conn
        if sec.directory_state(conn.cache).enabled:
            action = await ask(
                self.app,
                f"Leave the domain {sec.directory_state(conn.cache).domain}",
                sec.DisableDirectory.fields(),
                lambda v: sec.DisableDirectory(conn.cache, v["user"], v["password"], self._me()),
            )
        else:
            action = await ask(
                self.app,
                "Join the pool to an Active Directory domain",
                sec.EnableDirectory.fields(),
                lambda v: sec.EnableDirectory(
                    conn.cache, v["domain"], v["user"], v["password"], v["ou"]
                ),
            )
        if action is not None:
            await perform(self.app, action)

    @requires(sec.AddSubject)
    @work(exit_on_error=False, group="action", description="add user")
    async def action_add_subject(self) -> None:
        cache = self.conn.cache
        action = await ask(
            self.app,
            "Let a directory user or group log in",
            sec.AddSubject.fields(),
            lambda v: sec.AddSubject(cache, v["name"], v["role"]),
        )
        if action is not None:
            await perform(self.app, action)

    @requires(sec.SetSubjectRole)
    @work(exit_on_error=False, group="action", description="role")
    async def action_set_role(self) -> None:
        cache, subject = self.conn.cache, self.query_one(RowList).cursor_key
        row = next((r for r in sec.subject_rows(cache) if r.ref == subject), None)
        action = await ask(
            self.app,
            f"Role of {row.name if row else 'the user'}",
            sec.SetSubjectRole.fields(row.role if row else ""),
            lambda v: sec.SetSubjectRole(cache, subject or "", v["role"]),
        )
        if action is not None:
            await perform(self.app, action)

    @requires(sec.RemoveSubject)
    @work(exit_on_error=False, group="action", description="remove user")
    async def action_remove_subject(self) -> None:
        conn, subject = self.conn, self.query_one(RowList).cursor_key
        action = await ask(
            self.app,
            "",
            [],
            lambda _: sec.RemoveSubject(conn.cache, subject or "", conn.access.subject),
        )
        if action is not None:
            await perform(self.app, action)
