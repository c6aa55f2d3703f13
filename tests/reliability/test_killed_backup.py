"""Reliability (issue #28, item 5): a console killed (SIGKILL) in the
middle of a VM backup leaves a snapshot and a partial file. The next
console on that pool names both at start and removes them when the admin
agrees; nothing else is touched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

from tests.app.test_network_app import confirm_plan
from tests.waiting import until, wait_for
from xstui.app import XstuiApp
from xstui.files import partial_files
from xstui.services import inflight
from xstui.widgets.plan import PlanModal

CHILD = textwrap.dedent(
    """
    import sys
    from xstui.areas import watched_types
    from xstui.services import backup as bk
    from xstui.services.actions import RunContext
    from xstui.xapi.connection import Connection
    from xstui.xapi.targets import parse_target

    url, password, path = sys.argv[1:]
    conn = Connection(parse_target(url), "root", password, watch=watched_types())
    conn.login()
    conn.start_events()
    conn.cache.wait_for(lambda: conn.cache.table("vdi"), 30)
    vm = next(v.ref for v in conn.cache.table("vm").values() if v.name_label == "web-01")
    bk.BackupVm(conn.cache, vm, path).execute(RunContext(conn))
    """
)


def snapshots_of(store, name: str) -> list[str]:
    with store.lock:
        vm = store.find_one("VM", name_label=name)
        return list(store.get("VM", vm)["snapshots"])


async def test_a_backup_killed_halfway_is_cleaned_up_at_the_next_start(
    running_sim, connection, tmp_path
):
    sim, store = running_sim.sim, running_sim.sim.store
    sim.chunk_delay = 0.02  # slow enough to be killed halfway
    vdis_before = set(store.table("VDI"))
    path = tmp_path / "web-01.xva"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, running_sim.url, running_sim.password, str(path)],
        env=os.environ.copy(),  # the same XDG_STATE_HOME: its journal is where we look
    )
    try:

        def halfway() -> bool:
            journals = list(inflight.folder().glob("*.json"))
            if not journals:
                return False
            kinds = {i["kind"] for i in json.loads(journals[0].read_text())["items"]}
            parts = partial_files(path)
            return kinds == {"snapshot", "file"} and bool(parts) and parts[0].stat().st_size > 0

        wait_for(halfway, 60, what="the backup halfway: a snapshot and a partial file")
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    sim.chunk_delay = 0
    assert snapshots_of(store, "web-01") and partial_files(path)  # what a kill leaves
    app = XstuiApp(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        plan = await until(
            pilot, lambda: isinstance(app.screen, PlanModal) and app.screen, what="the offer"
        )
        text = " ".join([plan.plan.title, plan.plan.summary, *plan.plan.steps, *plan.plan.xe])
        assert "Back up web-01" in text and "web-01 backup" in text
        assert str(partial_files(path)[0]) in text
        await confirm_plan(pilot)
        await until(pilot, lambda: not snapshots_of(store, "web-01"), what="the snapshot gone")
        await until(pilot, lambda: not partial_files(path), what="the partial file gone")
        await until(pilot, lambda: not list(inflight.folder().glob("*.json")), what="journal gone")
    assert set(store.table("VDI")) == vdis_before  # its disks went too, nothing else
