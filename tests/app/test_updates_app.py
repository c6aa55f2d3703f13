"""Pilot tests at 80x24 of the Patching screen, end to end against the
simulator: the per-host model, an update file uploaded and applied to one
host, a precheck failure in words, a rolling pool update to the end, and
one stopped with Esc after its first host (every host left enabled)."""

from xstui.screens.updates import UpdatesScreen

from tests.app.test_console import screen_text
from tests.app.test_network_app import action_over, confirm_plan, fill_form
from tests.waiting import until
from xstui.app import XstuiApp
from xstui.sim.messages._updates import write_update_file
from xstui.widgets.form import FormModal
from xstui.widgets.progress import TaskProgressModal
from xstui.widgets.rowlist import RowList

# hotfixes as ISOs to upload (pool_update), as Citrix Hypervisor 8.2 plays
# the demo's; the XCP-ng and XenServer 8 ways: tests/unit/test_release_updates.py
SIM_RELEASE = "citrix-hypervisor-8.2"


async def open_patching(pilot) -> UpdatesScreen:
    app = pilot.app
    await until(pilot, lambda: app.connection.cache.table("host"))
    await pilot.press("f4")
    await until(
        pilot,
        lambda: (
            isinstance(app.screen, UpdatesScreen)
            and app.screen.generation is not None
            and app.screen.query_one(RowList).rows
        ),
    )
    return app.screen


async def upload(pilot, screen: UpdatesScreen, path) -> None:
    await pilot.press("u")
    await fill_form(pilot, path=str(path), sr="NFS VM store")
    await confirm_plan(pilot)
    name = path.stem
    await until(pilot, lambda: screen.view().update(name) is not None, what="the update uploaded")
    await action_over(pilot)


def names_on(running, host: str) -> set[str]:
    st = running.sim.store
    ref = st.find_one("host", name_label=host)
    return {st.get("pool_update", u)["name_label"] for u in st.get("host", ref)["updates"]}


async def test_upload_and_apply_to_one_host(running_sim, connection, tmp_path, monkeypatch):
    path = tmp_path / "XS82ECU1050.iso"
    write_update_file(path, "XS82ECU1050", 2 << 20, guidance=("restartHost",))
    monkeypatch.setenv("XSTUI_UPDATE_DIR", str(tmp_path))
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_patching(pilot)
        assert [r[1][0] for r in screen.query_one(RowList).rows] == ["xcp-a (M)", "xcp-b", "xcp-c"]
        await upload(pilot, screen, path)
        await pilot.press("down")  # xcp-b
        await pilot.press("a")
        await fill_form(pilot, name="XS82ECU1050")
        modal = await confirm_plan(pilot)
        assert "Reboot the host" in " ".join(modal.plan.impact)
        await until(pilot, lambda: "XS82ECU1050" in names_on(running_sim, "xcp-b"))
        assert "XS82ECU1050" not in names_on(running_sim, "xcp-a")
        await until(pilot, lambda: screen.view().host_named("xcp-b").pending == ("restartHost",))
        await action_over(pilot)


async def test_precheck_failure_is_shown_in_words(running_sim, connection, tmp_path, monkeypatch):
    path = tmp_path / "XS82ECU1052.iso"
    write_update_file(path, "XS82ECU1052", 1 << 20, requires=("XS82ECU1050",))
    monkeypatch.setenv("XSTUI_UPDATE_DIR", str(tmp_path))
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_patching(pilot)
        await upload(pilot, screen, path)
        await pilot.press("p")
        await fill_form(pilot, name="XS82ECU1052")
        await until(pilot, lambda: screen.verdicts)
        assert not any(v.ok for v in screen.verdicts)
        assert all("needs another update applied first" in v.text for v in screen.verdicts)
        assert all("XS82ECU1052" in v.text and "OpaqueRef" not in v.text for v in screen.verdicts)


