"""Pilot tests: navigation, live updates, the connect flow and the action flow."""

import io
import json
import os
import time

import pytest
import XenAPI
from rich.console import Console
from textual.widgets import Input, Static
from xstui.screens.status import StatusScreen

from tests.waiting import form_mounted, until
from xstui.app import XstuiApp
from xstui.widgets.plan import PlanModal
from xstui.widgets.rowlist import RowList
from xstui.widgets.tabbed import TabbedPanes
from xstui.xapi.connection import EVENT_TIMEOUT
from xstui.xapi.tls import spaced


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text (its content may be a Rich table)."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def card_text(app, card: str) -> str:
    # the Status screen may be on the stack before it has composed its cards
    screens = [s for s in app.screen_stack if isinstance(s, StatusScreen) and s.ready]
    return text_of(screens[0].query_one(f"#card-{card}", Static)) if screens else ""


def loaded(app) -> bool:
    return bool(app.connection and app.connection.cache.table("host")) and "xcp" in card_text(
        app, "identity"
    )


async def test_status_navigation(connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: loaded(app), what="Status loaded")
        assert "xcp-a" in card_text(app, "identity") and "master" in card_text(app, "identity")
        await pilot.press("p")
        assert app.screen.query_one(TabbedPanes).active == "pool"
        await until(
            pilot,
            lambda: len(app.screen.query_one("#pool-hosts", RowList).rows) == 3,
            what="the pool's three hosts",
        )
        await pilot.press("s")
        await until(
            pilot,
            lambda: len(app.screen.query_one("#srs", RowList).rows) == 5,
            what="the five SRs",
        )
        await pilot.press("a")
        assert app.screen.query_one(TabbedPanes).active == "health"
        await until(
            pilot,
            lambda: "MTU mismatch" in text_of(app.screen.query_one("#health-list", Static)),
            what="the MTU mismatch in Health",
        )


async def test_live_update_pushed_by_the_event_stream(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: loaded(app), what="Status loaded")
        other = XenAPI.Session(running_sim.url)
        other.xenapi.login_with_password("root", running_sim.password)
        other.xenapi.host.set_name_label(running_sim.sim.master, "renamed-live")
        started = time.monotonic()
        await until(
            pilot, lambda: "renamed-live" in card_text(app, "identity"), what="the new name shown"
        )
        # woken by the change (within a second when idle), not brought by the
        # long poll's timeout, which is 30 s away
        assert time.monotonic() - started < EVENT_TIMEOUT / 2


async def test_rename_host_rejects_bad_input_without_calls(connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: loaded(app), what="Status loaded")
        # the health probes' reads (once a minute) are not this form's
        await until(pilot, lambda: app.screen.probed is not None, what="the health probes")
        calls = connection.calls
        await pilot.press("n")
        await until(pilot, lambda: form_mounted(app), what="the rename form")
        form = app.screen
        form.query_one(Input).value = "   "
        await pilot.press("enter")
        await until(
            pilot,
            lambda: "cannot be empty" in text_of(form.query_one("#problem-name")),
            what="the empty name refused in words",
        )
        assert app.screen is form
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is not form, what="the form closed")
        assert connection.calls == calls


async def test_rename_host_end_to_end(running_sim, connection, tmp_path):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: loaded(app), what="Status loaded")
        await pilot.press("n")
        await until(pilot, lambda: form_mounted(app), what="the rename form")
        app.screen.query_one(Input).value = "xcp-alpha"
        await pilot.press("enter")
        await until(
            pilot,
            lambda: isinstance(app.screen, PlanModal) and bool(app.screen.query("#apply")),
            what="the plan",
        )
        assert "xe host-param-set" in "\n".join(app.screen.plan.xe)
        app.screen.query_one("#apply").press()
        await until(
            pilot, lambda: "xcp-alpha" in card_text(app, "identity"), what="the new name shown"
        )
    assert running_sim.sim.store.get("host", running_sim.sim.master)["name_label"] == "xcp-alpha"
    audit = (tmp_path / "state" / "xstui" / "audit.log").read_text().splitlines()
    assert json.loads(audit[-1])["outcome"] == "done"


async def test_connect_screen_demo():
    app = XstuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.screen.query("#target"), what="the connect screen")
        app.screen.query_one("#target", Input).value = "demo"
        await pilot.press("enter")
        await until(
            pilot, lambda: app.connection is not None and loaded(app), what="the demo's Status"
        )
        assert app.connection.state == "connected"
        await app.action_quit()


