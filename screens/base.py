"""What every area screen shares: the connection bar, the footer and live
refresh from the event cache, limited to the classes the area watches and
coalesced to a few redraws a second so that a busy pool never steals the
keyboard."""

from __future__ import annotations

import time

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.reactive import Reactive
from textual.screen import Screen
from textual.worker import Worker

from xstui.areas import BAR_CLASSES, Area
from xstui.widgets.flow import ask, connected, perform, read
from xstui.widgets.footer import KeysFooter
from xstui.widgets.header import ConnectionBar
from xstui.widgets.rowlist import RowList
from xstui.widgets.tabbed import TabBar, TabbedPanes, TabPane
from xstui.widgets.wizard import Wizard
from xstui.xapi import operations, views
from xstui.xapi.access import ROLE_NAMES

from .act import Act, Turn

REDRAW_INTERVAL = 0.25  # seconds: changes arriving faster are drawn together
# seconds: changes only to what a screen summarises (SUMMARISED: counts of a
# pool's thousands of VMs) are drawn together over this longer time
SUMMARY_INTERVAL = 1.0
# every area's tab keys: one group in its footer, in the tabs' order ("h p s a l Tabs")
TABS = Binding.Group("Tabs")


def tab_keys(area: str, *tabs: tuple[str, str, str]) -> list[Binding]:
    """The keys that show an area's tabs, from (key, pane id, title) in the
    tabs' order: every tab has one, all shown in the footer as one group
    (docs/DIALOGS.md), each named with its tab in the palette and the README."""
    return [
        Binding(key, f"show_tab('{pane}')", title, id=f"{area}.{pane}", group=TABS)
        for key, pane, title in tabs
    ]


async def run_form(turn: Turn, act: Act) -> bool:
    """An action's form (or none), its Action, plan and task: True once done.
    The one worker's path, and a wizard's for an act it leads into. A form
    is a wizard of one step (xstui.widgets.wizard): when the Action's
    precheck or its task fails, the form is back as typed, saying why."""

    def build(values: dict):
        turn.values = values
        return act.build(turn)

    # an act that needs no live connection (pool recovery) acts on its dialog's own
    own = None if act.connection else turn.conn
    fields = act.fields(turn) if act.fields is not None else ()
    if not fields:
        turn.action = await ask(
            turn.app, act.title_of(turn), (), build, precheck=act.precheck, connection=own
        )
        return turn.action is not None and await perform(turn.app, turn.action, own)

    async def form(w: Wizard) -> None:
        turn.action = await w.form(act.title_of(turn), fields, build)
        if act.precheck:
            await w.read(turn.action.precheck, turn.conn)
        await w.perform(turn.action)

    return await Wizard(turn.app, own).run([form])


async def run_act(turn: Turn) -> None:
    """The one path of every action key (see screens.act), whoever offers it:
    an area's screen, or a dialog that declares acts (pool recovery)."""
    act, app = turn.act, turn.app
    if act.connection and not connected(app):
        return
    if act.ready is not None:
        await act.ready(turn)
    if act.subject is not None:
        turn.subject = act.subject(turn)
        if turn.subject is None:
            if act.missing:
                app.notify(act.missing, severity="warning", timeout=6)
            return
    if act.read is not None:
        turn.data = await read(app, act.read, turn, note=act.reading)
        if turn.data is None:
            return
    if act.steps is not None:
        await act.steps(turn)
    elif await run_form(turn, act) and act.after is not None:
        await act.after(turn)


def _key_method(act: Act):
    if act.view is not None:

        def method(self) -> None:
            act.view(self)

    else:

        def method(self) -> None:
            self.perform_act(act)

    method.__name__ = method.__qualname__ = f"action_{act.name}"
    method.__doc__ = act.help or act.label
    return method


