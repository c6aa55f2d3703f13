"""Pilot tests at 80x24 (TERM=linux) of the Storage screen, end to end
against the simulator: a new local SR's disk list marks a disk that holds
an SR and names it, and its plan asks for the disk's path to be typed."""

import pytest
from xstui.screens.storage import StorageScreen

from tests.app.test_console import capture, console  # noqa: F401 (a fixture)
from tests.app.test_network_app import action_over, confirm_plan, fill_form
from tests.waiting import form_mounted, until
from xstui.app import XstuiApp
from xstui.widgets.console import foreign_glyphs
from xstui.widgets.form import FormModal
from xstui.widgets.plan import PlanModal

GiB = 1 << 30


async def open_storage(pilot) -> StorageScreen:
    """The pool read, F9: the Storage screen."""
    app = pilot.app
    await until(pilot, lambda: app.connection.cache.table("host"), what="the pool")
    await pilot.press("f9")
    return await until(
        pilot, lambda: isinstance(app.screen, StorageScreen) and app.screen, what="Storage"
    )


def forgotten_on_disk(running, host: str, device: str, name: str) -> str:
    """An LVM SR on a host's disk that the pool forgot (or another pool's)."""
    st = running.sim.store
    uuid = "5a1e0c4e-0000-4000-8000-00000000b0b0"
    rec = {"uuid": uuid, "type": "lvm", "name_label": name, "name_description": ""}
    st.on_storage[uuid] = ({**rec, "physical_size": 1788 * GiB}, {"device": device}, [])
    st.on_disk[uuid] = (st.find_one("host", name_label=host), device)
    return uuid


@pytest.mark.usefixtures("console")
async def test_a_disk_holding_an_sr_is_marked_and_named(running_sim, connection):
    """Issue 27, item 9: not the generic warning only."""
    forgotten_on_disk(running_sim, "xcp-b", "/dev/sdb", "Old local")
    app = XstuiApp(connection)
    seen: dict[str, str] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await open_storage(pilot)
        await pilot.press("n")
        await fill_form(pilot, kind="local LVM")
        await until(pilot, lambda: app.screen.query("#field-host"), what="the host asked")
        await fill_form(pilot, host="xcp-b")
        form = await until(
            pilot,
            lambda: (
                isinstance(app.screen, FormModal)
                and app.screen.query("#field-device")
                and app.screen
            ),
            what="the disk form",
        )
        assert form.query_one("#field-device").value == "/dev/sdb  1.7 TiB  ! holds Old local"
        assert form.title_text.endswith(
            "\n! /dev/sdb holds the SR Old local (lvm, 1.7 TiB), unknown to this pool "
            "(forgotten, or another pool's)"
        )
        # at 80x24 the title wraps, the list's line shows the mark, nothing is cut
        said = ("! /dev/sdb holds the SR Old local", "(forgotten, or another pool's)")
        await capture(pilot, seen, "disk form", *said, "! holds Old local", "OK")
        await fill_form(pilot, name="Scratch")
        modal = await until(
            pilot, lambda: isinstance(app.screen, PlanModal) and app.screen, what="the plan"
        )
        assert (modal.plan.risk, modal.plan.confirm_word) == ("high", "/dev/sdb")
        assert "Old local" in modal.plan.impact[0] and "erased" in modal.plan.impact[0]
        text = await capture(pilot, seen, "plan", "Type /dev/sdb to confirm", "Apply")
        assert "unknown to this" in text
        await confirm_plan(pilot, "/dev/sdb")
        st = running_sim.sim.store
        await until(pilot, lambda: st.find("SR", name_label="Scratch"), what="the SR made on xcp-b")
        await action_over(pilot)
    assert "5a1e0c4e-0000-4000-8000-00000000b0b0" not in st.on_storage  # erased
    for name, text in seen.items():
        assert not foreign_glyphs(text), f"{name}: {sorted(foreign_glyphs(text))}"


