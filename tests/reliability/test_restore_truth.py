"""Reliability (issue #28, item 1): the connection breaks after the last
byte of a database restore (XAPI restarts its toolstack at once, so this is
likely), once after the host took the file and once before it acted. The
console reads the pool back and says what is true: replaced, or not; never
"nothing had been changed" over a replaced database."""

from __future__ import annotations

import pytest

from tests.waiting import wait_for
from xstui.services import backup as bk
from xstui.services.actions import ActionFailed, RunContext


def vm_names(conn) -> set[str]:
    with conn.cache.lock:
        return {v.name_label for v in conn.cache.table("vm").values()}


@pytest.mark.parametrize("when", ["after", "before"])
def test_a_restore_cut_at_its_last_byte_says_what_the_pool_holds(
    running_sim, connection, xapi, tmp_path, when
):
    conn = connection
    conn.start_events()
    wait_for(lambda: conn.cache.table("vdi"))
    path = tmp_path / "pool.db"
    bk.DumpDatabase(conn.cache, str(path)).execute(RunContext(conn))
    x = xapi.xenapi
    x.VM.set_name_label(x.VM.get_by_name_label("sandbox")[0], "sandbox-2")
    wait_for(lambda: "sandbox-2" in vm_names(conn), what="the rename seen")
    changes = bk.compare(bk.summarize(path), bk.pooldb.current(conn.cache))
    action = bk.RestoreDatabase(conn.cache, path, changes)
    action.CALM_SECONDS = 3  # the connection holds when the host did not act: read sooner
    running_sim.sim.inject_drop("PUT /pool/xmldbdump", when)
    store = running_sim.sim.store

    def replaced() -> bool:
        with store.lock:
            return store.find_one("VM", name_label="sandbox") is not None

    if when == "after":
        outcome = action.execute(RunContext(conn))
        assert replaced(), "the simulator did not restore"
        assert "read back from the pool" in outcome, outcome
        assert "the database was replaced" in outcome, outcome
    else:
        with pytest.raises(ActionFailed) as failed:
            action.execute(RunContext(conn))
        report = failed.value.undo_report()
        assert not replaced()
        assert "the database was not replaced" in report, report
        assert "Nothing had been changed" not in report
