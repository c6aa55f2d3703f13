"""The xstui application: one mode per admin area, a connection that feeds
every screen from the event stream, the command palette."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from importlib import import_module
from importlib.resources import files

from textual import events, work
from textual._callback import invoke
from textual._context import active_app
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from xstui.screens.connect import ConnectScreen

from .areas import AREAS, Area, see
from .logfile import setup_logging
from .services.actions import Plan
from .services.host.local import child_environment
from .terminal.driver import minimal_output_driver, raw_output_wanted
from .widgets.ascii import ascii_driver, ascii_terminal, monochrome
from .widgets.console import GO_TO, AreasFirst, ConsolePalette, adapt_textual, is_linux_console
from .widgets.notice import clear_notices, notify_error
from .widgets.plan import PlanModal
from .widgets.progress import TaskProgressModal
from .xapi.config import Config
from .xapi.connection import Connection
from .xapi.targets import parse_target


class AppEnded(RuntimeError):
    """A worker's result came after the app had ended: nobody is left to show it."""

    def __init__(self) -> None:
        super().__init__("the console has ended")


@dataclass
class CacheChanged(Message):
    """Some classes changed in the cache. A burst coalesces into one message
    that carries the classes of every message it replaced."""

    classes: frozenset[str] = field(default_factory=frozenset)

    def can_replace(self, message: Message) -> bool:
        if isinstance(message, CacheChanged):
            self.classes = self.classes | message.classes
            return True
        return False


@dataclass
class ConnectionStateChanged(Message):
    state: str
    detail: str = ""


def screen_class(area: Area) -> type[Screen]:
    """The area's screen class, imported when first needed (shown, or its
    actions listed in the palette)."""
    module, name = area.screen.split(":")
    return getattr(import_module(module), name)


def styled_as_now(make: Callable[[], Screen]) -> Callable[[], Screen]:
    """A mode's screen factory whose screens count as styled by the CSS as
    it is: Textual counts a new screen's styles as out of date, and so
    reparsed every stylesheet twice and restyled the shown screen twice
    when a mode was first shown (8 ms each parse, at start and on each
    area's first key). A new screen is styled as it mounts; a change of
    theme still restyles every screen (App.refresh_css)."""

    def made() -> Screen:
        screen = make()
        screen._css_update_count = active_app.get()._css_update_count
        return screen

    return made


def _screen_factory(area: Area):
    return styled_as_now(lambda: screen_class(area)(area))


def fleet_module():
    """The fleet's screens, imported when first shown."""
    return import_module("xstui.screens.fleet")


IDLE_CHECK_SECONDS = 15
LEFTOVERS_WAIT = 60  # seconds for the pool to be read before looking for leftovers


