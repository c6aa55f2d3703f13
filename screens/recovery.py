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
from xstui.screens.act import Act, Turn
from xstui.screens.base import run_act

from xstui.areas import see
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


# the emergency paths, declared as the areas declare theirs (screens.act) ---------------------
def _followers(d: Diagnosis) -> list[str]:
    """The members that answer and follow a master."""
    return [m.name for m in d.members if m.follows]


def _astray(d: Diagnosis) -> list[str]:
    """The members that answer and follow another master than the one that answers."""
    return [m.name for m in d.members if m.follows and m.follows != d.new_master]


def _with(members):
    """An Act's subject: the diagnosis, when it has members of that kind."""

    def subject(turn) -> Diagnosis | None:
        d = turn.screen.diagnosis
        return d if d is not None and members(d) else None

    return subject


def _member_field(label: str, members, turn) -> Field:
    """The member to act on, chosen among the diagnosis' members of that kind."""
    names = members(turn.subject)
    return Field("member", label, names[0], choices=names)


def _password_fields(turn) -> list[Field]:
    """In dom0 the socket took the console's login without a password;
    another host's own login over HTTPS needs root's."""
    if turn.conn.target.kind != "local":
        return []
    return [Field("password", "Root password", "", password=True)]


def _password(turn) -> str | None:
    return turn.values.get("password") or None


def _ha_off_hosts(turn) -> Diagnosis | None:
    """The answers, when a host answers to switch HA off on (said otherwise)."""
    d = turn.screen.diagnosis
    if d is None:
        return None
    try:
        EmergencyHaOff(d)
    except InvalidInput as exc:
        notify_error(turn.app, exc)
        return None
    return d


def _trustable(turn) -> tuple | None:
    """The certificates that may be trusted (None: none, or no answers yet)."""
    d = turn.screen.diagnosis
    hosts = tuple(trustable(d)) if d is not None else ()
    return hosts or None


async def _trust(turn) -> None:
    """One confirmation for every certificate that may be trusted."""
    hosts, d = turn.subject, turn.screen.diagnosis
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
    refused = [h.name for h in d.untrusted if h not in hosts]
    if refused:
        lines.append(
            f"Not trusted, whatever the answer: {', '.join(refused)} (not the certificate "
            "the pool recorded, or this console pinned)."
        )
    answer = await turn.app.push_screen_wait(
        ChoiceModal(
            "Trust these certificates?",
            "Trusted until the console disconnects, for asking these hosts and acting on "
            "them; nothing is saved.\n\n" + "\n".join(lines),
            [("trust", "Trust"), ("cancel", "Cancel")],
        )
    )
    if answer == "trust":
        trust_for_session(turn.conn, hosts)
        turn.screen.ask_again()


async def _ask_again(turn) -> None:
    turn.screen.ask_again()


async def _taken_over(turn) -> None:
    """At connect, the console goes on to the new master; later, the hosts are asked again."""
    if turn.screen.connection is not None:
        turn.screen.dismiss(True)
    else:
        turn.screen.ask_again()


ACTS = (
    Act(
        "t",
        "takeover",
        "Take over",
        help="A member becomes the master (the master is dead and HA is off)",
        builds=(TakeOverAsMaster,),
        subject=_with(_followers),
        missing="No member answers: nothing can take over.",
        title="Which member becomes the master?",
        fields=lambda t: [
            _member_field("New master", _followers, t),
            *_password_fields(t),
        ],
        build=lambda t: TakeOverAsMaster(t.subject, t.values["member"], _password(t)),
        after=_taken_over,
        connection=False,
    ),
    Act(
        "p",
        "point",
        "Point member",
        help="Point a member that follows a dead master at the master that answers",
        builds=(PointAtMaster,),
        subject=_with(_astray),
        missing="Every member that answers already follows the master that answers.",
        title="Point a member at the master",
        fields=lambda t: [
            _member_field("Member", _astray, t),
            Field(
                "master", "Master address", t.subject.new_master, placeholder="the new master's IP"
            ),
            *_password_fields(t),
        ],
        build=lambda t: PointAtMaster(
            t.subject, t.values["member"], t.values["master"].strip(), _password(t)
        ),
        after=_ask_again,
        connection=False,
    ),
    Act(
        "h",
        "haoff",
        "HA off",
        help="Switch HA off on every host that answers (HA on but broken)",
        builds=(EmergencyHaOff,),
        subject=_ha_off_hosts,
        title="Switch HA off",
        fields=_password_fields,
        build=lambda t: EmergencyHaOff(t.subject, _password(t)),
        after=_ask_again,
        connection=False,
    ),
    Act(
        "u",
        "trust",
        "Trust",
        help="Trust the members' certificates that match what the pool recorded",
        subject=_trustable,
        steps=_trust,
        connection=False,
    ),
)


class RecoveryModal(Dialog):
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="recovery.close"),
        # each path's key, as on its button
        *(Binding(a.key, f"act('{a.name}')", a.label, id=f"recovery.{a.name}") for a in ACTS),
    ]
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
                Button("Point", id="point", compact=True),
                Button("HA off", id="haoff", compact=True),
                trust,
                Button("Ask again", id="ask", variant="primary", compact=True),
                # the paths' keys in words: on the buttons they did not fit 80 columns
                hint="t take over, p point a member, h HA off, u trust",
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
                f"a healthy pool, use Designate a new master in {see('host', 'D')}. A member that "
                "answers "
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
    def ask_again(self) -> None:
        self.query_one("#recovery-state", Static).update("Asking every host who its master is...")
        self.ask()

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss()

    @on(Button.Pressed, "#takeover, #point, #haoff, #trust")
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_act(event.button.id)

    def action_act(self, name: str) -> None:
        act = next(a for a in ACTS if a.name == name)
        if name != "trust" or self.query_one("#trust", Button).display:
            self.perform_act(act)

    @work(exclusive=True, exit_on_error=False, group="recovery-action", description="recovery")
    async def perform_act(self, act: Act) -> None:
        """The areas' one path (screens.base.run_act), on this dialog's connection."""
        await run_act(Turn(self, act))
