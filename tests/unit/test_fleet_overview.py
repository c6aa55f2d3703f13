"""The fleet overview's model: light connections to a real simulated fleet,
one row per pool, worst first, the next pool with a finding."""

from tests.conftest import FLEET_PASSWORD as PASSWORD
from tests.waiting import wait_for
from xstui.services.fleet.overview import (
    LIGHT_CLASSES,
    PoolRow,
    cells,
    detail,
    light_types,
    next_problem,
    pool_drift,
    worst_first,
)
from xstui.services.fleet.passwords import Passwords
from xstui.services.fleet.watch import FleetWatch
from xstui.services.health import HealthFlag
from xstui.services.updates.baseline import parse
from xstui.xapi.cache import Cache


def settled(watch: FleetWatch) -> bool:
    return all(r.state not in ("connecting",) for r in watch.rows.values()) and all(
        r.hosts_total or r.state != "connected" for r in watch.rows.values()
    )


def test_one_row_per_pool_worst_first(fleet, monkeypatch):
    monkeypatch.setenv("XSTUI_PASSWORD", PASSWORD)
    watch = FleetWatch(fleet.fleet(), Passwords(interactive=False), timeout=1)
    watch.start()
    try:
        wait_for(lambda: settled(watch), what="every pool answered or not")
        rows = watch.worst_first()
        assert [r.name for r in rows] == [
            "fleet-05",
            "fleet-02",
            "fleet-03",
            "fleet-04",
            "fleet-01",
        ]
        silent, ha, cert, updates, healthy = rows
        # the word `xstui check --fleet` says for the same pool (test_fleet_cli)
        assert silent.state == "timeout" and "tried again in 2 s" in silent.detail
        assert (ha.ha, ha.worst.severity, ha.worst.area) == ("broken", "critical", "ha")
        assert (ha.hosts_up, ha.hosts_total, ha.master) == (1, 1, "fleet-02-h01")
        assert cert.cert_days == 11 and cert.worst.area == "certificates"
        assert updates.worst.text == "Update XS82ECU1002 not applied on any host"
        assert healthy.worst is None and healthy.ha == "off" and healthy.role == "pool-admin"
        assert cells(healthy) == [
            "fleet-01",
            "ok",
            "1/1",
            "fleet-01-h01",
            "off",
            "0/0/0",
            "999d",
            "-",  # no baseline
        ]
        assert detail(cert) == (
            "fleet-03 (sim) as pool-admin: warning: Certificate of fleet-03-h01 expires in 11 days"
        )
        # a pool not in focus is watched for the overview's classes only: no VMs, no disks
        conn = watch.connections["fleet-01"]
        assert conn.event_classes == sorted(LIGHT_CLASSES)
        assert not conn.cache.table("vm")
    finally:
        watch.close()


def test_no_password_is_said_and_not_retried(fleet, monkeypatch):
    monkeypatch.delenv("XSTUI_PASSWORD", raising=False)
    monkeypatch.setenv("XSTUI_PASSWORD_FLEET_01", PASSWORD)
    watch = FleetWatch(fleet.fleet()[:2], Passwords(interactive=False))
    watch.start()
    try:
        wait_for(lambda: settled(watch), what="both pools settled")
        rows = {r.name: r for r in watch.worst_first()}
        assert rows["fleet-02"].state == "no-password"
        assert "XSTUI_PASSWORD_FLEET_02" in rows["fleet-02"].detail
        assert rows["fleet-01"].state == "connected"
        monkeypatch.setenv("XSTUI_PASSWORD_FLEET_02", PASSWORD)
        watch.retry("fleet-02")
        wait_for(lambda: watch.rows["fleet-02"].hosts_total == 1, what="fleet-02 once asked again")
    finally:
        watch.close()


def test_a_refused_password_or_certificate_is_not_retried(fleet, monkeypatch, tmp_path):
    monkeypatch.setenv("XSTUI_PASSWORD", "wrong")
    watch = FleetWatch(fleet.fleet()[:1], Passwords(interactive=False))
    watch.start()
    try:
        wait_for(lambda: watch.rows["fleet-01"].state == "login-failed", what="refused")
        assert watch.rows["fleet-01"].rank == 0 and "fleet-01" not in watch.connections
    finally:
        watch.close()


