"""The Security screen. Certificates tab: each host's certificate (a new self-signed
one, or make a key and CSR for a CA), the pool's root password, and the way
back when it is lost, for the selected host's own bootloader (printable).
Users tab: Active Directory, the users and groups who may log in, and the
roles."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from xstui.areas import see
from xstui.services import security as sec
from xstui.services.host.local import LocalSystem
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.rowlist import RowList
from xstui.widgets.tabbed import TabbedPanes, TabPane
from xstui.xapi.access import ROLE_NAMES
from xstui.xapi.config import state_dir
from xstui.xapi.tls import spaced

from .act import Act
from .base import AreaScreen, tab_keys

SUBJECT_COLUMNS = [("User or group", 40), ("Kind", 6), ("Role", 16)]
# checked fine, a problem, for the admin to check (the API cannot): said in words
MARKS = {True: "ok    ", False: "!!    ", None: "check "}


def _local(turn) -> LocalSystem | None:
    """dom0's own system, when the console runs there."""
    return LocalSystem() if turn.app.in_dom0 else None


def _guide_host(turn) -> str:
    """The host whose recovery guide is shown."""
    return turn.cache.label("host", turn.screen.host, "host")


async def _trust_new_certificate(turn) -> None:
    """After a certificate change on the console's own host: the old and new
    fingerprints compared, and the pin moved only when the admin trusts it."""
    app, conn, action = turn.app, turn.conn, turn.action
    turn.screen.read_served()  # where the release keeps no records, each host is asked
    if not action.watch or not action.new_fingerprint:
        conn.expect_certificate_change(False)
        return
    answer = await app.push_screen_wait(
        ChoiceModal(
            "Trust the new certificate?",
            f"{action.name} now presents a new certificate.\n"
            f"Old SHA-256: {spaced(action.old_fingerprint)}\n"
            f"New SHA-256: {spaced(action.new_fingerprint)}\n"
            "If in doubt, check the new one on the host's own console: xstui local there, "
            f"{see('status', tab='Host')}.",
            [("trust", "Trust the new one"), ("no", "Do not")],
        )
    )
    if answer != "trust":
        conn.expect_certificate_change(False)  # the next attempt is refused
        app.notify(
            "The console keeps the old pin: it refuses the host until you trust the new one.",
            severity="warning",
            timeout=12,
        )
        return
    conn.repin(action.new_fingerprint)
    config = app.config
    config.fingerprints[conn.target.trust_key] = action.new_fingerprint
    if not config.save():
        app.notify(
            f"Trusted for this session only; not remembered: {config.problem}",
            severity="warning",
        )


def _me(turn) -> str:
    """The console's own user when it is a directory user ('' for root)."""
    conn = turn.conn
    return "" if conn.access.superuser else conn.user


def _directory(turn):
    """Leave the domain when joined, join one otherwise."""
    v = turn.values
    if turn.subject.enabled:
        return sec.DisableDirectory(turn.cache, v["user"], v["password"], _me(turn))
    return sec.EnableDirectory(turn.cache, v["domain"], v["user"], v["password"], v["ou"])


def _user(turn):
    """The user or group under the cursor."""
    key = turn.screen.query_one(RowList).cursor_key
    return next((r for r in sec.subject_rows(turn.cache) if r.ref == key), None)


NO_USER = "No user or group under the cursor."


def _no_install(screen) -> str:
    """A key and CSR are for Install signed: not offered where it cannot be."""
    why = sec.InstallCertificate.unavailable(screen.conn)
    return f"they are for Install signed (i), and {why}" if why else ""


