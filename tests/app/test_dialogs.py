"""The dialog grammar of docs/DIALOGS.md, dialog by dialog, at 80x24 on the
Linux console (issue 27, the admin's trial of the dialogs): notices never
cover a dialog and do not outlive their area; results to keep stay in a
dialog; Enter goes on and Escape goes back, said in every button row, which
is never cut; a problem shown in a form goes once the input changes; an
empty field's hint never looks typed; the areas' keys are listed, and an
area's key again shows its first tab; keys that read say what they did."""

from __future__ import annotations

from contextlib import asynccontextmanager

from textual.command import CommandPalette
from textual.widgets import Button, Input
from xstui.screens.backup import BackupScreen, RestoreCheckModal
from xstui.screens.host import HostScreen
from xstui.screens.network import NetworkScreen, NetworkTestModal
from xstui.screens.recovery import RecoveryModal

from tests.app.test_backup_app import open_backup
from tests.app.test_console import console, flat, screen_text  # noqa: F401 (a fixture)
from tests.app.test_fleet_app import saved_fleet  # noqa: F401 (a fixture)
from tests.app.test_ha_app import open_ha
from tests.app.test_host_app import open_host
from tests.app.test_network_app import (  # noqa: F401 (a fixture)
    action_over,
    confirm_plan,
    fill_form,
    local_connection,
    open_network,
)
from tests.app.test_security_app import open_security
from tests.app.test_updates_app import open_patching
from tests.waiting import form_mounted, until
from xstui.app import XstuiApp
from xstui.services import backup as bk
from xstui.services.actions import RunContext
from xstui.widgets.choice import ChoiceModal
from xstui.widgets.form import FormModal
from xstui.widgets.modal import MORE_BELOW, ResultModal
from xstui.widgets.plan import PlanModal
from xstui.widgets.tabbed import TabBar, TabbedPanes


def notes(app) -> str:
    return " ".join(n.message for n in app._notifications)


def on_a_line(app, text: str) -> bool:
    """``text`` on one line of the screen, as it is (its runs of spaces too)."""
    return any(text in line for line in screen_text(app).splitlines())


def shows(app, *texts: str) -> bool:
    """Each of ``texts`` on screen (wrapping and runs of spaces aside)."""
    text = flat(screen_text(app))
    return all(flat(t) in text for t in texts)


async def form_showing(pilot, *texts: str) -> FormModal:
    app = pilot.app
    await until(pilot, lambda: form_mounted(app) and shows(app, *texts), what=f"a form {texts}")
    return app.screen


@asynccontextmanager
async def at_the_console(connection):
    """The app on ``connection`` at 80x24, its notices shown."""
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        yield pilot


async def notice(pilot, message: str, shown: str) -> None:
    """Raise a long-lived notice and wait until ``shown`` (a part of it) is on screen."""
    app = pilot.app
    app.notify(message, timeout=120)
    await until(pilot, lambda: shows(app, shown), what="the notice shown")


