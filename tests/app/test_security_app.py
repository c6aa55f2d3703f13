"""Pilot tests of the Security screen at 80x24 on the Linux console: the key
and CSR form (only the keys XAPI installs; Organisation, unit and country,
refused in the form when wrong) and the root password change (the current
password asked and checked; a wrong one changes nothing)."""

from __future__ import annotations

from cryptography import x509
from textual.widgets import Select
from xstui.screens.security import SecurityScreen

from tests.app.test_console import console, flat, screen_text  # noqa: F401 (a fixture)
from tests.app.test_network_app import action_over, confirm_plan, fill_form
from tests.waiting import form_mounted, until
from xstui.app import XstuiApp
from xstui.widgets.form import FormModal
from xstui.xapi.config import state_dir


async def open_security(pilot) -> SecurityScreen:
    app = pilot.app
    await until(pilot, lambda: app.connection.cache.table("host"), what="the pool loaded")
    await pilot.press("f6")
    return await until(
        pilot,
        lambda: isinstance(app.screen, SecurityScreen) and app.screen.guide and app.screen,
        what="the Security screen",
    )


async def open_form(pilot, key: str, title: str) -> FormModal:
    app = pilot.app
    await pilot.press(key)
    await until(pilot, lambda: form_mounted(app) and title in flat(screen_text(app)), what=title)
    return app.screen


async def refused_in_form(pilot, form: FormModal, problem: str, words: str) -> None:
    await until(
        pilot,
        lambda: words in str(form.query_one(f"#problem-{problem}").render()),
        what=f"{words!r} in the form",
    )
    assert pilot.app.screen is form


async def test_csr_form_offers_what_xapi_installs_and_checks_the_subject(
    console,  # noqa: F811
    running_sim,
    connection,
):
    app = XstuiApp(connection)
    folder = state_dir() / "certificates"
    async with app.run_test(size=(80, 24)) as pilot:
        await open_security(pilot)
        form = await open_form(pilot, "k", "Key and CSR for")
        text = flat(screen_text(app))
        for label in ("Organisation (O)", "Organisational unit (OU)", "Country (C)", "OK"):
            assert label in text, label
        keys = [str(prompt) for prompt, _value in form.query_one("#field-key", Select)._options]
        assert keys == ["RSA 2048", "RSA 3072", "RSA 4096"]
        await fill_form(pilot, o="Example SA", ou="IT Ops", c="France")
        await refused_in_form(pilot, form, "c", "country 'France' is not two letters")
        assert not folder.exists()  # nothing written
        await fill_form(pilot, c="fr")
        plan = await confirm_plan(pilot)  # where the files go, said before they are made
        assert str(folder) in plan.plan.summary and not folder.exists()
        csrs = await until(pilot, lambda: folder.is_dir() and list(folder.glob("*.csr")))
        await action_over(pilot)
        notes = " ".join(n.message for n in app._notifications)
        assert f"Send {csrs[0]} to your CA" in notes and str(csrs[0].with_suffix(".key")) in notes
    subject = x509.load_pem_x509_csr(csrs[0].read_bytes()).subject.rfc4514_string()
    assert subject.endswith(",OU=IT Ops,O=Example SA,C=FR"), subject


async def test_the_root_password_needs_the_current_one(
    console,  # noqa: F811
    running_sim,
    connection,
):
    app = XstuiApp(connection)
    old, new = running_sim.password, "Tr0ub4dor&3-staple"
    notes = lambda: " ".join(n.message for n in app._notifications)  # noqa: E731
    async with app.run_test(size=(80, 24)) as pilot:
        await open_security(pilot)
        await open_form(pilot, "w", "Change the root password of the pool")
        assert "Current root password" in flat(screen_text(app)) and "OK" in screen_text(app)
        generation = running_sim.sim.store.generation
        first = app.screen
        await fill_form(pilot, current="Not-the-r00t-one", new=new, again=new)
        # the pool's refusal is in the form again, in words, with what was typed (issue 27)
        again = await until(
            pilot,
            lambda: (
                form_mounted(app)
                and app.screen is not first
                and "the current password is not right"
                in str(app.screen.query_one("#problem-form").render())
                and app.screen
            ),
            what="the wrong current password refused in the form",
        )
        assert [again.query_one(f"#field-{f}").value for f in ("current", "new", "again")] == [
            "Not-the-r00t-one",
            new,
            new,
        ]
        assert "the current password is not right" not in notes()
        assert running_sim.sim.password == old and running_sim.sim.store.generation == generation
        await fill_form(pilot, current=old)
        await confirm_plan(pilot)
        await action_over(pilot)
        await until(pilot, lambda: running_sim.sim.password == new, what="the new password")