async def test_a_typed_disk_is_probed_before_the_plan(running_sim, connection):
    """Where the host lists no disks (XenServer has no lsblk.py plugin), the
    path typed is probed: the plan names what it holds all the same."""
    forgotten_on_disk(running_sim, "xcp-b", "/dev/sdb", "Old local")
    st = running_sim.sim.store
    b = st.find_one("host", name_label="xcp-b")
    st.set(
        "host",
        b,
        software_version={**st.get("host", b)["software_version"], "product_brand": "XenServer"},
    )
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_storage(pilot)
        await pilot.press("n")
        await fill_form(pilot, kind="local ext (USB, backups)")
        await until(pilot, lambda: app.screen.query("#field-host"), what="the host asked")
        await fill_form(pilot, host="xcp-b")
        form = await until(
            pilot,
            lambda: (
                isinstance(app.screen, FormModal)
                and app.screen.query("#field-device")
                and app.screen
            ),
            what="the disk form",
        )
        assert "it lists none: type the path" in form.title_text
        await fill_form(pilot, device="/dev/sdb", name="Backups")
        modal = await until(
            pilot, lambda: isinstance(app.screen, PlanModal) and app.screen, what="the plan"
        )
        assert (modal.plan.risk, modal.plan.confirm_word) == ("high", "/dev/sdb")  # ext: medium
        assert modal.plan.impact[0].startswith("/dev/sdb holds the SR Old local (lvm, 1.7 TiB)")
        await pilot.press("escape")
        await action_over(pilot)


async def wizard_form(pilot, field: str, problem: str = "") -> FormModal:
    """The wizard's form that asks ``field`` (saying ``problem``), mounted."""
    app = pilot.app
    return await until(
        pilot,
        lambda: (
            form_mounted(app)
            and app.screen.query(f"#field-{field}")
            and problem in str(app.screen.query_one("#problem-form").render())
            and app.screen
        ),
        what=f"the form asking {field}" + (f", saying {problem!r}" if problem else ""),
    )


async def test_the_nfs_wizard_keeps_what_was_typed(running_sim, connection):
    """Issue 27: a step that fails opens its form again as typed, with the
    reason in it; Escape goes back one step, its values kept; on the first
    step it cancels."""
    st = running_sim.sim.store
    st.nfs_exports["127.10.2.7"] = []  # a server that exports nothing
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_storage(pilot)
        await pilot.press("n")
        await fill_form(pilot, kind="NFS")
        # no NFS service there, then no export: the server form again, as typed, saying why
        await wizard_form(pilot, "server")
        await fill_form(pilot, server="127.10.2.99")
        form = await wizard_form(pilot, "server", "Unable to detect an NFS service")
        assert form.query_one("#field-server").value == "127.10.2.99"
        await fill_form(pilot, server="127.10.2.7")
        form = await wizard_form(pilot, "server", "127.10.2.7 exports nothing this pool may mount")
        assert form.query_one("#field-server").value == "127.10.2.7"
        assert str(form.query_one("#cancel").label) == "Back"  # the kind before it
        await fill_form(pilot, server="127.10.2.5")
        form = await wizard_form(pilot, "path")
        form.query_one("#field-version").value = "4"
        form.query_one("#field-name").value = "Scratch NFS"
        # Escape: the server's form, as typed; on: the exports' form, as typed
        await pilot.press("escape")
        form = await wizard_form(pilot, "server")
        assert form.query_one("#field-server").value == "127.10.2.5"
        await fill_form(pilot)
        form = await wizard_form(pilot, "path")
        assert form.query_one("#field-name").value == "Scratch NFS"
        assert form.query_one("#field-version").value == "4"
        # a later refusal (the export gone before SR.create): this form again, as typed
        st.nfs_exports["127.10.2.5"].remove("/export/backups")
        await fill_form(pilot, path="/export/backups")
        await confirm_plan(pilot)
        form = await wizard_form(pilot, "path", "NFS mount error")
        assert form.query_one("#field-name").value == "Scratch NFS"
        assert form.query_one("#field-version").value == "4"
        assert not st.find("SR", name_label="Scratch NFS")
        # Escape back to the kind, NFS still chosen; Escape there cancels
        await pilot.press("escape")
        form = await wizard_form(pilot, "server")
        await pilot.press("escape")
        form = await wizard_form(pilot, "kind")
        assert form.query_one("#field-kind").value == "NFS"
        assert str(form.query_one("#cancel").label) == "Cancel"
        await pilot.press("escape")
        await action_over(pilot)
        assert app.screen is screen


