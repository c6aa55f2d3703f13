"""Pilot tests: navigation, live updates, the connect flow and the action flow."""

import asyncio
import io
import json
import os
import time

import XenAPI
from rich.console import Console
from textual.widgets import DataTable, Input, Static, TabbedContent
from xstui.screens.status import StatusScreen

from xstui.app import XstuiApp
from xstui.widgets.form import FormModal
from xstui.widgets.plan import PlanModal
from xstui.xapi.tls import spaced


async def wait_until(pilot, predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)


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
        await wait_until(pilot, lambda: loaded(app))
        assert "xcp-a" in card_text(app, "identity") and "master" in card_text(app, "identity")
        await pilot.press("p")
        assert app.screen.query_one(TabbedContent).active == "pool"
        assert app.screen.query_one("#pool-hosts", DataTable).row_count == 3
        await pilot.press("s")
        assert app.screen.query_one("#srs", DataTable).row_count == 5
        await pilot.press("a")
        assert app.screen.query_one(TabbedContent).active == "health"
        assert "MTU mismatch" in text_of(app.screen.query_one("#health-list", Static))


async def test_live_update_within_a_second(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: loaded(app))
        other = XenAPI.Session(running_sim.url)
        other.xenapi.login_with_password("root", running_sim.password)
        other.xenapi.host.set_name_label(running_sim.sim.master, "renamed-live")
        started = time.monotonic()
        await wait_until(pilot, lambda: "renamed-live" in card_text(app, "identity"), timeout=1.0)
        assert time.monotonic() - started < 1.0


async def test_rename_host_rejects_bad_input_without_calls(connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: loaded(app))
        # the health probes' reads (once a minute) are not this form's
        await wait_until(pilot, lambda: app.screen.probed is not None)
        calls = connection.calls
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, FormModal))
        app.screen.query_one(Input).value = "   "
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FormModal)
        assert "cannot be empty" in text_of(app.screen.query_one("#problem-name"))
        await pilot.press("escape")
        await pilot.pause()
        assert connection.calls == calls


async def test_rename_host_end_to_end(running_sim, connection, tmp_path):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: loaded(app))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, FormModal))
        app.screen.query_one(Input).value = "xcp-alpha"
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, PlanModal) and bool(app.screen.query("#apply"))
        )
        assert "xe host-param-set" in "\n".join(app.screen.plan.xe)
        app.screen.query_one("#apply").press()
        await wait_until(pilot, lambda: "xcp-alpha" in card_text(app, "identity"))
    assert running_sim.sim.store.get("host", running_sim.sim.master)["name_label"] == "xcp-alpha"
    audit = (tmp_path / "state" / "xstui" / "audit.log").read_text().splitlines()
    assert json.loads(audit[-1])["outcome"] == "done"


async def test_connect_screen_demo():
    app = XstuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#target", Input).value = "demo"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.connection is not None and loaded(app), timeout=10)
        assert app.connection.state == "connected"
        await app.action_quit()


async def test_connect_screen_trusts_a_new_certificate(monkeypatch):
    from xstui.sim.runner import start_simulator

    running = start_simulator("demo", tls=True, members=False)
    try:
        monkeypatch.setenv("XSTUI_PASSWORD", running.password)
        app = XstuiApp(target=running.url)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(
                pilot,
                lambda: isinstance(app.screen, PlanModal) and bool(app.screen.query("#apply")),
                timeout=10,
            )
            assert spaced(running.fingerprint) in app.screen.plan.summary
            app.screen.query_one("#apply").press()
            await wait_until(pilot, lambda: app.connection is not None and loaded(app), timeout=10)
            await wait_until(pilot, lambda: "live TLS handshake" in card_text(app, "security"))
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
        await pilot.pause()
        app.screen.query_one("#password", Input).value = "wrong"
        await pilot.press("enter")
        error = lambda: text_of(app.screen.query_one("#connect-error"))  # noqa: E731
        await wait_until(
            pilot, lambda: "password" in error().lower() and "Connecting" not in error()
        )
        assert app.connection is None
        await asyncio.sleep(0)


async def test_connection_loss_shows_reconnecting_then_recovers(running_sim, connection):
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: loaded(app))
        address, port = running_sim.server.listeners[0].server.server_address
        running_sim.server.close()
        await wait_until(
            pilot, lambda: app.screen.has_class("-stale") and connection.state == "reconnecting"
        )
        assert "xcp-a" in card_text(app, "identity")  # the last known state stays on screen
        for _ in range(50):
            try:
                running_sim.server.listen_tcp(address, port, running_sim.sim.master)
                break
            except OSError:
                await asyncio.sleep(0.1)
        await wait_until(
            pilot,
            lambda: connection.state == "connected" and not app.screen.has_class("-stale"),
            timeout=15,
        )
