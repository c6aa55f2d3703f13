"""Every action of every area is declared (screens/act.py), reachable from the
palette from anywhere, labelled so that the Linux console and LANG=C draw it,
and run by the one worker: no screen holds a worker of its own."""

from __future__ import annotations

import ast
import inspect

from textual.binding import Binding
from xstui.screens.base import AreaScreen

from tests.waiting import until
from xstui.app import XstuiApp, screen_class
from xstui.areas import AREAS


def test_no_screen_holds_an_action_worker_of_its_own():
    own = []
    for area in AREAS:
        cls = screen_class(area)
        tree = ast.parse(inspect.getsource(inspect.getmodule(cls)))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for deco in node.decorator_list:
                    text = ast.unparse(deco)
                    if 'group="action"' in text or "group='action'" in text:
                        own.append(f"{area.id}: {node.name}")
    assert not own, own


def test_every_key_of_an_area_is_declared():
    """A binding that is not an Act is a tab switch (its parameter says which)."""
    stray = []
    for area in AREAS:
        cls = screen_class(area)
        assert issubclass(cls, AreaScreen) and cls.ACTS, area.id
        for b in cls.BINDINGS:
            if isinstance(b, Binding) and b.action not in cls.acts:
                if not b.action.startswith("show_tab("):
                    stray.append(f"{area.id}: {b.key} {b.action}")
    assert not stray, stray


def test_every_label_is_ascii_and_short():
    """ASCII draws on any console (PC glyphs, LANG=C); a footer key stays short."""
    bad = []
    for area in AREAS:
        for act in screen_class(area).ACTS:
            for text in (act.label, act.help, act.key):
                if not text.isascii():
                    bad.append(f"{area.id}.{act.name}: {text!r}")
            if len(act.label) > 20:
                bad.append(f"{area.id}.{act.name}: label of {len(act.label)} characters")
    assert not bad, bad


async def test_every_action_is_in_the_palette_from_anywhere(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "ready", False), what="Status")
        commands = {(c.title, c.help.split(" - ")[0]) for c in app.get_system_commands(app.screen)}
        missing = [
            f"{area.title}: {act.label}"
            for area in AREAS
            for act in screen_class(area).ACTS
            if not act.dom0  # a remote console: dom0 jobs are not offered
            and (act.label, area.title) not in commands
        ]
        assert not missing, missing


async def test_the_palette_presses_an_action_of_another_area(running_sim, connection):
    """From Status, Networking's Bond: the area is shown and its form opens."""
    from xstui.widgets.form import FormModal

    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "ready", False), what="Status")
        bond = next(
            c
            for c in app.get_system_commands(app.screen)
            if c.title == "Bond" and c.help.startswith("Networking")
        )
        await bond.callback()
        await until(pilot, lambda: isinstance(app.screen, FormModal), what="the bond form")
        assert app.screen.title_text == "Create a bond on every host"


async def test_enter_goes_on_from_a_pick_list_as_from_any_field(running_sim, connection):
    """The dialog grammar (docs/DIALOGS.md): Enter is the way on in every
    field, a pick list too; Space opens the list, Escape goes back."""
    from xstui.screens.host import HostScreen

    from xstui.widgets.form import Choice, FormModal
    from xstui.widgets.plan import PlanModal

    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "ready", False), what="Status")
        await pilot.press("f7")
        # the pool read (Status is ready before it is): a host chosen for the key to act on
        await until(
            pilot,
            lambda: isinstance(app.screen, HostScreen) and app.screen.ready and app.screen.host,
            what="Host, with its host chosen",
        )
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, FormModal), what="the SSH form")
        choice = app.screen.query_one("#field-ssh", Choice)
        assert app.screen.focused is choice
        await pilot.press("space")
        await until(pilot, lambda: choice.expanded, what="the list open")
        await pilot.press("escape")
        await until(pilot, lambda: not choice.expanded, what="the list closed")
        assert isinstance(app.screen, FormModal)  # Escape closed the list, not the form
        choice.value = "off" if choice.value == "on" else "on"  # unchanged is refused
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PlanModal), what="the plan")
