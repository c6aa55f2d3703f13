"""The admin's trial of issue #23 at 80x24, against the demo played as
XCP-ng 8.2 and XenServer 6.5: what each release cannot do is dimmed with
its reason in that release's own terms, and what it can tell is shown as
it is (each test names the trial's item)."""

from __future__ import annotations

import pytest

from tests.app.test_console import screen_text
from tests.app.test_host_app import open_host
from tests.app.test_network_app import fill_form
from tests.app.test_security_app import open_security
from tests.app.test_updates_app import open_patching
from tests.waiting import form_mounted, until
from xstui.app import XstuiApp
from xstui.areas import watched_types
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target

HOSTS = ("xcp-a", "xcp-b", "xcp-c")


def said(app) -> list[str]:
    return [n.message for n in app._notifications]


@pytest.mark.parametrize("release_conn", ["xcp-ng-8.2"], indirect=True)
async def test_xcp_ng_patching_dims_what_yum_has_not_with_its_reason(release_conn):
    """Item 1: XCP-ng 8.2 takes yum packages through updater.py: Upload,
    Pool apply, Clean up and Sync are dimmed saying so (the pool's way
    decides), not pointing at each other, and no form opens."""
    _running, conn = release_conn
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_patching(pilot)
        assert screen.generation.id == "yum"
        for name in ("upload", "pool_apply", "clean", "sync"):
            assert screen.check_action(name, ()) is None, name  # shown dimmed
            why = screen.refusal(name)
            assert "yum" in why and "repositories: sync" not in why, why
        assert "sync" not in screen.refusal("upload") and "(u)" not in screen.refusal("sync")
        for key in ("u", "P", "c", "s"):
            await pilot.press(key)
            await until(pilot, lambda: said(app), what=f"{key}: words")
            assert "yum" in said(app)[-1] and app.screen is screen, said(app)
            app.clear_notifications()
        assert screen.check_action("apply", ()) is True  # a host's packages still install


@pytest.mark.parametrize("release_conn", ["xcp-ng-8.2"], indirect=True)
async def test_join_is_dimmed_in_a_pool_with_its_reason(release_conn):
    """Item 19: in a pool of three, J says why before any form opens."""
    _running, conn = release_conn
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(pilot, "xcp-b")
        assert screen.check_action("join", ()) is None
        await pilot.press("J")
        await until(pilot, lambda: said(app), what="the reason")
        assert app.screen is screen
        assert "xcp-a, this console's host, is the master of 2 other host(s)" in said(app)[-1]


async def test_a_refused_join_keeps_the_form_and_says_why_in_words(running_sim):
    """Item 19: a wrong password or an address where nothing answers: the
    form stays as typed, the reason in words (no raw XAPI details)."""
    standalone = running_sim.standalone["xcp-d"]
    conn = Connection(
        parse_target(standalone.url), "root", standalone.password, watch=watched_types()
    )
    conn.login()
    app = XstuiApp(conn)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await open_host(pilot, "xcp-d")
            await pilot.press("J")
            for address, password, reason in (
                ("127.10.0.11", "not-the-password", "did not accept this root password"),
                ("127.0.0.1", running_sim.password, "127.0.0.1: connection refused"),
            ):
                await until(pilot, lambda: form_mounted(app), what="the join form")
                before = app.screen
                await fill_form(pilot, address=address, password=password)
                form = await until(
                    pilot,
                    lambda b=before: (
                        (form_mounted(app) and app.screen is not b and app.screen.problem)
                        and app.screen
                    ),
                    what="the form again, saying why",
                )
                assert reason in form.problem and "detail" not in form.problem, form.problem
                assert "Errno" not in form.problem and "[SESSION" not in form.problem
                assert form.query_one("#field-address").value == address
            await pilot.press("escape")
    finally:
        conn.close()


@pytest.mark.parametrize("release_conn", ["xcp-ng-8.2", "xenserver-6.5"], indirect=True)
async def test_security_shows_each_hosts_certificate_dates(release_conn):
    """Item 3: on XCP-ng 8.2 (records without a type) as on 6.5 (no
    records: each host asked), every host's certificate has its end date."""
    _running, conn = release_conn
    app = XstuiApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_security(pilot)
        text = await until(
            pilot,
            lambda: (t := screen_text(app)) and "  xcp-c  " in t and "reading" not in t and t,
            what="the certificates read",
        )
        lines = {n: next(x for x in text.splitlines() if x[1:].startswith(f" {n} ")) for n in HOSTS}
        assert all("until 2" in line and "?" not in line for line in lines.values()), lines
        assert "no record" not in text
        assert "19 days" in lines["xcp-b"] or "20 days" in lines["xcp-b"], lines