async def test_the_install_form_checks_its_files_where_the_console_runs(
    console,  # noqa: F811
    running_sim,
    connection,
    tmp_path,
):
    """Each file is read on this machine (its content is what is sent), and
    refused in the form, as typed, when it is not what its field wants."""
    from xstui.services import security as sec
    from xstui.widgets.plan import PlanModal

    app = XstuiApp(connection)
    notes = tmp_path / "notes.txt"
    notes.write_text("not PEM\n")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_security(pilot)
        rec = connection.cache.get("host", screen.host)
        key_pem, cert_pem = sec.make_self_signed(rec.hostname, [rec.hostname, rec.address], 30)
        (tmp_path / "host.key").write_bytes(key_pem)
        (tmp_path / "host.crt").write_bytes(cert_pem)
        form = await open_form(pilot, "i", "Install a CA-signed certificate")
        text = flat(screen_text(app))
        for label in ("Certificate file (this machine)", "Private key file (this machine)"):
            assert label in text, label
        crt, key = str(tmp_path / "host.crt"), str(tmp_path / "host.key")
        for values, field, words in (
            ({"cert": str(notes), "key": key}, "cert", f"{notes} is not a certificate"),
            ({"cert": crt, "key": crt}, "key", "is not a private key"),
            ({"cert": crt, "key": key, "chain": str(notes)}, "chain", "is not a certificate"),
            ({"cert": str(tmp_path / "gone.crt"), "key": key, "chain": ""}, "cert", "no file"),
        ):
            await fill_form(pilot, **values)
            await refused_in_form(pilot, form, field, words)
            assert form.query_one(f"#field-{field}").value == values[field]  # kept as typed
        await fill_form(pilot, cert=crt, key=key, chain="")
        await until(pilot, lambda: isinstance(app.screen, PlanModal), what="the plan")
        await pilot.press("escape")
        await action_over(pilot)


async def test_a_release_without_certificate_records_shows_what_each_host_serves(
    console,  # noqa: F811
):
    """XenServer 6.5 keeps no Certificate records: the list says so and
    shows each host's certificate as the host serves it, never "until ?"."""
    from xstui.areas import watched_types
    from xstui.sim.runner import start_simulator
    from xstui.xapi.connection import Connection
    from xstui.xapi.targets import parse_target

    running = start_simulator("demo", release="xenserver-6.5", members=False, task_delay=0.01)
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    conn.login()
    app = XstuiApp(conn)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_security(pilot)
            await until(pilot, lambda: screen.served, what="each host's certificate read")
            text = screen_text(app)
            assert "This release keeps no certificate records: each host is asked." in text
            assert "until ?" not in text and "no record" not in text
            assert "xcp-b        until " in text and "days)" in text
            # trial s12 item 19: the heading offered c, k and i, which 6.5 cannot do here
            assert "Certificates (H: host)" in text
            assert screen.check_action("regenerate", ()) is None  # dimmed
            assert screen.refusal("csr").startswith("they are for Install signed (i), and")
    finally:
        conn.close()
        running.close()