# notices ------------------------------------------------------------------------------
async def test_a_host_backup_keeps_its_restore_steps_in_a_dialog_and_no_notice_covers_the_next(
    console,  # noqa: F811
    running_sim,
    connection,
    tmp_path,
):
    """Item 20: the restore steps were a 16-line notice that covered the
    next dialog's buttons, then went."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_backup(pilot)
        await pilot.press("h")
        await fill_form(pilot, path=str(tmp_path / "xcp-a.xbk"))
        await confirm_plan(pilot)
        result = await until(
            pilot,
            lambda: isinstance(app.screen, ResultModal) and app.screen,
            what="the backup's result",
        )
        await until(pilot, lambda: shows(app, "To restore it later", "Enter, Esc Close"))
        assert str(result.text).startswith(str(tmp_path / "xcp-a.xbk"))  # where it went
        assert "Restore from backup" in str(result.text)
        await pilot.pause()
        assert not app._notifications  # "Saved ... to ..." is in the dialog, not over it
        await pilot.press("enter")  # Enter closes a result, as Escape does
        await until(pilot, lambda: isinstance(app.screen, BackupScreen), what="the result closed")
        await action_over(pilot)
        await pilot.press("e")
        await form_showing(pilot, "Back up", "to an XVA file", "Enter OK  Esc Cancel")
        assert not app._notifications


async def test_a_notice_before_a_dialog_is_gone_once_it_opens(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Item 36: a precheck's notice sat on the next dialog's title."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_ha(pilot)
        await notice(pilot, "Precheck: a notice of the area, long-lived.", "long-lived")
        await pilot.press("f")
        form = await form_showing(pilot, "Host failures HA must tolerate", "Enter OK  Esc Cancel")
        await pilot.pause()
        assert not app._notifications
        await until(pilot, lambda: shows(app, form.title_text) and not shows(app, "long-lived"))


async def test_a_notice_that_comes_while_a_dialog_is_up_never_covers_its_buttons(
    console,  # noqa: F811
    running_sim,
    connection,
):
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_ha(pilot)
        await pilot.press("f")
        await form_showing(pilot, "Host failures HA must tolerate", "Enter OK  Esc Cancel")
        await notice(
            pilot, " ".join(["A long notice that says a great deal."] * 20), "A long notice"
        )
        row = next(line for line in screen_text(app).splitlines() if "Enter OK" in line)
        assert row.count("Cancel") == 2 and row.count("OK") == 2, row  # the buttons in view


async def test_a_notice_never_covers_a_screens_hint_line(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """A trial: at 80x24 a notice covered the Time tab's keys (F7, t).
    Notices stay above the footer and the hint line above it (xstui.tcss)."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        screen = await open_host(pilot, "xcp-a")
        await pilot.press("t")
        await until(pilot, lambda: shows(app, "t: read again"), what="the Time tab's keys")
        await notice(
            pilot, " ".join(["A long notice that says a great deal."] * 4), "A long notice"
        )
        hint = screen.query_one("#time-hint").region
        assert hint.y == 22  # the line above the footer
        lines = screen_text(app).splitlines()
        assert "great deal" in "".join(lines[15:22])  # the notice, above it
        assert lines[22].rstrip() == " n: NTP servers - z: time zone - t: read again", lines[22]


def clear_of(app, region) -> bool:
    """A notice is shown, and the rows of ``region`` show none of it (its edge)."""
    from textual.widgets._toast import Toast

    rows = screen_text(app).splitlines()[region.y : region.bottom]
    return bool(app.screen.query(Toast)) and not any(chr(0x258C) in r for r in rows)


