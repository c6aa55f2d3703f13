"""At 80x24 on the Linux text console (TERM=linux, the iLO/DRAC case): every
screen and dialog uses only glyphs a PC console font has, text wraps instead
of being cut, and the buttons stay on screen."""

from __future__ import annotations

import pytest
from textual.renderables.bar import Bar
from textual.scrollbar import ScrollBarRender
from xstui.screens.ha import HaScreen
from xstui.screens.host import HostScreen, PrecheckModal
from xstui.screens.security import SecurityScreen
from xstui.screens.vms import VmsScreen

from tests.app.test_network_app import fill_form, open_network
from tests.waiting import form_mounted, until
from xstui.app import XstuiApp
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.console import foreign_glyphs
from xstui.widgets.countdown import CountdownModal
from xstui.widgets.form import FormModal
from xstui.widgets.plan import PlanModal
from xstui.widgets.rowlist import RowList


@pytest.fixture
def console(monkeypatch):
    """TERM=linux for the app; Textual's process-wide glyphs put back afterwards."""
    monkeypatch.setenv("TERM", "linux")
    saved = (Bar.HALF_BAR_LEFT, Bar.BAR, Bar.HALF_BAR_RIGHT)
    bars = (list(ScrollBarRender.VERTICAL_BARS), list(ScrollBarRender.HORIZONTAL_BARS))
    yield
    Bar.HALF_BAR_LEFT, Bar.BAR, Bar.HALF_BAR_RIGHT = saved
    ScrollBarRender.VERTICAL_BARS, ScrollBarRender.HORIZONTAL_BARS = bars


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def flat(text: str) -> str:
    return " ".join(text.split())


async def capture(pilot, seen: dict, name: str, *shows: str) -> str:
    """The screen's text once it shows each of ``shows`` (wrapping aside)."""
    text = await until(
        pilot,
        lambda: (t := screen_text(pilot.app)) and all(s in flat(t) for s in shows) and t,
        what=f"{name} showing {shows}",
    )
    seen[name] = text
    return text


async def closed(pilot, modal_type) -> None:
    await until(pilot, lambda: not isinstance(pilot.app.screen, modal_type), what="it closed")