class SecurityScreen(AreaScreen):
    AREA = "security"
    BINDINGS = [
        *tab_keys("security", ("g", "certs", "Certificates"), ("u", "users", "Users")),
    ]
    ACTS = (
        Act(
            "w",
            "password",
            "Root password",
            tab="certs",
            help="Change the root password of every host in the pool",
            builds=(sec.ChangeRootPassword,),
            title="Change the root password of the pool",
            fields=lambda t: sec.ChangeRootPassword.FIELDS,
            build=lambda t: sec.ChangeRootPassword(
                t.cache,
                t.values["current"],
                t.values["new"],
                t.values["again"],
                _local(t),
            ),
            precheck=True,
        ),
        Act("H", "next_host", "Next host", show=False, tab="certs", view=AreaScreen.next_host),
        Act(
            "x",
            "export",
            "Save the guide",
            tab="certs",
            help="Save the root password recovery guide as a text file to print",
            builds=(sec.SaveGuide,),
            connection=False,
            subject=lambda t: t.screen.guide,
            missing="No host shown: no guide to save.",
            title=lambda t: f"Save the recovery guide of {_guide_host(t)}",
            fields=lambda t: sec.SaveGuide.fields(_guide_host(t)),
            build=lambda t: sec.SaveGuide(
                t.subject, _guide_host(t), t.values["path"], t.values["overwrite"]
            ),
        ),
        Act(
            "c",
            "regenerate",
            sec.NEW_CERTIFICATE,
            tab="certs",
            help="A new self-signed certificate for the host shown",
            builds=(sec.RegenerateCertificate,),
            subject=lambda t: t.screen.host or None,
            read=lambda t: sec.regenerate_mode(t.conn.has_method, t.app.in_dom0),
            title=lambda t: f"{sec.NEW_CERTIFICATE} for {t.cache.label('host', t.subject)}",
            fields=lambda t: sec.RegenerateCertificate.fields(t.data),
            build=lambda t: sec.RegenerateCertificate(
                t.cache,
                t.subject,
                t.conn.target,
                t.data,
                t.values.get("days", sec.DAYS_DEFAULT),
                _local(t),
            ),
            after=_trust_new_certificate,
        ),
        Act(
            "k",
            "csr",
            "Key + CSR",
            show=False,
            tab="certs",
            help="Make a private key and a signing request for a CA, on this machine",
            builds=(sec.MakeCsr,),
            refuse=_no_install,
            subject=lambda t: t.screen.host or None,
            title=lambda t: f"Key and CSR for {t.cache.label('host', t.subject)}",
            fields=lambda t: sec.csr_fields(t.cache, t.subject),
            build=lambda t: sec.MakeCsr(
                state_dir() / "certificates",
                sec.CsrRequest.checked(
                    t.values["key"],
                    t.values["cn"],
                    t.values["sans"],
                    t.values["o"],
                    t.values["ou"],
                    t.values["c"],
                ),
            ),
        ),
        Act(
            "i",
            "install",
            "Install signed",
            show=False,
            tab="certs",
            help="Install a CA-signed certificate on the host shown",
            builds=(sec.InstallCertificate,),
            subject=lambda t: t.screen.host or None,
            title=lambda t: (
                f"Install a CA-signed certificate on {t.cache.label('host', t.subject)}"
            ),
            fields=lambda t: sec.InstallCertificate.fields(
                t.cache, t.subject, state_dir() / "certificates"
            ),
            build=lambda t: sec.InstallCertificate(
                t.cache,
                t.subject,
                t.conn.target,
                t.values["cert"],
                t.values["key"],
                t.values["chain"],
            ),
            after=_trust_new_certificate,
        ),
        Act(
            "a",
            "directory",
            "AD on/off",
            tab="users",
            help="Join the pool to an Active Directory domain, or leave it",
            builds=(sec.EnableDirectory, sec.DisableDirectory),
            subject=lambda t: sec.directory_state(t.cache),
            title=lambda t: (
                f"Leave the domain {t.subject.domain}"
                if t.subject.enabled
                else "Join the pool to an Active Directory domain"
            ),
            fields=lambda t: (
                sec.DisableDirectory.fields() if t.subject.enabled else sec.EnableDirectory.fields()
            ),
            build=_directory,
        ),
        Act(
            "n",
            "add_subject",
            "Add user",
            tab="users",
            help="Let a directory user or group log in, with a role",
            builds=(sec.AddSubject,),
            refuse=lambda s: "" if sec.directory_state(s.conn.cache).enabled else sec.NOT_JOINED,
            title="Let a directory user or group log in",
            fields=lambda t: sec.AddSubject.fields(),
            build=lambda t: sec.AddSubject(t.cache, t.values["name"], t.values["role"]),
        ),
        Act(
            "r",
            "set_role",
            "Role",
            tab="users",
            help="Change the role of the user or group under the cursor",
            builds=(sec.SetSubjectRole,),
            subject=_user,
            missing=NO_USER,
            title=lambda t: f"Role of {t.subject.name}",
            fields=lambda t: sec.SetSubjectRole.fields(t.subject.role),
            build=lambda t: sec.SetSubjectRole(t.cache, t.subject.ref, t.values["role"]),
        ),
        Act(
            "d",
            "remove_subject",
            "Remove",
            tab="users",
            help="Stop the user or group under the cursor from logging in",
            builds=(sec.RemoveSubject,),
            subject=_user,
            missing=NO_USER,
            build=lambda t: sec.RemoveSubject(t.cache, t.subject.ref, t.conn.access.subject),
        ),
    )
    DRAWN_FROM = frozenset({"host", "certificate", "subject", "role", "PIF"})

    def __init__(self, area) -> None:
        super().__init__(area)
        self.guide: sec.Guide | None = None
        self.crls: list[str] = []
        # hosts without a Certificate record (every host before 8.2): the
        # certificate each serves, None until read
        self.served: dict[str, sec.Served] | None = None

    def compose_body(self) -> ComposeResult:
        with TabbedPanes(initial="certs"):
            with TabPane("Certificates & password", id="certs"):
                with VerticalScroll():
                    yield Static("", id="security-guide")
                # the keys, above the footer: notices never cover them (xstui.tcss)
                yield Static(
                    "H: another host - x: save the guide as a text file to print",
                    id="guide-hint",
                    classes="screen-hint",
                    markup=False,
                )
            with TabPane("Users", id="users"):
                yield Static("", id="directory")
                yield RowList(SUBJECT_COLUMNS, id="subjects", markable=False)
                yield Static("", id="roles")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(VerticalScroll).focus()
        self.read_crls()
        self.read_served()

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

    @work(thread=True, exit_on_error=False, group="served", description="certificates")
    def read_served(self) -> None:
        """Each host without a certificate record (every host, where the
        release keeps none) is asked for the certificate it serves (again
        after a new one is made)."""
        conn = self.conn
        if conn is None or conn.state != "connected":
            return
        served = sec.read_served(conn)
        self.app.call_from_thread(self._got_served, served or {})

    def _got_served(self, served: dict[str, sec.Served]) -> None:
        self.served = served
        self.refresh_view()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedPanes).active = tab
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

    def certificate_keys(self) -> str:
        """The certificate keys that can act here, as the footer names them
        (a key the release, the role or the place refuses is not offered,
        as it is dimmed in the footer; pressed, it says why)."""
        said = []
        for name in ("next_host", "regenerate", "csr", "install"):
            binding = next(b for b in self.BINDINGS if getattr(b, "action", "") == name)
            if not self.refusal(name):
                label = "host" if name == "next_host" else self.acts[name].label
                said.append(f"{self.app.key_shown(binding)}: {label}")
        return "; ".join(said)

    def draw_certificates(self) -> None:
        conn = self.conn
        self.shown_host()
        self.guide = sec.recovery_guide(conn.cache, self.host)
        text = Text()
        text.append(f"Certificates ({self.certificate_keys()})\n", style="bold")
        records = sec.keeps_records(conn)
        if not records:
            text.append("This release keeps no certificate records: each host is asked.\n")
        for row in sec.host_certificates(conn.cache, served=self.served):
            mark = ">" if row.host == self.host else " "
            if not row.not_after:  # no record (or none with a date): the host is asked
                if self.served is None:
                    said = "reading the one it serves..."
                elif conn.has_method(sec.SERVED_CALL):
                    said = "no record, and the host did not say (not live?)"
                else:
                    said = "no record, and this release cannot ask the host"
                text.append(f"{mark} {row.name:<12} {said}\n")
                continue
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
        text.append("\n")
        for i, step in enumerate(self.guide.steps, 1):
            text.append(f"{i}. ", style="bold")
            text.append(step + "\n")
        text.append("\nDo not:\n", style="bold")
        for d in self.guide.donts:
            text.append(f"- {d}\n")
        self.query_one("#security-guide", Static).update(text)
