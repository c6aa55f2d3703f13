"""Every area on every release: against each release profile of the
simulator, every action of every area is pressed as the admin would (the
palette's path) and either opens its dialog or says in words why not, never
a raw XAPI error. Nothing is applied: each dialog is left with Escape."""

from __future__ import annotations

import pytest
from textual.screen import ModalScreen

from tests.app.test_network_app import action_over
from tests.waiting import until
from xstui.app import XstuiApp, screen_class
from xstui.areas import AREAS
from xstui.sim.profiles import PROFILES

RAW = ("MESSAGE_METHOD_UNKNOWN", "MESSAGE_REMOVED", "Traceback", "Unexpected error")


def said(app) -> list[str]:
    return [n.message for n in app._notifications]


async def try_every_action(pilot) -> dict[str, str]:
    """(area: action) -> "dialog" or what the console said instead."""
    app, seen = pilot.app, {}
    for area in AREAS:
        app.switch_mode(area.id)
        await until(
            pilot,
            lambda a=area: (
                getattr(getattr(app.screen, "area", None), "id", "") == a.id and app.screen.ready
            ),
            what=area.title,
        )
        screen = app.screen
        for act in screen_class(area).ACTS:
            if act.view is not None or (act.dom0 and not app.in_dom0):
                continue
            before = len(said(app))
            screen.press(act.name)
            await until(
                pilot,
                lambda b=before: isinstance(app.screen, ModalScreen) or len(said(app)) > b,
                what=f"{area.title} {act.label}: a dialog or words",
            )
            if isinstance(app.screen, ModalScreen):
                seen[f"{area.title}: {act.label}"] = "dialog"
            else:
                seen[f"{area.title}: {act.label}"] = said(app)[-1]
            while isinstance(app.screen, ModalScreen):
                top = app.screen
                await pilot.press("escape")
                await until(pilot, lambda t=top: app.screen is not t, what="the dialog closed")
            await action_over(pilot)
            app.clear_notifications()
    return seen


@pytest.mark.parametrize("release_conn", sorted(PROFILES), indirect=True)
async def test_every_action_opens_or_says_why_on_every_release(release_conn):
    running, conn = release_conn
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: conn.cache.table("host"), what="the pool loaded")
        seen = await try_every_action(pilot)
    raw = {k: v for k, v in seen.items() if any(r in v for r in RAW)}
    assert not raw, raw
    assert sum(v == "dialog" for v in seen.values()) >= len(seen) // 2, seen
