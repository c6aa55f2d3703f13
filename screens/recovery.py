"""Pool recovery: what every host of the pool answers about its master, and
the emergency paths with when to use each and what it risks. Offered by
itself when the master stops answering and its members still point at it;
Ctrl+R opens it at any time. Take over (a member becomes the master), Point
member (at the master that answers), HA off (HA on but broken). Over HTTPS,
a host whose certificate is not trusted is not asked: its fingerprint is
shown against what the pool recorded, and Trust (once, for all that match)
trusts them until the console disconnects. In dom0 the other hosts are
reached over HTTPS, and the forms ask for root's password."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Static

from xstui.services.actions import InvalidInput
from xstui.services.fields import Field
from xstui.services.pool import (
    Diagnosis,
    EmergencyHaOff,
    PointAtMaster,
    TakeOverAsMaster,
    diagnose,
    trust_for_session,
    trustable,
)
from xstui.services.pool.recovery import RISK_TAKEOVER, WHEN_TAKEOVER
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.flow import perform
from xstui.widgets.form import FormModal
from xstui.widgets.modal import ButtonRow, Dialog, buttons
from xstui.widgets.notice import notify_error
from xstui.xapi.tls import spaced

# how a host's certificate compares with the pool's records (MemberAnswer.record)
RECORD_WORDS = {
    "matched": "matches what the pool recorded",
    "not matched": "NOT what the pool recorded: not trusted",
    "no record": "no pool record known: compare on the host's console",
    "pinned": "not the one this console pinned: not trusted",
}


class RecoveryModal(Dialog):
    BINDINGS = [Binding("escape", "dismiss", "Close", id="recovery.close")]
    DEFAULT_CSS = "RecoveryModal #recovery-body { height: auto; max-height: 60vh; }"

    def __init__(
        self,
        diagnosis: Diagnosis | None = None,
        *,
        connection=None,
        hosts: tuple[tuple[str, str], list[tuple[str, str]]] | None = None,
    ):
        """``connection`` and ``hosts`` (master, members as (name, address)):
        at connect time, before there is a pool to read them from."""
        super().__init__(classes="-warning")
        self.diagnosis = diagnosis
        self.connection, self.hosts = connection, hosts

    @property
    def conn(self):
        return self.connection or self.app.connection

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Pool recovery", classes="dialog-title")
            with VerticalScroll(id="recovery-body"):
                yield Static("Asking every host who its master is...", id="recovery-state")
            trust = Button("Trust", id="trust", compact=True)
            trust.display = False  # while a host's certificate may be trusted
            yield buttons(
                Button("Close", id="close", compact=True),
                Button("Take over", id="takeover", compact=True),
                Button("Point member", id="point", compact=True),
                Button("HA off", id="haoff", compact=True),
                trust,
                Button("Ask again", id="ask", variant="primary", compact=True),
            )

    def on_mount(self) -> None:
        if self.diagnosis is None:
            self.ask()
        else:
            self.show(self.diagnosis)
        self.query_one("#ask", Button).focus()

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="recovery", description="diagnose"
    )
    def ask(self) -> None:
        found = diagnose(self.conn, *(self.hosts or ()))
        self.app.call_from_thread(self.show, found)

    def show(self, d: Diagnosis) -> None:
        self.diagnosis = d
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column()
        master_untrusted = d.master_answer is not None and d.master_answer.untrusted
        state = "NOT ASKED" if master_untrusted else "DOES NOT ANSWER"
        grid.add_row(
            Text(f"{d.master} (master)"),
            Text("answers" if d.master_answers else state, style="bold"),
        )
        if master_untrusted:
            grid.add_row(Text(""), Text(d.master_answer.answer))
        for m in d.members:
            grid.add_row(Text(m.name), Text(m.answer))
        unasked = ", ".join(h.name for h in d.untrusted)
        presents = "presents" if len(d.untrusted) == 1 else "present"
        if d.master_dead:
            verdict = (
                f"The master {d.master} is dead as far as its members can tell: they still "
                "point at it. Take over: make a member the master.\n"
                f"{WHEN_TAKEOVER}\n{RISK_TAKEOVER}"
            )
        elif d.master_answers:
            verdict = (
                "The master answers: the pool needs no emergency. To move the master role in "
                "a healthy pool, use Designate a new master (Host, D). A member that answers "
                "another master than this one can be pointed at it."
            )
        elif d.untrusted:
            verdict = (
                f"Not every host could be asked: {unasked} {presents} a certificate this console "
                "does not trust. No conclusion about the master until each is asked (one may be "
                "the master already). Trust the certificates that match what the pool recorded "
                "(Trust); check any other on that host's console."
            )
        elif d.new_master and all(m.follows == d.new_master for m in d.members if m.follows):
            verdict = (
                f"Recovered: {d.new_master} answers as master and every member that answers "
                f"follows it. Keep {d.master} off the network until "
                "pool-emergency-reset-master is run on it; start the VMs it ran elsewhere."
            )
        else:
            verdict = (
                "The master does not answer, but not every member points at it (one may have "
                "taken over already): point the members that follow a dead master at the one "
                "that answers as master."
            )
        body = Table.grid()
        body.add_row(grid)
        if d.untrusted:
            certs = Table.grid(padding=(0, 1))
            certs.add_column(no_wrap=True)
            certs.add_column()
            for h in d.untrusted:
                certs.add_row(Text(h.name), Text(f"{h.address}  {RECORD_WORDS[h.record]}"))
                certs.add_row(Text(""), Text(f"SHA-256 {spaced(h.untrusted)}"))
            body.add_row(Text(""))
            body.add_row(Text("Certificates not trusted", style="bold"))
            body.add_row(certs)
        body.add_row(Text(""))
        body.add_row(Text(verdict))
        self.query_one("#recovery-state", Static).update(body)
        self.query_one("#trust", Button).display = bool(trustable(d))
        self.call_after_refresh(self.query_one(ButtonRow).fit)

    @on(Button.Pressed, "#ask")
    def _ask_again(self) -> None:
        self.query_one("#recovery-state", Static).update("Asking every host who its master is...")
        self.ask()

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss()

    @on(Button.Pressed, "#takeover")
    def _takeover(self) -> None:
        self._run_takeover()

    @on(Button.Pressed, "#point")
    def _point(self) -> None:
        self._run_point()

    @on(Button.Pressed, "#haoff")
    def _ha_off(self) -> None:
        self._run_ha_off()

    @on(Button.Pressed, "#trust")
    def _trust(self) -> None:
        self._run_trust()

    @work(exclusive=True, exit_on_error=False, group="recovery-action", description="trust")
    async def _run_trust(self) -> None:
        """One confirmation for every certificate that may be trusted."""
        hosts = trustable(self.diagnosis) if self.diagnosis else ()
        if not hosts:
            return
        lines = []
        for h in hosts:
            lines.append(f"{h.name} ({h.address})  SHA-256 {spaced(h.untrusted)}")
            if h.record == "matched":
                lines.append("  the certificate the pool recorded for it while its master answered")
            else:
                lines.append(
                    "  the pool's records are not known here: compare it on that host's "
                    "console (xsconsole, or xstui local's Status) first"
                )
        refused = [h.name for h in self.diagnosis.untrusted if h not in hosts]
        if refused:
            lines.append(
                f"Not trusted, whatever the answer: {', '.join(refused)} (not the certificate "
                "the pool recorded, or this console pinned)."
            )
        answer = await self.app.push_screen_wait(
            ChoiceModal(
                "Trust these certificates?",
                "Trusted until the console disconnects, for asking these hosts and acting on "
                "them; nothing is saved.\n\n" + "\n".join(lines),
                [("trust", "Trust"), ("cancel", "Cancel")],
            )
        )
        if answer == "trust":
            trust_for_session(self.conn, hosts)
            self._ask_again()

    def _password_fields(self) -> list[Field]:
        """In dom0 the socket took the console's login without a password;
        another host's own login over HTTPS needs root's."""
        if self.conn.target.kind != "local":
            return []
        return [Field("password", "Root password", "", password=True)]

    @work(exclusive=True, exit_on_error=False, group="recovery-action", description="HA off")
    async def _run_ha_off(self) -> None:
        d = self.diagnosis
        if d is None:
            return
        try:
            EmergencyHaOff(d)
        except InvalidInput as exc:
            notify_error(self.app, exc)
            return
        if self._password_fields():
            action = await self.app.push_screen_wait(
                FormModal(
                    "Switch HA off",
                    self._password_fields(),
                    lambda values: EmergencyHaOff(d, values["password"] or None),
                )
            )
        else:
            action = EmergencyHaOff(d)
        if action is not None and await perform(self.app, action, self.conn):
            self.ask()

    def _members(self) -> list[str]:
        return [m.name for m in self.diagnosis.members if m.follows] if self.diagnosis else []

    @work(exclusive=True, exit_on_error=False, group="recovery-action", description="take over")
    async def _run_takeover(self) -> None:
        d = self.diagnosis
        members = self._members()
        if d is None or not members:
            self.app.notify("No member answers: nothing can take over.", severity="warning")
            return
        action = await self.app.push_screen_wait(
            FormModal(
                "Which member becomes the master?",
                [
                    Field("member", "New master", members[0], choices=members),
                    *self._password_fields(),
                ],
                lambda values: TakeOverAsMaster(
                    d, values["member"], values.get("password") or None
                ),
            )
        )
        if action is not None and await perform(self.app, action, self.conn):
            if self.connection is not None:  # at connect: connect to the new master now
                self.dismiss(True)
            else:
                self.ask()

    @work(exclusive=True, exit_on_error=False, group="recovery-action", description="point member")
    async def _run_point(self) -> None:
        d = self.diagnosis
        master = d.new_master if d else ""
        members = [m.name for m in (d.members if d else ()) if m.follows and m.follows != master]
        if not members:
            self.app.notify(
                "Every member that answers already follows the master that answers.",
                severity="information",
            )
            return
        action = await self.app.push_screen_wait(
            FormModal(
                "Point a member at the master",
                [
                    Field("member", "Member", members[0], choices=members),
                    Field("master", "Master address", master, placeholder="the new master's IP"),
                    *self._password_fields(),
                ],
                lambda values: PointAtMaster(
                    d, values["member"], values["master"].strip(), values.get("password") or None
                ),
            )
        )
        if action is not None and await perform(self.app, action, self.conn):
            self.ask()