class XstuiApp(App):
    TITLE = "xstui"
    CSS_PATH = str(files("xstui.assets").joinpath("xstui.tcss"))
    # the fleet overview, and the connect screen it opens pools through
    MODES = {
        **{a.id: _screen_factory(a) for a in AREAS},
        "fleet": styled_as_now(lambda: fleet_module().FleetScreen()),
        "connect": styled_as_now(lambda: fleet_module().FleetConnectScreen()),
    }
    COMMANDS = {AreasFirst}  # the palette, opened, lists the areas and their keys first
    BINDINGS = [
        # area keys stay out of the footer (it has 80 columns for the screen's own keys)
        *(Binding(a.key, f"area('{a.id}')", a.title, id=f"app.{a.id}", show=False) for a in AREAS),
        # priority: it works in every dialog too (the progress box included)
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("ctrl+r", "pool_recovery", "Pool recovery", id="app.recovery", show=False),
        Binding("f12", "show_fleet", "Fleet", id="app.fleet", show=False),
        Binding(
            "f11", "next_problem_pool", "Next pool with a finding", id="app.fleet_next", show=False
        ),
        # Textual's keys panel (palette: Keys) closes with Escape as a dialog
        # does; while it is not shown, Escape is the screen's (check_action)
        Binding(
            "escape", "hide_help_panel", "Close", id="app.keys_close", show=False, priority=True
        ),
    ]
    MASTER_CHECK_SECONDS = 8  # reconnecting this long: ask the members about the master

    def __init__(
        self,
        connection: Connection | None = None,
        *,
        target: str = "",
        user: str = "root",
        config: Config | None = None,
        demo=None,
        demo_release: str = "",
        demo_scenario: str = "demo",
        head_start=None,
        fleet: list | None = None,
        fleet_baseline=None,
    ):
        self.linux_console = is_linux_console()  # TERM=linux: PC console glyphs only
        if self.linux_console:
            adapt_textual()
        super().__init__()
        self.connection: Connection | None = None
        self.config = config or Config.load()
        self.head_start = head_start  # the login begun before this (xstui.login), used once
        self.theme = (
            self.config.theme if self.config.theme in self.available_themes else "textual-dark"
        )
        self._initial_connection, self._target, self._user = connection, target, user
        self.demo, self.demo_release = demo, demo_release
        self.demo_scenario = demo_scenario  # xstui demo --dr: the recovery pool ("dr")
        self._shown_state = "connected"
        self.fleet = None  # the overview's light connections (screens.fleet), once shown
        self.fleet_pools = fleet  # a fleet file's pools (xstui fleet FILE); else the saved ones
        self.fleet_baseline = fleet_baseline  # the overview's Drift (xstui fleet --baseline)

    def notify(self, message: str, *, markup: bool = False, **kwargs) -> None:
        """Notices quote names from XAPI: they are text, never markup."""
        super().notify(message, markup=markup, **kwargs)

    def action_help_quit(self) -> None:
        """Ctrl+C (which quits most programs) says how to quit, in plain text."""
        for active in self.active_bindings.values():
            if active.binding.action in ("quit", "app.quit"):
                key = self.get_key_display(active.binding)
                self.notify(f"Ctrl+C does not quit here: press {key} to quit.", timeout=4)
                return

    def get_driver_class(self):
        """Textual's terminal driver, writing only the cells that changed
        (unless XSTUI_RAW_OUTPUT=1) and ASCII only where the locale is not
        UTF-8 (tests' headless driver is chosen elsewhere)."""
        driver = super().get_driver_class()
        if hasattr(driver, "_get_terminal_size") and not raw_output_wanted():
            driver = minimal_output_driver(driver)
        return ascii_driver(driver) if ascii_terminal() else driver

    def call_from_thread(self, callback, *args, **kwargs):
        """Textual's, except that the worker stops waiting once the app has
        ended: a call queued as the app quits may never run, and a worker
        blocked on it forever would keep the process from ending."""
        loop = self._loop
        if loop is None or loop.is_closed():
            raise AppEnded()
        call = partial(callback, *args, **kwargs)

        async def run():
            with self._context():
                return await invoke(call)

        future = asyncio.run_coroutine_threadsafe(run(), loop)
        while True:
            try:
                return future.result(timeout=0.1)
            except concurrent.futures.TimeoutError:
                if loop.is_closed() or not self.is_running:
                    future.cancel()
                    raise AppEnded() from None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one handler for workers that failed: a notice, details in the log."""
        error = event.worker.error
        if event.state == WorkerState.ERROR and error and not isinstance(error, AppEnded):
            notify_error(self, error)

    def on_mount(self) -> None:
        setup_logging()
        self.set_class(self.linux_console, "-console")
        self.set_class(monochrome(), "-mono")
        if self.config.keymap:
            self.set_keymap(self.config.keymap)
        if self.config.problem:
            self.notify(
                f"{self.config.problem}. The file is left as it is and nothing is saved.",
                severity="warning",
                timeout=15,
            )
        if self._initial_connection is not None:
            self.attach(self._initial_connection)
        elif self.head_start is not None:
            self._take_head_start()
        else:
            self.push_screen(ConnectScreen(self._target, self._user))
            if self.fleet_pools or (not self._target and fleet_module().wants_fleet(self.config)):
                self.action_show_fleet()
        self._last_key = time.monotonic()
        self.set_interval(IDLE_CHECK_SECONDS, self._check_idle)

    # auto-logout and the local shell (xsconsole's) --------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):  # every key passes here first
            self._last_key = time.monotonic()
        await super().on_event(event)

    def _check_idle(self) -> None:
        """Quit after the configured minutes without a key, as xsconsole logs
        out: on a console left open (iLO, tty1) nobody else finds it logged in."""
        minutes = self.config.idle_logout_minutes
        if minutes and time.monotonic() - self._last_key > minutes * 60:
            if any(isinstance(s, TaskProgressModal) for s in self.screen_stack):
                return  # never in the middle of an action
            self._shut_down()

    @work(exclusive=True, group="idle")
    async def action_idle_logout(self) -> None:
        from .services.fields import Field
        from .widgets.form import FormModal
        from .xapi.config import IDLE_CHOICES

        labels = {("never" if m == 0 else f"{m} minutes"): m for m in IDLE_CHOICES}
        now = self.config.idle_logout_minutes
        current = next((label for label, m in labels.items() if m == now), f"{now} minutes")
        chosen = await self.push_screen_wait(
            FormModal(
                "Quit by itself after how long without a key?",
                [Field("minutes", "Auto-logout", current, choices=list(labels))],
                lambda v: labels.get(v["minutes"], now),
            )
        )
        if chosen is None:
            return
        self.config.idle_logout_minutes = chosen
        saved = self.config.save()
        self.notify(
            f"Auto-logout: {'never' if not chosen else f'after {chosen} minutes'}"
            + ("." if saved else f" (this session only: {self.config.problem})."),
            timeout=6,
        )

    def action_local_shell(self) -> None:
        """dom0's shell, the console suspended meanwhile (exit comes back)."""
        conn = self.connection
        if conn is None or conn.target.kind != "local":
            self.notify(
                "The local shell is dom0's: run xstui local there (here, use ssh).",
                severity="warning",
                timeout=8,
            )
            return
        shell = os.environ.get("SHELL") or "/bin/bash"
        with self.suspend():
            print("xstui: a shell in dom0. Type exit to come back to the console.", flush=True)
            try:
                subprocess.call([shell], env=child_environment())
            except OSError as exc:
                print(f"xstui: cannot run {shell}: {exc}", flush=True)
        self._last_key = time.monotonic()

    async def action_area(self, area: str) -> None:
        """An area's key: the area, without the notices of the one left (they
        said what happened there); pressed in its own area, its first tab."""
        if self.current_mode == area:
            show_first_tab = getattr(self.screen, "show_first_tab", None)
            if show_first_tab is not None:
                show_first_tab()
            return
        clear_notices(self)
        await self.switch_mode(area)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # the areas need a connection: hide their keys until there is one
        if action in ("switch_mode", "area") and self.connection is None:
            return False
        if action == "hide_help_panel":
            return bool(self.screen.query("HelpPanel"))
        return True

    # connection ------------------------------------------------------------
    def start_demo(self):
        from .demo import start_demo

        self.demo = start_demo(self.demo_scenario, release=self.demo_release)
        return self.demo

    @work(exclusive=True, group="head-start")
    async def _take_head_start(self) -> None:
        """The login begun before the app (xstui.login.HeadStart): its pool
        shown at once; a refusal goes to the connect screen, which takes it
        as its own (a certificate to trust, a master gone, a wrong password)."""
        head_start = self.head_start
        if await asyncio.to_thread(head_start.succeeded):
            self.head_start = None
            self.opened(head_start.connection, self._target)
        else:
            self.push_screen(ConnectScreen(self._target, self._user))

    def opened(self, connection: Connection, typed: str) -> None:
        """A login made to what the admin ``typed``: a remote target
        remembered (Connect offers it next time), the pool shown."""
        if connection.target.kind == "remote" and self.demo is None:
            self.config.remember_target(parse_target(typed).url)
            self.config.save()
        self.attach(connection)

    def delay_update(self, delay: float = 0.05) -> None:
        """Textual holds output back for ``delay`` on a mode switch, to mask
        the change; over the start's blank screen there is nothing to mask,
        and the first Status frame would wait for it."""
        if self.screen.id != "_default":
            super().delay_update(delay)

    def attach(self, connection: Connection) -> None:
        """Use a logged-in connection: start its event stream, show Status."""
        if self.connection is not None and self.connection is not connection:
            self._leave_pool()
        from .services.logs import AlarmWatch  # (kept off the app module's imports)

        self.connection = connection
        self.alarms = AlarmWatch()  # the pool's ALARM messages told as they come
        if connection.events_running:  # read already: what is there now is known
            self.alarms.arrived(connection.cache)
        connection.on_change = lambda classes: self.post_message(CacheChanged(frozenset(classes)))
        connection.on_state = lambda state, detail: self.post_message(
            ConnectionStateChanged(state, detail)
        )
        if not connection.events_running:
            connection.start_events()
        # The connect screen stays behind in the default mode: popping it while
        # the Status mode mounts raced with its tabs' first activation.
        self.switch_mode(AREAS[0].id)
        self._offer_leftovers()

    # the fleet (several pools) ------------------------------------------------
    def action_show_fleet(self) -> None:
        """The fleet overview, from anywhere (F12); on it, back to the pool in
        the console (F12 again)."""
        if self.current_mode == "fleet" and self.connection is not None:
            self.show_pool()
            return
        if self.fleet is None:
            self.fleet = fleet_module().start_fleet_watch(self)
        if self.fleet is None:
            self.notify("No saved pools: the fleet is the targets you connected to.", timeout=6)
            return
        self.switch_mode("fleet")

    def action_next_problem_pool(self) -> None:
        """Straight to the next pool of the fleet with a finding (F11, from anywhere)."""
        fleet_module().next_problem_pool(self)

    def show_pool(self) -> None:
        """Back from the fleet to the pool in the console."""
        self.switch_mode(AREAS[0].id)

    @work(exclusive=True, group="open-pool")
    async def open_pool(self, url: str, user: str, password: str) -> None:
        """Open another pool as the connect screen does (its trust questions
        and all): it asks for the password when none is given."""
        await self.switch_mode("connect")
        self.screen.open_target(url, user, password)

    def _leave_pool(self) -> None:
        """Another pool comes into focus: this one's connection ends and the
        areas start afresh (their screens hold this pool's rows)."""
        # its logout may take a moment: not on the screen's time
        threading.Thread(target=self.connection.close, name="xstui-leave", daemon=True).start()
        for area in AREAS:
            if area.id != self.current_mode:
                self.remove_mode(area.id)
                self.add_mode(area.id, _screen_factory(area))

    @work(exclusive=True, exit_on_error=False, group="leftovers")
    async def _offer_leftovers(self) -> None:
        """A job on this pool was killed halfway by an earlier console: what it
        left behind (a snapshot, a partial file) is named, and removed if the
        admin agrees (asked again at the next start otherwise)."""
        from .services.leftovers import to_remove
        from .widgets.flow import perform

        conn = self.connection
        if conn is None or not await asyncio.to_thread(
            conn.cache.wait_for, lambda: conn.cache.table("pool"), LEFTOVERS_WAIT
        ):
            return
        for action in await asyncio.to_thread(to_remove, conn.cache):
            await perform(self, action)

    def _area_screen(self):
        """The visible screen if it draws from the cache (none while quitting)."""
        try:
            screen = self.screen
        except ScreenStackError:
            return None
        return screen if getattr(screen, "ready", False) else None

    def on_cache_changed(self, message: CacheChanged) -> None:
        screen = self._area_screen()
        if screen is not None:
            screen.cache_changed(message.classes)
        alarms = getattr(self, "alarms", None)  # (set once a pool is attached)
        if "message" in message.classes and alarms is not None and self.connection is not None:
            for words in alarms.arrived(self.connection.cache):  # perfmon's, said at once
                self.notify(f"ALARM: {words}; see {see('logs')}.", severity="warning", timeout=15)

    def on_connection_state_changed(self, message: ConnectionStateChanged) -> None:
        screen = self._area_screen()
        if screen is not None:
            screen.refresh_bar()
        # one notice per change of state, not one per retry
        previous, self._shown_state = self._shown_state, message.state
        if message.state == previous:
            return
        if message.state == "reconnecting":
            self.set_timer(self.MASTER_CHECK_SECONDS, self._check_master)
            self.notify(
                f"Connection lost, reconnecting: {message.detail.rstrip('.')}. The last known state stays "
                "on screen, dimmed; actions wait for the connection.",
                severity="warning",
                timeout=8,
            )
        elif message.state == "refused":
            self.notify(f"Stopped reconnecting. {message.detail}", severity="error", timeout=30)
            if self.connection is not None and self.connection.password_refused:
                self.ask_password()
        elif message.state == "connected" and previous in ("reconnecting", "refused"):
            self.notify("Connected again.", timeout=3)

    @work(exclusive=True, group="password")
    async def ask_password(self) -> None:
        """The pool no longer accepts the password: ask for it (see widgets.relogin)."""
        from .widgets.relogin import log_in_again

        await log_in_again(self)

    def action_pool_recovery(self) -> None:
        from .screens.recovery import RecoveryModal

        if self.connection is not None and not isinstance(self.screen, RecoveryModal):
            self.push_screen(RecoveryModal())

    @work(thread=True, exclusive=True, exit_on_error=False, group="master-check")
    def _check_master(self) -> None:
        """Still reconnecting: is the master dead (members still pointing at
        it)? Then the recovery paths are offered instead of waiting on."""
        from .services.pool import diagnose

        conn = self.connection
        if conn is None or conn.state == "connected" or conn.target.kind != "remote":
            return
        found = diagnose(conn)
        if found.master_dead and conn.state != "connected":
            self.call_from_thread(self._offer_recovery, found)

    def _offer_recovery(self, found) -> None:
        from .screens.recovery import RecoveryModal

        if not any(isinstance(s, RecoveryModal) for s in self.screen_stack):
            self.push_screen(RecoveryModal(found))

    async def action_quit(self) -> None:
        """Ctrl+Q always quits; while an action runs, after asking."""
        if any(isinstance(s, TaskProgressModal) for s in self.screen_stack):
            self._confirm_quit()
        else:
            self._shut_down()

    @work(exclusive=True, group="quit")
    async def _confirm_quit(self) -> None:
        plan = Plan(
            "Quit while an action runs?",
            "An action is still running on the pool.",
            [],
            impact=[
                "Its current XAPI task goes on on the host; the steps after it, and the "
                "undo if it fails, do not run. Check the pool when you come back."
            ],
            risk="medium",
        )
        if await self.push_screen_wait(PlanModal(plan)):
            self._shut_down()

    def _shut_down(self) -> None:
        if self.fleet is not None:
            self.fleet.close()
        if self.connection is not None:
            self.connection.close()
        if self.demo is not None:
            self.demo.close()
        self.exit()

    # command palette -------------------------------------------------------
    def get_key_display(self, binding: Binding) -> str:
        """Textual's, but Enter in words: its ⏎ is not in the PC console's
        font (an iLO console draws a blank), and the dialogs say Enter (and Esc)."""
        shown = super().get_key_display(binding)
        return {"⏎": "Enter", "esc": "Esc"}.get(shown, shown)

    def key_shown(self, binding: Binding) -> str:
        """The key of ``binding`` as the user presses it: the config's keymap
        (Textual's, normalised) may have moved it."""
        shown = self.get_key_display(replace(binding, key=self.keys_of(binding)[0]))
        return shown.upper() if re.fullmatch(r"f\d+", shown) else shown  # F8, as on the key

    def action_show_help_panel(self) -> None:
        """Textual's keys panel, beside the screen and under its footer (the
        footer is drawn after it: it keeps its width and its keys apart)."""
        from textual.widgets import Footer, HelpPanel

        if not self.screen.query(HelpPanel):
            footers = self.screen.query_children(Footer)
            self.screen.mount(HelpPanel(), before=footers.first() if footers else None)

    def action_command_palette(self) -> None:
        """Textual's palette; on the Linux console, in PC console glyphs."""
        if self.linux_console and self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(ConsolePalette(id="--command-palette"))
        else:
            super().action_command_palette()

    def keys_of(self, binding: Binding) -> list[str]:
        """The keys that press ``binding``, as the keymap has them."""
        key = self._keymap.get(binding.id, binding.key) if binding.id else binding.key
        return [k.strip() for k in key.split(",")]

    @property
    def in_dom0(self) -> bool:
        """The console runs in the host's dom0 (xstui local)."""
        return self.connection is not None and self.connection.target.kind == "local"

    def _areas_by_key(self) -> list[tuple[Area, str]]:
        """The areas and their keys as shown, F1 to F10 (as the keymap has
        them; a key that is not a function key after those)."""

        def order(pair: tuple[Area, str]) -> tuple[int, str]:
            number = re.fullmatch(r"F(\d+)", pair[1])
            return (int(number.group(1)) if number else 99, pair[1])

        shown = [
            (a, self.key_shown(next(b for b in self.BINDINGS if b.id == f"app.{a.id}")))
            for a in AREAS
        ]
        return sorted(shown, key=order)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if self.connection is not None:  # the areas first, in the order of their keys
            for a, key in self._areas_by_key():
                yield SystemCommand(
                    f"{GO_TO}{a.title}",
                    f"Key: {key} - {a.description}",
                    partial(self.action_area, a.id),
                )
        # the fleet's keys, from anywhere (a fleet of one pool is the saved targets)
        for id_, callback in (
            ("app.fleet", self.action_show_fleet),
            ("app.fleet_next", self.action_next_problem_pool),
        ):
            binding = next(b for b in self.BINDINGS if b.id == id_)
            yield SystemCommand(binding.description, f"Key: {self.key_shown(binding)}", callback)
        yield SystemCommand(
            "Auto-logout", "Quit by itself after minutes without a key", self.action_idle_logout
        )
        if self.in_dom0:
            yield SystemCommand(
                "Local shell", "A shell in dom0; exit comes back", self.action_local_shell
            )
        if self.connection is None:  # the connect screen's own keys
            for binding in screen.BINDINGS if isinstance(screen.BINDINGS, list) else []:
                if isinstance(binding, Binding) and binding.description:
                    yield SystemCommand(
                        binding.description,
                        f"Key: {self.key_shown(binding)}",
                        lambda b=binding: self.run_action(b.action, screen),
                    )
            return
        # every area's keys, from anywhere: the area is shown, then the key pressed
        here = getattr(screen, "area", None)
        for area in AREAS:
            cls = screen_class(area)
            for binding in cls.BINDINGS:
                act = cls.acts.get(binding.action)
                if not isinstance(binding, Binding) or not binding.description:
                    continue
                if act is not None and act.dom0 and not self.in_dom0:
                    continue
                if area is here and act and act.offered is not None and not act.offered(screen):
                    continue
                where = f"{area.title} - Key: {self.key_shown(binding)}"
                yield SystemCommand(
                    binding.description,
                    f"{where} - {act.help}" if act and act.help else where,
                    partial(self._press, area.id, binding.action),
                )

    async def _press(self, area: str, action: str) -> None:
        """An area's key from the palette: the area shown, then the key."""
        if getattr(getattr(self.screen, "area", None), "id", "") != area:
            await self.action_area(area)
        if action in self.screen.acts:
            self.screen.press(action)
        else:  # a tab of the area
            await self.run_action(action, self.screen)