async def test_rolling_update_through_the_screen(running_sim, connection):
    """To the end; the progress dialog keeps the per-host table in view at
    80x24 while it runs, and xcp-c's VMs come back to it (issue 27, item 13)."""
    running_sim.sim.reboot_seconds = 20  # x time_scale 0.05: 1 s away
    st = running_sim.sim.store
    on_c = st.find_one("host", name_label="xcp-c")
    before = {v for v, rec in st.table("VM").items() if rec["resident_on"] == on_c}
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_patching(pilot)
        await pilot.press("R")
        await fill_form(pilot, blocked="shut them down")
        await confirm_plan(pilot, "update")
        rows = ("Host", "State", "VMs"), ("xcp-a", "xcp-b", "xcp-c")
        shown = await until(
            pilot,
            lambda: (
                isinstance(app.screen, TaskProgressModal)
                and (text := screen_text(app))
                and all(w in text for w in (*rows[0], *rows[1]))
                and ("to move" in text or "away" in text)  # xcp-c's VMs, mid-run
                and text
            ),
            what="the per-host table, xcp-c's VMs away, in the progress dialog",
        )
        assert "Rolling pool update..." in shown and "Escape to" in shown  # nothing cut
        await until(
            pilot,
            lambda: all(not h.missing for h in screen.view().hosts),
        )
        await until(pilot, lambda: screen._journal() is None)  # finished
    records = running_sim.sim.records
    assert sorted(h for what, h, _ in records if what == "reboot") == ["xcp-c"]
    assert all(h["enabled"] for h in st.table("host").values())
    assert {v for v, rec in st.table("VM").items() if rec["resident_on"] == on_c} == before


async def test_escape_stops_after_the_current_host(running_sim, connection):
    # the master's toolstack restart (its last step) takes 2 s: Esc lands during xcp-a
    running_sim.sim.agent_restart_seconds = 40
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_patching(pilot)
        await pilot.press("R")
        await fill_form(pilot, blocked="shut them down")
        await confirm_plan(pilot, "update")
        await until(pilot, lambda: any(w == "apply" for w, *_ in running_sim.sim.records))
        await pilot.press("escape")
        await until(
            pilot,
            lambda: (j := screen._journal()) and j.done(_uuid(running_sim, "xcp-a"), "done"),
        )
        await action_over(pilot)  # stopped, with xcp-b not started
        journal = screen._journal()
        assert journal is not None and not journal.done(_uuid(running_sim, "xcp-b"), "disable")
    st = running_sim.sim.store
    assert all(h["enabled"] for h in st.table("host").values())
    assert "XS82ECU1048" not in names_on(running_sim, "xcp-b")  # not started on it


def _uuid(running, name: str) -> str:
    st = running.sim.store
    return st.get("host", st.find_one("host", name_label=name))["uuid"]


async def test_the_update_file_is_checked_in_the_form(
    running_sim, connection, tmp_path, monkeypatch
):
    """Trial s12 item 16: /proc/version was refused as "empty", /etc/passwd
    passed the form and the plan, refused only by XAPI (INVALID_PATCH)."""
    from xstui.widgets.form import FormModal

    text = tmp_path / "passwd"
    text.write_text("root:x:0:0:root:/root:/bin/bash\n")
    monkeypatch.setenv("XSTUI_UPDATE_DIR", str(tmp_path))
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_patching(pilot)
        await pilot.press("u")
        form = await until(pilot, lambda: isinstance(app.screen, FormModal) and app.screen)
        for typed, words in (
            ("/proc/version", "/proc/version is on the kernel's proc file system"),
            (str(text), f"{text} is not an update: expected an ISO"),
        ):
            await fill_form(pilot, path=typed)
            await pilot.press("enter")
            await until(
                pilot,
                lambda w=words: w in str(form.query_one("#problem-path").render()),
                what=words,
            )
            assert app.screen is form  # no plan


async def test_the_first_palette_action_waits_for_the_api_read(
    running_sim, connection, monkeypatch
):
    """Trial s12 item 3: from F1, the palette's "Rolling update" showed
    Patching and "Still reading what this pool's API offers.", and no
    dialog; the action now waits for the read, then asks."""
    import threading

    from xstui.screens import updates

    release = threading.Event()

    def slow_detect(conn):
        release.wait(30)
        return detect(conn)

    detect = updates.detect
    monkeypatch.setattr(updates, "detect", slow_detect)
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.connection.cache.table("host"))
        await app._press("updates", "rolling")
        await until(pilot, lambda: isinstance(app.screen, UpdatesScreen), what="Patching")
        await until(
            pilot,
            lambda: any("Reading what" in n.message for n in app._notifications),
            what="the wait said",
        )
        release.set()
        await until(
            pilot,
            lambda: isinstance(app.screen, FormModal) and "Esc" in screen_text(app),
            what="its form",
        )
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, UpdatesScreen), what="the form gone")
        assert not any(updates.STILL_READING in n.message for n in app._notifications)