def test_drift_against_a_baseline_from_the_light_cache(fleet, monkeypatch):
    """The pool behind on updates drifts from a baseline of what the others
    applied; a baseline requiring the newer update finds every pool out of it;
    one naming another pool's hosts cannot be used here, and says why."""
    monkeypatch.setenv("XSTUI_PASSWORD", PASSWORD)
    pools = [p for p in fleet.fleet() if p.name in ("fleet-01", "fleet-04")]

    def rows_against(text):
        baseline = parse(text, "base.yaml")
        watch = FleetWatch(pools, Passwords(interactive=False), baseline=baseline)
        watch.start()
        try:
            wait_for(lambda: settled(watch), what="both pools answered")
            return {r.name: r for r in watch.worst_first()}
        finally:
            watch.close()

    # fleet-04 knows XS82ECU1002 but applied it nowhere: nothing unexpected applied
    rows = rows_against("require: [XS82ECU1001]\nallow: []\n")
    assert (rows["fleet-01"].drift, rows["fleet-04"].drift) == (0, 0)
    rows = rows_against("require: [XS82ECU1001, XS82ECU1002]\n")
    behind, healthy = rows["fleet-04"], rows["fleet-01"]
    assert behind.drift == 1 and cells(behind)[-1] == "1"
    assert detail(behind).endswith("; 1 host(s) out of the baseline")
    assert healthy.drift == 1  # it lacks the update too: it has not even been uploaded
    rows = rows_against("hosts:\n  fleet-04-h01:\n    require: [XS82ECU1002]\n")
    assert rows["fleet-04"].drift == 1
    assert rows["fleet-01"].drift is None and cells(rows["fleet-01"])[-1] == "?"
    assert "no host called 'fleet-04-h01'" in rows["fleet-01"].drift_why


def row(name, state="connected", severity=None):
    worst = HealthFlag(severity, "x", "t") if severity else None
    return PoolRow(name, "", "", state, hosts_total=1, worst=worst)


def test_worst_first_and_the_next_problem():
    rows = worst_first(
        [
            row("a"),
            row("b", severity="info"),
            row("c", severity="warning"),
            row("d", state="unreachable"),
            row("e", severity="critical"),
            row("f", state="connecting"),
        ]
    )
    assert [r.name for r in rows] == ["d", "e", "c", "b", "a", "f"]
    # a pool that does not answer is passed over: it cannot be opened
    assert next_problem(rows, None).name == "e"
    assert next_problem(rows, "d").name == "e"
    assert next_problem(rows, "e").name == "c"
    assert next_problem(rows, "c").name == "e"  # round again
    assert next_problem(rows, "a").name == "e"
    assert next_problem([row("a"), row("b", severity="info")], "a") is None


def light_cache(**tables) -> Cache:
    cache = Cache(light_types())
    cache.replace(
        [
            {"class": cls, "ref": ref, "operation": "add", "snapshot": rec}
            for cls, table in tables.items()
            for ref, rec in table.items()
        ]
    )
    return cache


def test_drift_is_not_guessed_where_the_light_cache_cannot_tell():
    """XenServer 8's repositories and XCP-ng's yum list what a host lacks
    only when asked: '?' and why, not a count; 7.x's pool_update counts."""
    baseline = parse("require: [U1]\n", "base.yaml")
    host = {"h": {"name_label": "h1", "updates": []}}
    update = {"u": {"name_label": "U1", "hosts": []}}
    repos = {"p": {"name_label": "P", "master": "h", "repositories": ["OpaqueRef:r"]}}
    plain = {"p": {"name_label": "P", "master": "h"}}
    drift, why = pool_drift(baseline, light_cache(pool=repos, host=host, pool_update=update))
    assert drift is None and "check --baseline" in why
    drift, why = pool_drift(baseline, light_cache(pool=plain, host=host))  # XCP-ng: yum
    assert drift is None and "check --baseline" in why
    assert pool_drift(baseline, light_cache(pool=plain, host=host, pool_update=update)) == (1, "")


def test_a_pools_state_is_said_once_in_its_detail():
    """A trial: "127.0.0.1: no password: no password: set XSTUI_PASSWORD...";
    a detail that begins with the state says it once."""
    from xstui.services.fleet.overview import detail, waiting_row
    from xstui.services.fleet.targets import FleetTarget

    pool = FleetTarget("lab", "https://127.0.0.1")
    why = "no password: set XSTUI_PASSWORD_LAB or XSTUI_PASSWORD, or give a password command"
    assert detail(waiting_row(pool, "no-password", why)) == f"lab: {why}"
    refused = waiting_row(pool, "refused", "connection refused")
    assert detail(refused) == "lab: refused: connection refused"


def test_f11_with_no_other_finding_counts_the_pools_that_do_not_answer():
    """A trial: F11 said "No other pool has a problem" while the overview's
    title said "3 with a problem" (pools that do not answer)."""
    from xstui.services.fleet.overview import no_next_problem, summary, waiting_row
    from xstui.services.fleet.targets import FleetTarget

    rows = [
        waiting_row(FleetTarget(n, f"https://127.0.0.{i}"), state)
        for i, (n, state) in enumerate(
            [("a", "unreachable"), ("b", "no-password"), ("c", "connecting")], 1
        )
    ]
    # trial s12 item 5: the title said "2 with a problem", n "No pool has a problem", F11
    # "2 do not answer" of pools the table said no-password: one count, said once
    assert summary(rows) == ("none with a finding, 2 not asked, 1 still connecting")
    assert no_next_problem(rows) == (
        f"No other pool has a finding ({summary(rows)}); not asked: no answer, no password or "
        "refused (F12 says which, r asks again)."
    )
    assert (
        no_next_problem(rows[2:])
        == "No other pool has a finding (none with a finding, 1 still connecting)."
    )