class AreaScreen(Screen):
    """Subclasses compose their body in ``compose_body``, redraw in
    ``refresh_view(classes)`` (the wire classes that changed; None: everything)
    and declare their keys in ``ACTS`` (see screens.act); a plain ``BINDINGS``
    list holds only the keys that take a parameter (tab switches)."""

    AREA = ""  # the area's id: the prefix of its binding ids
    ACTS: tuple[Act, ...] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        if "ACTS" in cls.__dict__:  # before Textual merges the bindings
            cls.acts = {a.name: a for a in cls.ACTS}
            cls.BINDINGS = [*cls.__dict__.get("BINDINGS", []), *map(cls.binding_of, cls.ACTS)]
            for act in cls.ACTS:
                setattr(cls, f"action_{act.name}", _key_method(act))
            tabs: dict[str, set[str]] = {}
            for act in cls.ACTS:
                if act.tab:
                    tabs.setdefault(act.tab, set()).add(act.name)
            if tabs:
                cls.TAB_ACTIONS = tabs
        super().__init_subclass__(**kwargs)

    acts: dict[str, Act] = {}
    # Focus moves with every tab key (to the tab's content). The widgets that
    # gain and lose it repaint themselves; Textual's default also repaints the
    # whole screen, a full frame per key for nothing.
    focused: Reactive = Reactive(None, repaint=False)

    @classmethod
    def binding_of(cls, act: Act) -> Binding:
        return Binding(
            act.key, act.name, act.label, id=act.id or f"{cls.AREA}.{act.name}", show=act.show
        )

    ready = False  # set once mounted: cache changes before that are drawn by on_mount
    host = ""  # the host shown, on screens that show one at a time (shown_host)
    # the classes refresh_view draws from (None: all it watches); the others are
    # watched for actions' checks only
    DRAWN_FROM: frozenset[str] | None = None
    # the classes it shows only as a summary (a count), drawn less often
    SUMMARISED: frozenset[str] = frozenset()

    def __init__(self, area: Area) -> None:
        super().__init__()
        self.area = area
        self.watches = frozenset(area.watches) | BAR_CLASSES
        self._dirty: set[str] = set()
        self._redraw_timer = None
        self._redraw_due = 0.0  # when the pending redraw is due (time.monotonic)

    def compose(self) -> ComposeResult:
        yield ConnectionBar()
        yield from self.compose_body()
        yield KeysFooter(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    @property
    def conn(self):
        return self.app.connection

    # Textual calls every class's own on_mount (on_screen_resume...) down the
    # MRO, so a subclass's that calls super() to draw at its chosen moment has
    # this one called twice; and it posts two ScreenResume events for a screen
    # that opens a mode, each restyling and repainting the whole screen.
    # ``_area_drawn``: drawn since the screen last came into view;
    # ``_area_resumed``: a ScreenResume seen since then. A second of either
    # does nothing.
    _area_drawn = False
    _area_resumed = False

    def on_mount(self) -> None:
        if self.ready:
            return
        self.refresh_bar()
        self.refresh_view(None)
        self.ready = self._area_drawn = True

    def on_screen_resume(self, event: events.ScreenResume | None = None) -> None:
        if event is not None:  # Textual's dispatch (a subclass's super() call passes none)
            if self._area_resumed:
                event.prevent_default()  # Screen's restyle and repaint, the same again
                return
            self._area_resumed = True
            if self._area_drawn:  # just mounted, its styles are fresh: not again
                event.refresh_styles = False
        if self.ready and not self._area_drawn:
            self._area_drawn = True
            self.refresh_bar()
            self.refresh_view(None)

    def on_screen_suspend(self) -> None:
        self._area_drawn = self._area_resumed = False

    def on_resize(self, event: events.Resize) -> None:
        # After a layout that changed its size (its first, from 0x0), Textual's
        # screen posts itself a Resize of it: a second layout and frame, the
        # same. A terminal's resize comes from the app and is laid out.
        if event._sender is self:
            event.prevent_default()

    def cache_changed(self, classes: frozenset[str]) -> None:
        """Note what changed; draw it at most every REDRAW_INTERVAL (every
        SUMMARY_INTERVAL while all that changed is SUMMARISED)."""
        relevant = classes & self.watches
        if not relevant:
            return
        if relevant & BAR_CLASSES:
            # the pool's and host's names: at once (drawn only if they
            # changed), not REDRAW_INTERVAL after the pool's first part
            self.refresh_bar()
        self._dirty |= relevant
        delay = SUMMARY_INTERVAL if self._dirty <= self.SUMMARISED else REDRAW_INTERVAL
        due = time.monotonic() + delay
        if self._redraw_timer is not None:
            if self._redraw_due <= due:
                return
            self._redraw_timer.stop()  # something drawn sooner came
        self._redraw_due = due
        self._redraw_timer = self.set_timer(delay, self._redraw)

    @property
    def redraw_pending(self) -> bool:
        """Changes noted and not drawn yet (drawn within SUMMARY_INTERVAL)."""
        return self._redraw_timer is not None

    def _redraw(self) -> None:
        self._redraw_timer = None
        classes, self._dirty = frozenset(self._dirty), set()
        try:
            self.refresh_view(classes)
            self.refresh_bindings()  # what the objects allow may have changed
        except NoMatches:
            pass  # the screen is being taken down (the app is quitting)

    # RBAC and the objects' state: one mechanism for every area ----------------
    def refusal(self, action: str) -> str:
        """Why this screen action cannot run now ('' if it can): the session's
        role may not make its calls, or the chosen objects cannot do it."""
        act, conn = self.acts.get(action), self.conn
        if act is None or conn is None:
            return ""
        why = conn.access.refusal(act.calls) if act.calls else ""
        if why:
            return why
        # what the screen knows first (it says why in this pool's own terms),
        # then the release: one of its ways is enough
        why = act.refuse(self) if act.refuse is not None else ""
        if why:
            return why
        if act.builds:
            reasons = [a.unavailable(conn) for a in act.builds]
            if all(reasons):
                return reasons[0]
        if act.operation is None:
            return ""
        cls, op = act.operation
        refs, first = self.targets(cls), ""
        with conn.cache.lock:
            for ref in refs:  # one that can is enough (the others are named when it runs)
                reason = operations.refusal(conn.cache, cls, ref, op)
                if not reason:
                    return ""
                first = first or reason
        return first if len(refs) <= 1 else f"none of the {len(refs)} chosen can ({first})"

    def targets(self, cls: str) -> list[str]:
        """The objects of wire class ``cls`` the screen's actions would act on
        (the chosen rows); screens with an Act's ``operation`` say."""
        return []

    @on(RowList.Moved)
    @on(RowList.Marked)
    def _targets_changed(self) -> None:
        """What the keys act on changed: their disabled state follows."""
        self.refresh_bindings()

    # screens with tabs: each tab's own keys, hidden (and inactive) on the others
    TAB_ACTIONS: dict[str, set[str]] = {}

    @property
    def tab(self) -> str:
        """The tab shown; none until the panes are mounted (the keys asked
        about before then look for widgets on them)."""
        try:
            tabs = self.query_one(TabbedPanes)
        except NoMatches:
            return ""
        return tabs.active if tabs.is_mounted else ""

    def on_tabbed_panes_tab_activated(self, event: TabbedPanes.TabActivated) -> None:
        self.refresh_bindings()

    def show_first_tab(self) -> None:
        """The area's own key again: its first tab, and the keys back on its
        lists (not on the tab bar, where arrows change tabs)."""
        try:
            tabs = self.query_one(TabbedPanes)
        except NoMatches:
            return
        first = next(iter(tabs.query(TabPane)), None)
        if first is None or first.id is None:
            return
        if hasattr(self, "action_show_tab"):  # the screen's own (it focuses the tab's list)
            self.action_show_tab(first.id)
        else:
            tabs.active = first.id
        self.call_after_refresh(self._focus_off_tabs)

    def _focus_off_tabs(self) -> None:
        if self.focused is None or isinstance(self.focused, TabBar):
            target = next((w for w in self.focus_chain if not isinstance(w, TabBar)), None)
            if target is not None:
                target.focus()

    def offers(self, act: Act) -> bool:
        """The act is offered here and now (otherwise hidden and inactive)."""
        if act.dom0 and not self.app.in_dom0:
            return False
        if act.tab and self.TAB_ACTIONS and self.tab != act.tab:
            return False
        return act.offered is None or act.offered(self)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_tab":  # every tab's key, the one shown too (the group stays whole)
            return True
        act = self.acts.get(action)
        if act is not None and not self.offers(act):
            return False
        return None if self.refusal(action) else True  # None: shown disabled

    def on_key(self, event: events.Key) -> None:
        """A disabled action's key says why instead of doing nothing; the key
        of an action of another tab says which tab, and the key that shows it."""
        if self._taken_by_focus(event.key):
            return  # the focused field's own (Enter in the filter submits it)
        mine = [
            b for b in self.BINDINGS if isinstance(b, Binding) and event.key in self.app.keys_of(b)
        ]
        for binding in mine:
            reason = self.refusal(binding.action)
            if reason and self.check_action(binding.action, ()) is None:
                event.stop()
                self.app.notify(f"{binding.description}: {reason}.", severity="warning", timeout=6)
                return
        acts = [self.acts.get(b.action) for b in mine]
        if not mine or not all(a is not None and not self.offers(a) for a in acts):
            return
        act = acts[0]
        event.stop()
        if act.tab and self.TAB_ACTIONS and act.tab != self.tab:
            shows = next(
                (b for b in self.BINDINGS if getattr(b, "action", "") == f"show_tab('{act.tab}')"),
                None,
            )
            label = self.query_one(TabbedPanes).title(act.tab)
            key = f" ({self.app.key_shown(shows)} shows it)" if shows is not None else ""
            said = f"on the {label} tab{key}"
        elif act.dom0 and not self.app.in_dom0:
            said = "only in the host's dom0 (xstui local there)"
        else:
            said = "not for what is shown now"
        self.app.notify(f"{act.label}: {said}.", timeout=6)

    def _taken_by_focus(self, key: str) -> bool:
        """The focused widget, or one around it below the screen, binds ``key``."""
        node = self.focused
        while node is not None and node is not self:
            if key in node._bindings.key_to_bindings:
                return True
            node = node.parent
        return False

    def press(self, name: str) -> None:
        """Run an act as its key would (from the palette): on its tab, or
        say why it cannot run."""
        act = self.acts[name]
        if act.tab and self.TAB_ACTIONS and self.tab != act.tab:
            self.query_one(TabbedPanes).active = act.tab
        reason = self.refusal(name)
        if reason:
            self.app.notify(f"{act.label}: {reason}.", severity="warning", timeout=6)
        elif self.offers(act) or act.tab:
            getattr(self, f"action_{name}")()
        else:
            self.app.notify(f"{act.label}: not offered here now.", severity="warning")

    @work(exit_on_error=False, group="action", description="action")
    async def perform_act(self, act: Act) -> None:
        """The one worker behind every action key."""
        await run_act(Turn(self, act))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker of this screen (an action's) failed: said as the app's are,
        not lost (the message does not bubble to the app)."""
        self.app.on_worker_state_changed(event)

    def refresh_bar(self) -> None:
        conn = self.conn
        if conn is None:
            return
        try:
            bar = self.query_one(ConnectionBar)
        except NoMatches:
            return  # the screen is being taken down (the app is quitting)
        cache = conn.cache
        with cache.lock:
            pool = views.pool(cache)
            host = cache.get("host", conn.this_host)
            role = views.host_role(cache, conn.this_host) if host is not None else ""
        # while reconnecting, the last known state stays on screen, dimmed
        self.set_class(conn.state != "connected", "-stale")
        bar.show(
            pool=pool.name_label if pool else "",
            host=host.name_label if host else "",
            role=role,
            user=conn.user
            if conn.access.superuser
            else f"{conn.user} ({ROLE_NAMES[conn.access.role]})",
            state=conn.state,
            url=conn.target.shown,
            encrypted=conn.target.encrypted,
            detail=conn.state_detail,
        )

    def shown_host(self) -> str:
        """For screens that show one host at a time (``self.host``): it, or
        the session's host at first or once it has left the pool."""
        conn = self.conn
        hosts = conn.cache.table("host")
        if self.host not in hosts:
            self.host = conn.this_host if conn.this_host in hosts else next(iter(hosts))
        return self.host

    def next_host(self) -> None:
        """Show the next host, by name."""
        hosts = sorted(self.conn.cache.table("host").values(), key=lambda h: h.name_label)
        refs = [h.ref for h in hosts]
        self.host = refs[(refs.index(self.host) + 1) % len(refs)] if self.host in refs else refs[0]
        self.refresh_view()

    def drawable(self, classes: frozenset[str] | None) -> bool:
        """What this screen watches is loaded (a first load comes in parts)
        and something it draws changed."""
        conn = self.conn
        if conn is None or not conn.cache.table("host") or not conn.cache.ready(self.watches):
            return False
        return classes is None or self.DRAWN_FROM is None or bool(classes & self.DRAWN_FROM)

    def refresh_view(self, classes: frozenset[str] | None) -> None:
        """Redraw from the cache: ``classes`` changed (None: draw everything)."""

    def set_tab_count(self, pane: str, title: str, rows: int) -> None:
        """A tab's title with the number of rows it lists, "(n)" meaning that
        in every area (docs/DIALOGS.md); none listed, no number."""
        self.set_tab_label(pane, f"{title} ({rows})" if rows else title)

    def set_tab_label(self, pane: str, label: str) -> None:
        """Retitle a tab (e.g. with a count)."""
        self.query_one(TabbedPanes).retitle(pane, label)