async def test_connect_screen_trusts_a_new_certificate(monkeypatch):
    from xstui.sim.runner import start_simulator

    running = start_simulator("demo", tls=True, members=False)
    try:
        monkeypatch.setenv("XSTUI_PASSWORD", running.password)
        app = XstuiApp(target=running.url)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(
                pilot,
                lambda: isinstance(app.screen, PlanModal) and bool(app.screen.query("#apply")),
                what="the plan to trust the certificate",
            )
            assert spaced(running.fingerprint) in app.screen.plan.summary
            app.screen.query_one("#apply").press()
            await until(
                pilot, lambda: app.connection is not None and loaded(app), what="Status loaded"
            )
            await until(
                pilot,
                lambda: "live TLS handshake" in card_text(app, "security"),
                what="the handshake on the Security card",
            )
            assert running.fingerprint[:23] in card_text(app, "security")
        key = f"127.10.0.11:{running.url.rsplit(':', 1)[1]}"
        assert app.config.fingerprints[key] == running.fingerprint
        saved = os.environ["XDG_CONFIG_HOME"] + "/xstui/config.yaml"
        assert running.fingerprint in open(saved).read()
    finally:
        running.close()


async def test_connect_screen_reports_bad_password(running_sim):
    app = XstuiApp(target=running_sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.screen.query("#password"), what="the connect screen")
        app.screen.query_one("#password", Input).value = "wrong"
        await pilot.press("enter")
        error = lambda: text_of(app.screen.query_one("#connect-error"))  # noqa: E731
        await until(
            pilot,
            lambda: "password" in error().lower() and "Connecting" not in error(),
            what="the bad password said",
        )
        assert app.connection is None


def head_started(url: str, password: str, monkeypatch) -> XstuiApp:
    """The app as `XSTUI_PASSWORD=... xstui connect URL` starts it: the login
    begun before the app (xstui.login.HeadStart)."""
    from xstui.login import HeadStart
    from xstui.xapi.config import Config

    monkeypatch.setenv("XSTUI_PASSWORD", password)
    config = Config.load()
    head_start = HeadStart.wanted(url, "root", config)
    assert head_start is not None
    return XstuiApp(target=url, config=config, head_start=head_start)


async def test_a_head_start_shows_the_pool_without_the_connect_screen(running_sim, monkeypatch):
    from xstui.screens.connect import ConnectScreen

    app = head_started(running_sim.url, running_sim.password, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.connection is not None and loaded(app), what="Status")
        assert not any(isinstance(s, ConnectScreen) for s in app.screen_stack)
        assert app.head_start is None  # used
    assert running_sim.url.rstrip("/") in [t.rstrip("/") for t in app.config.targets]


async def test_a_head_start_refused_goes_to_the_connect_screen_with_the_reason(
    running_sim, monkeypatch
):
    app = head_started(running_sim.url, "wrong", monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.screen.query("#connect-error"), what="the connect screen")
        error = lambda: text_of(app.screen.query_one("#connect-error"))  # noqa: E731
        await until(
            pilot,
            lambda: "password" in error().lower() and "Connecting" not in error(),
            what="the refused password said",
        )
        assert app.connection is None
        app.screen.query_one("#password", Input).value = running_sim.password
        await pilot.press("enter")  # typed again: a login of its own, not the head start's
        await until(pilot, lambda: app.connection is not None and loaded(app), what="Status")


async def test_a_head_start_to_a_new_certificate_asks_to_trust_it(monkeypatch):
    from xstui.sim.runner import start_simulator

    running = start_simulator("demo", tls=True, members=False)
    try:
        app = head_started(running.url, running.password, monkeypatch)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(
                pilot,
                lambda: isinstance(app.screen, PlanModal) and bool(app.screen.query("#apply")),
                what="the plan to trust the certificate",
            )
            app.screen.query_one("#apply").press()
            await until(
                pilot, lambda: app.connection is not None and loaded(app), what="Status loaded"
            )
    finally:
        running.close()


@pytest.mark.parametrize("size", [(1, 1), (5, 3), (20, 5)])
async def test_a_terminal_of_a_few_cells_shows_every_area_without_failing(connection, size):
    """A console window being resized, or a terminal reporting a tiny size:
    cut off by the terminal, never failed (Textual's lists fail at no width)."""
    from xstui.screens.connect import ConnectScreen

    app = XstuiApp()  # the connect screen, its list of targets
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="Connect")
        await pilot.press("down", "tab")
        await pilot.pause()
        assert app.is_running
    app = XstuiApp(connection)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: isinstance(app.screen, StatusScreen), what="Status")
        for key in ("f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f1", "ctrl+p"):
            await pilot.press(key)
            await pilot.pause()
        assert app.is_running


async def test_connection_loss_shows_reconnecting_then_recovers(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: loaded(app), what="Status loaded")
        master = running_sim.sim.master
        running_sim.server.stop_host(master)  # its toolstack goes away...
        await until(
            pilot,
            lambda: app.screen.has_class("-stale") and connection.state == "reconnecting",
            what="the screen dimmed, reconnecting",
        )
        assert "xcp-a" in card_text(app, "identity")  # the last known state stays on screen

        running_sim.server.restart_host(master)  # ...and comes back
        await until(
            pilot,
            lambda: connection.state == "connected" and not app.screen.has_class("-stale"),
            what="connected again, not dimmed",
        )