async def test_add_user_is_dimmed_until_the_pool_joins_a_domain(running_sim, connection):
    """A trial: F6, u showed "n Add user" lit beside "Active Directory: not
    joined"; it opened the form and refused only after OK."""
    from xstui.services import security as sec

    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await open_security(pilot)
        await pilot.press("u")
        await until(pilot, lambda: screen.tab == "users", what="the Users tab")
        assert screen.refusal("add_subject") == sec.NOT_JOINED
        assert screen.check_action("add_subject", ()) is None  # shown dimmed
        await pilot.press("n")
        await until(
            pilot,
            lambda: any(sec.NOT_JOINED in n.message for n in app._notifications),
            what="why",
        )
        assert not form_mounted(app)


async def test_the_recovery_guide_is_saved_where_the_form_says(
    console,  # noqa: F811
    running_sim,
    connection,
    tmp_path,
):
    """Trial s12 item 8: x wrote at once, with no path asked and no plan; the
    notice broke the path mid-word ("root-passwo" / "rd-recovery-xcp-b.txt")."""
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_security(pilot)
        form = await open_form(pilot, "x", "Save the recovery guide of xcp-a")
        default = state_dir() / "root-password-recovery-xcp-a.txt"
        assert form.query_one("#field-path").value == str(default) and not default.exists()
        await fill_form(pilot, path="/proc/guide.txt")
        await refused_in_form(pilot, form, "path", "/proc/guide.txt is on the kernel's proc")
        (tmp_path / "old.txt").write_text("x")
        await fill_form(pilot, path=str(tmp_path / "old.txt"))
        await pilot.press("enter")
        await refused_in_form(pilot, form, "form", "exists already")
        await fill_form(pilot, path=str(default))
        plan = await confirm_plan(pilot)
        assert str(default) in plan.plan.summary
        await action_over(pilot)
        await until(pilot, lambda: default.exists(), what="the guide written")
        assert "Lost root password: xcp-a" in default.read_text()

        # the notice (shown a moment after the file is written) folds the path
        # at its slashes: each of its parts whole on a line
        def parts_whole() -> bool:
            lines = screen_text(app).splitlines()
            return all(
                any(part in line for line in lines)
                for part in ("state/xstui/", "root-password-recovery-xcp-a.txt")
            )

        await until(pilot, parts_whole, what="the notice, the path's parts each whole")


async def test_the_certificate_action_has_one_name(running_sim, connection):
    """Trial s12 item 19: heading "c: regenerate", footer "c New certificate",
    plan "Regenerate the host certificate"."""
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_security(pilot)
        text = screen_text(app)
        assert "Certificates (H: host; c: New certificate; k: Key + CSR; i: Install signed)" in text
        assert "c New certificate" in text  # the footer
        await pilot.press("c")
        await until(
            pilot,
            lambda: "New certificate for xcp-a" in flat(screen_text(app)),
            what="the form or plan titled so",
        )
        await pilot.press("escape")


async def test_status_shows_the_fingerprint_security_shows_on_a_release_without_records(
    console,  # noqa: F811
):
    """Trial s12 item 10: on 6.5 over HTTP, F1 said "TLS SHA-256 unknown /
    Source -" while F6 showed each host's fingerprint: F1 now asks the host
    as F6 does."""
    from xstui.areas import watched_types
    from xstui.services.security.certificates import SERVED_SOURCE, read_served
    from xstui.sim.runner import start_simulator
    from xstui.xapi.connection import Connection
    from xstui.xapi.targets import parse_target

    running = start_simulator("demo", release="xenserver-6.5", members=False, task_delay=0.01)
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    conn.login()
    app = XstuiApp(conn)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await until(
                pilot, lambda: getattr(app.screen, "status", None) and app.screen, what="Status"
            )
            await until(pilot, lambda: screen.fingerprint, what="the fingerprint read")
            assert conn.target.scheme == "http"
            served = read_served(conn)[conn.this_host].fingerprint
            assert (screen.fingerprint, screen.fingerprint_source) == (served, SERVED_SOURCE)
            assert screen.status.tls_fingerprint == served
    finally:
        conn.close()
        running.close()
