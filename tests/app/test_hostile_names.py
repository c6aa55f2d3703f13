"""Names from XAPI are data: brackets, control characters, right-to-left text
or 10 000 characters go through every screen as text, never as markup, and
never crash the console."""

from __future__ import annotations

import asyncio

from hypothesis import example, given, settings
from hypothesis import strategies as st
from textual.widgets import DataTable
from xstui.screens.network import NetworkScreen
from xstui.screens.status import StatusScreen

from xstui.app import XstuiApp
from xstui.areas import watched_types
from xstui.sim.runner import start_simulator
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
            for _ in range(200):
                if isinstance(app.screen, StatusScreen) and app.screen.status:
                    break
                await pilot.pause(0.05)
            for key in ("h", "p", "s", "a"):
                await pilot.press(key)
                await pilot.pause(0.1)
            await pilot.press("f2")
            for _ in range(200):
                if isinstance(app.screen, NetworkScreen) and app.screen.rows:
                    break
                await pilot.pause(0.05)
            screen = app.screen
            table = screen.query_one("#pifs", DataTable)
            shown = screen_text(app)
            network_row = next(i for i, r in enumerate(screen.rows) if r.device == "eth4")
            table.move_cursor(row=network_row)
            await pilot.press("v")  # a form listing the hostile network name
            await pilot.pause(0.3)
            await pilot.press("escape")
            await pilot.press("c")
            await pilot.pause(0.3)
            await pilot.press("f7")  # hosts, their details
            await pilot.pause(0.3)
            await pilot.press("f8", "slash", *names["network"][:3], "enter", "p")
            await pilot.pause(0.3)  # the VM list filtered by it, and a form naming it
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