async def test_every_screen_and_dialog_fits_the_linux_console(console, running_sim, connection):
    app = XstuiApp(connection)
    seen: dict[str, str] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "status", None) is not None, what="Status")
        shows = {
            "h": ("Management interface", "Capacity"),
            "p": ("Default SR", "xcp-c"),
            "s": ("NFS VM store", "Local storage"),
            "a": ("MTU mismatch",),
        }
        for key in "hpsa":
            await pilot.press(key)
            await capture(pilot, seen, f"status {key}", *shows[key])
        screen = await open_network(pilot, "eth4")
        await capture(pilot, seen, "network", "eth4", "Backup")
        await pilot.press("c")
        await capture(pilot, seen, "pool check", "MTU mismatch on network Storage")
        screen.query_one("#network-tabs").active = "interfaces"
        screen.query_one("#pifs", RowList).focus()
        await pilot.press("b")
        await until(pilot, lambda: form_mounted(app), what="the bond form")
        await capture(pilot, seen, "bond form", "Create a bond", "OK")
        await pilot.press("escape")
        await closed(pilot, FormModal)
        await pilot.press("m")
        await until(pilot, lambda: form_mounted(app), what="the management form")
        await capture(pilot, seen, "management form", "Management interface of xcp-a", "OK")
        await fill_form(
            pilot, mode="static", ip="127.10.0.21", netmask="255.255.255.0", gateway="127.10.0.1"
        )
        await until(pilot, lambda: isinstance(app.screen, PlanModal), what="the plan")
        plan = await capture(pilot, seen, "high-risk plan", "Apply", "Cancel", "to confirm")
        assert "Apply" in plan and "Cancel" in plan and "to confirm" in plan
        await pilot.press("escape")
        await closed(pilot, PlanModal)
        question = (
            "The management interface is now eth4 (127.10.0.21). Can you still reach the "
            "host? Keep this configuration?"
        )
        app.push_screen(CountdownModal(question, seconds=30))
        text = await capture(pilot, seen, "countdown", "Keep this configuration?", "Revert now")
        assert "Keep this configuration?" in flat(text)
        assert "Revert now" in text and "Keep" in text
        await pilot.press("escape")
        await closed(pilot, CountdownModal)
        await pilot.press("f7")
        await until(
            pilot, lambda: isinstance(app.screen, HostScreen) and app.screen.rows, what="Host"
        )
        await capture(pilot, seen, "host", "xcp-c", "Software")
        await pilot.press("down", "m")
        await until(pilot, lambda: isinstance(app.screen, PrecheckModal), what="the pre-check")
        text = await capture(pilot, seen, "maintenance pre-check", "cannot move", "Continue")
        assert "Continue" in text and "Cancel" in text
        await pilot.press("enter")
        await until(pilot, lambda: form_mounted(app), what="the maintenance form")
        await capture(pilot, seen, "maintenance form", "VMs that cannot move", "OK")
        await pilot.press("escape")
        await closed(pilot, FormModal)
        await pilot.press("t")
        await until(pilot, lambda: app.screen.time_state is not None, what="the host's time")
        await capture(pilot, seen, "host time", "Host clock", "Synchronised")
        await pilot.press("f3")
        await until(
            pilot, lambda: isinstance(app.screen, HaScreen) and app.screen.status, what="HA"
        )
        await capture(pilot, seen, "ha", "tolerate", "fileserver")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ChoiceModal), what="the SR choice")
        text = await capture(pilot, seen, "ha enable: heartbeat SRs", "Not offered", "Continue")
        assert "Continue" in text
        await pilot.press("escape")
        await closed(pilot, ChoiceModal)
        await pilot.press("f6")
        await until(
            pilot,
            lambda: isinstance(app.screen, SecurityScreen) and app.screen.guide,
            what="Security",
        )
        await capture(pilot, seen, "security", "Certificates", "Root password")
        await pilot.press("f8")
        await until(
            pilot,
            lambda: isinstance(app.screen, VmsScreen) and app.screen.all_rows,
            what="the VMs",
        )
        await pilot.press("space", "space")
        text = await capture(pilot, seen, "vms", "2 selected")
        assert "2 selected" in text
    for name, text in seen.items():
        assert not foreign_glyphs(text), f"{name}: {sorted(foreign_glyphs(text))}"


async def test_the_connect_screen_fits_the_linux_console(console):
    app = XstuiApp(target="")
    async with app.run_test(size=(80, 24)) as pilot:
        text = await until(
            pilot, lambda: (t := screen_text(app)) and "demo" in t and t, what="the connect screen"
        )
        assert not foreign_glyphs(text), sorted(foreign_glyphs(text))


async def test_auto_logout_quits_after_the_idle_minutes(connection):
    """xsconsole's auto-logout: no key for the configured time, the console quits."""
    import time as clock

    from xstui.app import XstuiApp
    from xstui.xapi.config import Config

    config = Config(idle_logout_minutes=5)
    app = XstuiApp(connection, config=config)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        app._check_idle()
        assert app.is_running  # a key was just pressed
        app._last_key = clock.monotonic() - 6 * 60
        await pilot.press("f2")  # a key resets the clock
        app._check_idle()
        assert app.is_running
        app._last_key = clock.monotonic() - 6 * 60
        app._check_idle()
        await until(pilot, lambda: not app.is_running, what="the console quit")


async def test_a_read_before_a_dialog_says_its_failure(connection):
    """flow.read: its notice goes, and a failure stays said (not cleared with it)."""
    from xstui.app import XstuiApp
    from xstui.services.actions import InvalidInput
    from xstui.widgets.flow import read

    def refuses():
        raise InvalidInput(["nothing there"])

    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await read(app, lambda: 42, note="Looking...") == 42
        assert await read(app, refuses, note="Looking...") is None
        notes = lambda: [n.message for n in app._notifications]  # noqa: E731
        # the note's clearing is queued before the failure's notice
        await until(
            pilot, lambda: "Not possible: nothing there." in notes(), what="the failure said"
        )
        assert notes() == ["Not possible: nothing there."], notes()
