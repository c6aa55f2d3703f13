"""What an area offers, as data: each screen declares its keys as ``Act``s
and :class:`screens.base.AreaScreen` makes of them the bindings, the footer,
the palette's commands, the dimming with its reason, and one worker that
runs every action the same way:

    connected? -> what it acts on -> read before the dialog (in a thread)
    -> the form (or none) -> the Action -> its plan, confirmed -> the task
    -> what follows a success

An Act's callables take one argument, the :class:`Turn` (the screen, the
connection, what the admin chose, what was read, what the form holds), so a
declaration reads top to bottom like the dialog it makes. Adding an action
touches its declaration and its service, nothing else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from xstui.services.actions import Action
from xstui.services.fields import Field


@dataclass
class Turn:
    """One press of an action's key, as it goes along."""

    screen: Any  # the AreaScreen
    act: Any = None  # the Act pressed
    subject: Any = None  # what it acts on (Act.subject), once chosen
    data: Any = None  # what Act.read returned
    values: dict = field(default_factory=dict)  # what the form holds
    action: Action | None = None  # once built

    @property
    def app(self):
        return self.screen.app

    @property
    def conn(self):
        return self.screen.conn

    @property
    def cache(self):
        return self.screen.conn.cache

    @property
    def way(self) -> type[Action] | None:
        """The first of the act's Actions this release can make (its ``builds``
        in order of preference: XAPI's way, then an older release's)."""
        return next((a for a in self.act.builds if not a.unavailable(self.conn)), None)


def _text(value: str | Callable[[Turn], str], turn: Turn) -> str:
    return value(turn) if callable(value) else value


@dataclass(frozen=True)
class Act:
    """One key of an area. Three kinds:

    - an action: ``build`` makes the Action (from ``fields`` when it asks
      anything), run by the one worker;
    - a wizard: ``steps`` (async) leads several dialogs, still started by the
      one worker, with the same checks before it;
    - a view: ``view`` changes what the screen shows, at once, offline too.
    """

    key: str
    name: str  # the screen's action: the key runs action_<name>
    label: str  # in the footer and the palette
    help: str = ""  # the palette's second line
    id: str = ""  # the binding id the keymap names; default "<area>.<name>"
    show: bool = True  # in the footer (always in the palette)
    tab: str = ""  # offered only while this tab is shown
    dom0: bool = False  # offered only when the console runs in dom0 (xstui local)
    # offered at all (hidden and inactive otherwise): e.g. dom0-only keys
    offered: Callable[[Any], bool] | None = None
    # RBAC: the Actions it may make; the key is dimmed when the role may not make their calls
    builds: Sequence[type[Action]] = ()
    # (wire class, operation): dimmed when none of the screen's targets allows it now
    operation: tuple[str, str] | None = None
    # why not for what the screen has chosen ('' when it can): dimmed, and said when pressed
    refuse: Callable[[Any], str] | None = None
    # awaited first: what the screen is still reading and its subject comes from
    # (an area just shown from the palette), so that the first press is not lost
    ready: Callable[[Turn], Awaitable[None]] | None = None
    # what it acts on (the row under the cursor, the host shown): None -> ``missing`` is said
    subject: Callable[[Turn], Any] | None = None
    missing: str = ""
    # a read before the dialog, in a thread (a probe, the host's lists): None -> stop
    read: Callable[[Turn], Any] | None = None
    reading: str = ""  # said while it reads
    title: str | Callable[[Turn], str] = ""
    fields: Callable[[Turn], Sequence[Field]] | None = None
    build: Callable[[Turn], Action] | None = None
    precheck: bool = False  # run the Action's own reads (XAPI's checks) before its plan
    after: Callable[[Turn], Awaitable[None]] | None = None  # once it succeeded
    steps: Callable[[Turn], Awaitable[None]] | None = None
    view: Callable[[Any], None] | None = None
    connection: bool = True  # needs a live connection

    def __post_init__(self) -> None:
        kinds = sum(x is not None for x in (self.build, self.steps, self.view))
        if kinds != 1:
            raise TypeError(f"{self.name}: one of build, steps or view")

    @property
    def calls(self) -> tuple[str, ...]:
        """The XAPI calls its Actions make (what RBAC checks)."""
        return tuple(dict.fromkeys(c for action in self.builds for c in action.calls))

    def title_of(self, turn: Turn) -> str:
        return _text(self.title, turn) or self.label