async def test_a_notice_stays_above_a_hint_that_wraps(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Trial s12 item 9: F9's keys wrap onto two lines and a notice covered
    them (it stayed above one line only)."""
    from xstui.screens.storage import SR_HINT, StorageScreen

    async with at_the_console(connection) as pilot:
        app = pilot.app
        await until(pilot, lambda: app.connection.cache.table("sr"), what="the SRs")
        await pilot.press("f9")
        screen = await until(
            pilot, lambda: isinstance(app.screen, StorageScreen) and app.screen, what="F9"
        )
        hint = screen.query_one("#sr-hint")
        await until(pilot, lambda: hint.region.height == 2, what="the keys on two lines")
        assert SR_HINT.split()[-1] in screen_text(app).splitlines()[22]  # whole, above the footer
        await notice(pilot, " ".join(["A long notice that says a great deal."] * 4), "long")
        await until(pilot, lambda: clear_of(app, hint.region), what="the notice above the keys")


async def test_a_notice_stays_above_the_fleets_detail(console, saved_fleet):  # noqa: F811
    """Trial s12 item 9: F12 n's notice covered the separator and the row's detail."""
    from xstui.screens.fleet import FleetScreen

    app = XstuiApp()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        fleet = await until(
            pilot, lambda: isinstance(app.screen, FleetScreen) and app.screen, what="the fleet"
        )
        await notice(pilot, " ".join(["A notice that says a great deal."] * 4), "great")
        detail = fleet.query_one("#fleet-detail")
        await until(pilot, lambda: detail.region.height, what="the detail")
        await until(pilot, lambda: clear_of(app, detail.region), what="the notice above it")


async def test_the_notices_of_an_area_do_not_follow_to_the_next(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Item 37: a notice of Backup stayed over Security for seconds."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_backup(pilot)
        await notice(pilot, "Something Backup said.", "Something Backup said.")
        await open_security(pilot)
        assert not app._notifications
        await pilot.pause()
        assert not shows(app, "Something Backup said.")


# the areas' keys ----------------------------------------------------------------------
async def test_the_palette_lists_the_areas_first_with_their_keys(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Item 21: "Go to VMs" said nothing of F8; opened, the palette is the
    map of the areas."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_backup(pilot)
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert commands["Go to VMs"].startswith("Key: F8 - ")
        assert commands["Go to Logs"].startswith("Key: F10 - ")
        # trial s12 item 12: F1 to F10 in order (F6 came after F10); item 5: the fleet's keys
        keys = [
            c.help.split(" - ")[0]
            for c in app.get_system_commands(app.screen)
            if c.title.startswith("Go to ")
        ]
        assert keys == [f"Key: F{n}" for n in range(1, 11)]
        assert commands["Fleet"] == "Key: F12"
        assert commands["Next pool with a finding"] == "Key: F11"
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
        text = await until(
            pilot,
            lambda: (t := flat(screen_text(app))) and "Go to Networking" in t and t,
            what="the areas listed",
        )
        assert text.index("Go to Status") < text.index("Go to Networking")
        assert "Key: F1" in text and "Key: F2" in text
        await pilot.press("escape")


async def test_the_area_key_again_shows_its_first_tab(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Item 22: from Time (F7 t) or the pool check (F2 c) there was no key
    back; after the tab bar, arrows no longer moved the list."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        network = await open_network(pilot)
        host = await open_host(pilot, "xcp-a")
        tabs = host.query_one(TabbedPanes)
        await pilot.press("t")
        await until(pilot, lambda: tabs.active == "time", what="the Time tab")
        await pilot.press("f7")
        await until(pilot, lambda: tabs.active == "details", what="Details again")
        await pilot.press("f2")
        await until(pilot, lambda: app.screen is network, what="Networking")
        tabs = network.query_one(TabbedPanes)
        await pilot.press("c")
        await until(pilot, lambda: tabs.active == "check", what="the pool check")
        await pilot.press("shift+tab")  # onto the tab bar
        await until(pilot, lambda: isinstance(app.focused, TabBar), what="the tab bar focused")
        await pilot.press("f2")
        await until(pilot, lambda: tabs.active == "interfaces", what="Interfaces again")
        await until(pilot, lambda: not isinstance(app.focused, TabBar), what="the list focused")
        before = network.selected()
        await pilot.press("down")
        await until(pilot, lambda: network.selected() != before, what="Down moving the cursor")


# Enter goes on, Escape goes back ------------------------------------------------------
async def test_enter_in_a_tick_list_goes_on(console, running_sim, connection):  # noqa: F811
    """Item 24: Enter un-ticked a NIC instead of going on."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_network(pilot)
        await pilot.press("b")
        form = await form_showing(pilot, "Create a bond")
        ticks = form.query_one("#field-devices")
        await until(pilot, lambda: app.focused is ticks, what="the NICs focused")
        await pilot.press("down", "space", "down", "space")
        chosen = list(ticks.selected)
        assert len(chosen) == 2
        await pilot.press("enter")
        plan = await until(
            pilot, lambda: isinstance(app.screen, PlanModal) and app.screen, what="the plan"
        )
        assert all(device in plan.plan.summary for device in chosen)


async def test_the_dry_run_and_pool_recovery_say_enter_and_escape(
    console,  # noqa: F811
    running_sim,
    connection,
    tmp_path,
):
    """Item 24: their buttons had no Enter/Esc row; recovery's way back came last."""
    dump = tmp_path / "pool.db"
    bk.DumpDatabase(connection.cache, str(dump)).execute(RunContext(connection))
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_backup(pilot)
        await pilot.press("r")
        await fill_form(pilot, path=str(dump))
        check = await until(
            pilot,
            lambda: isinstance(app.screen, RestoreCheckModal) and app.screen,
            what="the dry run",
        )
        await until(pilot, lambda: shows(app, "Enter Restore...  Esc Back"))
        labels = [str(b.label) for b in check.query(Button)]
        assert labels == ["Back", "Restore..."] and app.focused is check.query_one("#restore")
        await pilot.press("escape")  # back to the file's form, as typed
        form = await form_showing(pilot, "Restore the pool database")
        assert form.query_one("#field-path", Input).value == str(dump)
        await pilot.press("escape")
        await action_over(pilot)
        await pilot.press("ctrl+r")
        recovery = await until(
            pilot, lambda: isinstance(app.screen, RecoveryModal) and app.screen, what="recovery"
        )
        await until(pilot, lambda: shows(app, "The master answers", "Enter Ask again  Esc Close"))
        labels = [str(b.label) for b in recovery.query(Button) if b.display]
        assert labels[0] == "Close" and labels[-1] == "Ask again"
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, RecoveryModal), what="closed")