async def test_the_iscsi_wizard_goes_back_past_a_step_without_a_form(running_sim, connection):
    """One IQN: no form asks for it, so Escape on the LUNs' form goes back to
    the target's, as typed (the CHAP password too)."""
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_storage(pilot)
        await pilot.press("n")
        await fill_form(pilot, kind="iSCSI")
        await wizard_form(pilot, "target")
        await fill_form(pilot, target="127.10.2.6", chapuser="xen", chappassword="wrong")
        form = await wizard_form(pilot, "chappassword", "SR_BACKEND_FAILURE")
        assert form.query_one("#field-chapuser").value == "xen"
        await fill_form(pilot, chappassword="Chap-Demo-1")
        await wizard_form(pilot, "lun")
        await pilot.press("escape")
        form = await wizard_form(pilot, "target")
        typed = [
            form.query_one(f"#field-{f}").value for f in ("target", "chapuser", "chappassword")
        ]
        assert typed == ["127.10.2.6", "xen", "Chap-Demo-1"]
        await pilot.press("escape", "escape")
        await action_over(pilot)
        assert isinstance(app.screen, StorageScreen)


async def test_an_iso_library_offers_neither_default_nor_destroy(running_sim, connection):
    """Issue 27: on an ISO library, Default SR and Destroy are dimmed and say
    why when pressed (Forget is the way); on an SR for disks they are not."""
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_storage(pilot)
        await until(pilot, lambda: screen.query_one("#srs").rows, what="the SRs listed")
        listing = screen.query_one("#srs")
        names = [cells[0] for _key, cells in listing.rows]
        listing.cursor = names.index("ISO library")
        await pilot.pause()
        assert screen.check_action("default", ()) is None  # shown dimmed
        assert screen.check_action("destroy", ()) is None
        assert screen.check_action("forget", ()) is True
        await pilot.press("D", "X")
        said = lambda: [n.message for n in app._notifications]  # noqa: E731
        await until(pilot, lambda: len(said()) == 2, what="two refusals in words")
        assert said()[0].startswith("Default SR: ISO library is an ISO library")
        assert "forget it instead (f), its ISO files stay there" in said()[1]
        assert app.screen is screen  # no plan
        listing.cursor = names.index("NFS VM store *")
        await pilot.pause()
        assert screen.check_action("destroy", ()) is True
        # trial s12 item 20: D was lit on the SR that is the default already
        assert screen.check_action("default", ()) is None
        app.clear_notifications()
        await pilot.press("D")
        await until(pilot, lambda: said(), what="why in words")
        assert said() == ["Default SR: NFS VM store is the default SR already."]
        assert app.screen is screen


async def test_attach_is_dimmed_on_an_sr_attached_everywhere_and_says_why(running_sim, connection):
    """A trial: F9's a (Attach) was lit on an attached SR and answered only
    once pressed; the key now follows the SR under the cursor."""
    st = running_sim.sim.store
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await open_storage(pilot)
        await until(pilot, lambda: screen.selected(), what="an SR under the cursor")
        for _ in range(len(screen.query_one("RowList").rows)):  # to an SR attached everywhere
            sr = screen.selected()
            pbds = [st.get("PBD", p) for p in st.get("SR", sr)["PBDs"]]
            if pbds and all(p["currently_attached"] for p in pbds):
                break
            await pilot.press("down")
        name = st.get("SR", sr)["name_label"]
        assert screen.refusal("attach") == f"{name} is attached on every host already"
        assert screen.check_action("attach", ()) is None  # shown dimmed
        await pilot.press("a")
        await until(
            pilot,
            lambda: any("attached on every host already" in n.message for n in app._notifications),
            what="why",
        )
        assert not isinstance(app.screen, PlanModal)
