"""Names from XAPI are data: brackets, control characters, right-to-left text
or 10 000 characters go through every screen as text, never as markup, and
never crash the console."""

from __future__ import annotations

import asyncio

from hypothesis import example, given, settings
from hypothesis import strategies as st
from xstui.screens.host import HostScreen
from xstui.screens.network import NetworkScreen
from xstui.screens.status import StatusScreen
from xstui.screens.vms import VmsScreen

from tests.waiting import form_mounted, until
from xstui.app import XstuiApp
from xstui.areas import watched_types
from xstui.sim.runner import start_simulator
from xstui.widgets.form import FormModal
from xstui.widgets.rowlist import RowList
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target

HOSTILE = st.text(
    alphabet=st.sampled_from(list("[]/=#@:;'\"\\ ab\x00\x07\x1b\u202e\u200f\u05d0\ufeff")),
    min_size=1,
    max_size=40,
) | st.just("x" * 10_000)


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def visit_every_screen(names: dict[str, str]) -> None:
    running = start_simulator("demo", members=False, password="pw", task_delay=0.01)
    store = running.sim.store
    host = running.sim.master
    store.set("host", host, name_label=names["host"])
    store.set("pool", running.sim.pool, name_label=names["pool"])
    store.set(
        "network", store.find_one("network", name_label="Backup"), name_label=names["network"]
    )
    store.set("SR", store.find_one("SR", name_label="NFS VM store"), name_label=names["sr"])
    store.set("VM", store.find_one("VM", name_label="dc-01"), name_label=names["network"])
    conn = Connection(parse_target(running.url), "root", "pw", watch=watched_types())
    conn.login()
    app = XstuiApp(conn)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            # each step waits for what it shows, then draws it (screen_text)
            await until(
                pilot,
                lambda: isinstance(app.screen, StatusScreen) and app.screen.status,
                what="Status",
            )
            for key, tab in (("h", "host"), ("p", "pool"), ("s", "storage"), ("a", "health")):
                await pilot.press(key)
                await until(pilot, lambda tab=tab: app.screen.tab == tab, what=f"the {tab} tab")
                screen_text(app)
            await pilot.press("f2")
            await until(
                pilot,
                lambda: isinstance(app.screen, NetworkScreen) and app.screen.rows,
                what="Networking",
            )
            screen = app.screen
            table = screen.query_one("#pifs", RowList)
            shown = screen_text(app)
            network_row = next(i for i, r in enumerate(screen.rows) if r.device == "eth4")
            table.go_to(network_row)
            await pilot.press("v")  # a form listing the hostile network name
            await until(pilot, lambda: form_mounted(app), what="the VLAN form")
            screen_text(app)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is screen, what="the form closed")
            await pilot.press("c")
            await until(pilot, lambda: screen.tab == "check", what="the pool check")
            screen_text(app)
            await pilot.press("f7")  # hosts, their details
            await until(
                pilot, lambda: isinstance(app.screen, HostScreen) and app.screen.rows, what="Host"
            )
            screen_text(app)
            await pilot.press("f8")
            await until(
                pilot,
                lambda: isinstance(app.screen, VmsScreen) and app.screen.all_rows,
                what="the VMs",
            )
            await pilot.press("slash", *names["network"][:3], "enter", "p")
            # the VM list filtered by it, and a form naming it (or, for no VM
            # or none that fits, a notice: the action ends without a form)
            await until(
                pilot,
                lambda: (
                    isinstance(app.screen, FormModal)
                    or all(w.is_finished for w in app.workers if w.group == "action")
                ),
                what="the power form, or the action over",
            )
            screen_text(app)
            await pilot.press("escape")
            assert app.is_running
        short = names["network"][:10]
        if short.isascii() and short.isprintable() and "[" in short:
            assert short in shown, "a name with brackets is shown as it is"
    finally:
        conn.close()
        running.close()


@settings(max_examples=6, deadline=None)
@given(st.fixed_dictionaries({k: HOSTILE for k in ("host", "pool", "network", "sr")}))
@example({"host": "xcp-[/]a", "pool": "[b]pool", "network": "[prod] backup [red]net", "sr": "[/]"})
def test_hostile_names_in_every_screen(names):
    asyncio.run(visit_every_screen(names))
