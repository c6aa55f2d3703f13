"""Pilot tests at 80x24 (TERM=linux) of the Storage screen, end to end
against the simulator: a new local SR's disk list marks a disk that holds
an SR and names it, and its plan asks for the disk's path to be typed."""

import pytest
from xstui.screens.storage import StorageScreen

from tests.app.test_console import capture, console  # noqa: F401 (a fixture)
from tests.app.test_network_app import action_over, confirm_plan, fill_form
from tests.waiting import until
from xstui.app import XstuiApp
from xstui.widgets.console import foreign_glyphs
from xstui.widgets.form import FormModal
from xstui.widgets.plan import PlanModal

GiB = 1 << 30


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
        await until(pilot, lambda: app.connection.cache.table("host"), what="the pool")
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, StorageScreen), what="Storage")
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
        await until(pilot, lambda: app.connection.cache.table("host"), what="the pool")
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, StorageScreen), what="Storage")
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