async def test_the_network_test_closes_with_enter(console, local_connection):  # noqa: F811
    """Items 23 and 24: its form's title was cut mid-sentence, and Enter did
    nothing on its results ("Escape to close")."""
    _running, conn = local_connection
    async with at_the_console(conn) as pilot:
        app = pilot.app
        await open_network(pilot)
        await pilot.press("t")
        await form_showing(pilot, "ping the gateway and the DNS servers", "Also ping")
        app.screen.query_one("#ok", Button).press()
        await until(pilot, lambda: isinstance(app.screen, NetworkTestModal), what="the test")
        await until(pilot, lambda: shows(app, "done.", "Enter, Esc Close"), what="its results")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, NetworkScreen), what="closed by Enter")


# forms --------------------------------------------------------------------------------
async def test_a_problem_goes_once_the_input_changes(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Item 25: "nothing to change" stayed after the interface changed; "''
    is not a number" stayed after 1 was typed."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_network(pilot)
        await pilot.press("m")
        form = await form_showing(pilot, "Management interface of")
        form.query_one("#ok", Button).press()
        problem = form.query_one("#problem-form")
        await until(pilot, lambda: "nothing to change" in str(problem.render()), what="refused")
        form.query_one("#field-device").value = "eth1"
        await until(pilot, lambda: problem.disabled, what="the form's problem gone")
        assert not shows(app, "nothing to change")
        await pilot.press("escape")
        await action_over(pilot)
        await open_ha(pilot)
        await pilot.press("f")
        form = await form_showing(pilot, "Host failures HA must tolerate")
        field = form.query_one("#field-tolerate", Input)
        field.value = ""
        await pilot.press("enter")
        await until(pilot, lambda: shows(app, "give failures to tolerate"), what="refused")
        await pilot.press("1")
        await until(pilot, lambda: not shows(app, "give failures"), what="the problem gone")
        assert field.value == "1"


async def test_an_empty_field_never_looks_typed_and_its_problem_says_not_possible(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Item 26: the grey "corp.example" read as a value; its refusal lacked
    the "Not possible:" of every other."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_security(pilot)
        await pilot.press("u")
        await pilot.press("a")
        form = await form_showing(pilot, "Join the pool to an Active Directory domain")
        assert form.query_one("#field-domain", Input).placeholder == "(corp.example)"
        assert shows(app, "AD domain: (corp.example)")
        await pilot.press("enter")
        problem = form.query_one("#problem-domain")
        await until(pilot, lambda: not problem.disabled, what="the refusal")
        assert str(problem.render()).startswith("Not possible: give a DNS domain")


async def test_a_long_path_shows_where_it_starts(
    console,  # noqa: F811
    running_sim,
    connection,
    tmp_path,
    monkeypatch,
):
    """Item 23: path fields showed their tail ("t/xstui-backups/Demo_Pool-...db")."""
    folder = tmp_path / "a-folder-with-a-rather-long-name" / "xstui-backups"
    monkeypatch.setenv("XSTUI_BACKUP_DIR", str(folder))
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_backup(pilot)
        await pilot.press("d")
        form = await form_showing(pilot, "Dump the pool database")
        path = form.query_one("#field-path", Input)
        assert len(path.value) > path.content_size.width  # too long to show whole
        start = path.value[: path.content_size.width - 1]
        await until(pilot, lambda: shows(app, start), what="the path's start in view")
        await pilot.press("x")  # the whole path was chosen: typing replaces it
        assert path.value == "x"


async def test_the_button_row_says_enter_and_esc_whole_at_80_columns(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Item 23: "Enter Designate first  Esc     Cancel" (Esc's action cut)."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_host(pilot, "xcp-a")
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ChoiceModal), what="the question")
        await until(
            pilot,
            lambda: on_a_line(app, "Enter Designate first  Esc Cancel") and shows(app, "Go on"),
            what="the whole row",
        )
        await pilot.press("escape")


# what keys say ------------------------------------------------------------------------
async def test_keys_that_read_say_what_they_did(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Item 29: F1 f, F3 r and F4 r gave no feedback at all."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await until(pilot, lambda: getattr(app.screen, "status", None), what="Status")
        await pilot.press("f")
        await until(pilot, lambda: "nothing to read over plain HTTP" in notes(app), what="why")
        await open_ha(pilot)
        await pilot.press("r")
        await until(pilot, lambda: "HA plan read again." in notes(app), what="the HA plan read")
        await open_patching(pilot)
        await pilot.press("r")
        await until(pilot, lambda: "Updates read again." in notes(app), what="the updates read")


async def test_a_key_of_another_tab_says_where_it_is(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """A trial: F8's s (Snapshot) and Enter (Graphs) did nothing on the VM
    list, F7's x (Exit maint.) nothing on a host not in maintenance."""
    from xstui.screens.vms import VmsScreen

    async with at_the_console(connection) as pilot:
        app = pilot.app
        app.switch_mode("vms")
        await until(pilot, lambda: isinstance(app.screen, VmsScreen) and app.screen.all_rows)
        await pilot.press("s")
        await until(pilot, lambda: "Snapshot: on the Snapshots tab (n shows it)." in notes(app))
        await pilot.press("enter")
        await until(pilot, lambda: "Graphs: on the Top tab" in notes(app), what="Enter's place")
        assert app.screen.tab == "list"  # nothing else happened
        await open_host(pilot, "xcp-b")
        await pilot.press("x")
        await until(pilot, lambda: "Exit maint.: not for what is shown now." in notes(app))


# risk ---------------------------------------------------------------------------------
async def test_designating_a_new_master_asks_for_its_name(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Item 35: it cuts every client off, and took a single Enter."""
    st = running_sim.sim.store
    master = st.get("pool", running_sim.sim.pool)["master"]
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_host(pilot, "xcp-a")
        await pilot.press("D")
        await fill_form(pilot, host="xcp-b")
        plan = await until(
            pilot, lambda: isinstance(app.screen, PlanModal) and app.screen, what="the plan"
        )
        assert plan.plan.risk == "high" and plan.plan.confirm_word == "xcp-b"
        await until(pilot, lambda: shows(app, "Type xcp-b to confirm:"), what="the word asked")
        assert plan.query_one("#apply", Button).disabled
        await pilot.press("enter")  # nothing typed: nothing done
        assert app.screen is plan
        await pilot.press("escape")
        await action_over(pilot)
        assert isinstance(app.screen, HostScreen)
    assert st.get("pool", running_sim.sim.pool)["master"] == master


async def test_a_dialog_clears_the_notices_before_it_never_those_after(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Opening a dialog takes the notices raised before it, those still on
    their way as messages included; an outcome raised once it is up stays."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_backup(pilot)
        app.notify("Raised before the dialog.", timeout=120)  # still a message, not yet shown
        app.push_screen(ResultModal("A result", "its words"))
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, ResultModal)
                and getattr(app.screen.focused, "id", "") == "close"
            ),
            what="the dialog up",
        )
        app.notify("Raised while it is up.", timeout=120)
        await until(pilot, lambda: "Raised while it is up." in notes(app), what="the new notice")
        await pilot.pause()
        assert "Raised before the dialog." not in notes(app)
        assert "Raised while it is up." in notes(app)


# bodies that scroll -------------------------------------------------------------------
async def test_a_long_plan_scrolls_to_its_last_line_at_80x24(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Trial s12 item 1: the master's new address plan stopped at "until they
    follow. xstui then" (PgDn, Down and End went no further) with two empty
    rows under the buttons; "PgDn more below" went before the end."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_network(pilot, "eth0")
        await pilot.press("m")
        await fill_form(pilot, ip="127.10.0.99")
        plan = await until(
            pilot, lambda: isinstance(app.screen, PlanModal) and app.screen, what="the plan"
        )
        last = plan.plan.impact[-1].split()[-1]
        await until(pilot, lambda: shows(app, MORE_BELOW), what="more below")
        for key in ("pagedown", "down", "end"):
            for _ in range(12):
                if shows(app, last):
                    break
                assert shows(app, MORE_BELOW)  # said until the end is seen
                await pilot.press(key)
                await pilot.pause()
            await until(pilot, lambda: shows(app, last), what=f"the last line by {key}")
            await until(pilot, lambda: not shows(app, MORE_BELOW), what="no more below")
            plan.query_one("#plan-body").scroll_home(animate=False)
            await until(pilot, lambda: shows(app, MORE_BELOW), what="more below again")
        rows = screen_text(app).splitlines()
        buttons = next(i for i, row in enumerate(rows) if "Apply" in row and "Cancel" in row)
        assert chr(0x2584) in rows[buttons + 1], rows[
            buttons:
        ]  # the box's bottom edge, no empty rows


async def test_an_action_that_would_change_nothing_is_refused_in_its_form(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Trial s12 item 7: F7 s with nothing changed planned "Enable SSH" though
    SSH was on; an emptied timeout was taken for "never" without a word."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_host(pilot, "xcp-a")
        await pilot.press("s")
        form = await form_showing(pilot, "SSH:")
        state = form.query_one("#field-ssh").value
        await pilot.press("enter")
        await until(
            pilot,
            lambda: shows(app, f"Not possible: nothing to change: SSH is already {state}"),
            what="nothing to change",
        )
        assert app.screen is form
        await fill_form(pilot, timeout="")
        await until(pilot, lambda: shows(app, "give the minutes after which SSH turns itself off"))
        await pilot.press("enter")
        assert app.screen is form


async def test_the_fleets_connect_dialog_has_a_way_back_said_as_every_dialog(
    console,  # noqa: F811
    running_sim,
    connection,
    monkeypatch,
):
    """Trial s12 item 13: F12's connect dialog had only Connect, its hint
    "Esc back to the fleet" rather than "Esc Cancel"."""
    from xstui.screens.fleet import FleetConnectScreen

    async with at_the_console(connection) as pilot:
        app = pilot.app
        asked = []
        monkeypatch.setattr(app, "action_show_fleet", lambda: asked.append("fleet"))
        app.open_pool(running_sim.url, "root", "")  # no password: the dialog asks
        screen = await until(
            pilot,
            lambda: isinstance(app.screen, FleetConnectScreen) and app.screen,
            what="the connect dialog",
        )
        await until(pilot, lambda: on_a_line(app, "Enter Connect  Esc Cancel"), what="the hint")
        assert [str(b.label) for b in screen.query(Button)] == ["Cancel", "Connect"]
        screen.query_one("#back", Button).press()
        await until(pilot, lambda: asked == ["fleet"], what="back to the fleet")


async def test_an_open_pick_list_stays_inside_its_dialog(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Trial s12 item 23: an open pick list went past the dialog's bottom edge
    and covered "Enter OK  Esc Cancel" and the buttons."""
    from textual.containers import Vertical
    from textual.widgets._select import SelectOverlay

    from xstui.widgets.form import Choice
    from xstui.widgets.modal import ButtonRow

    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_network(pilot, "eth0")
        await pilot.press("m")
        form = await form_showing(pilot, "Management interface of")
        choice = form.query_one("#field-device", Choice)
        await until(pilot, lambda: app.focused is choice, what="the pick list focused")
        await pilot.press("space")
        await until(pilot, lambda: choice.expanded, what="the list open")
        await pilot.pause()
        box = form.query_one(Vertical).region
        listing = choice.query_one(SelectOverlay).region
        row = form.query_one(ButtonRow).region
        assert box.contains_region(listing), (box, listing)
        assert not listing.overlaps(row), (listing, row)
        assert on_a_line(app, "Enter OK  Esc Cancel")


async def test_a_form_says_every_fields_problem_at_once_in_one_style(
    console,  # noqa: F811
    running_sim,
    connection,
):
    """Trial s12 item 15: F3 p with order -3 and delay "x" said only the
    order's problem; the refusals of the forms are said one way: "Not
    possible: " then a lower-case start, the value quoted."""
    async with at_the_console(connection) as pilot:
        app = pilot.app
        await open_ha(pilot)
        await pilot.press("space", "p")
        form = await form_showing(pilot, "Start order")
        await fill_form(pilot, order="-3", delay="x")
        await pilot.press("enter")
        said = {
            "order": "Not possible: the order must be between 0 and 9999.",
            "delay": "Not possible: the start delay 'x' is not a number.",
        }
        for field, words in said.items():
            problem = form.query_one(f"#problem-{field}")
            await until(pilot, lambda p=problem, w=words: str(p.render()) == w, what=words)
        assert app.screen is form
