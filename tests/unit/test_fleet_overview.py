"""The fleet overview's model: light connections to a real simulated fleet,
one row per pool, worst first, the next pool with a problem."""

import pytest

from tests.waiting import wait_for
from xstui.services.fleet.overview import (
    LIGHT_CLASSES,
    PoolRow,
    cells,
    detail,
    next_problem,
    worst_first,
)
from xstui.services.fleet.passwords import Passwords
from xstui.services.fleet.watch import FleetWatch
from xstui.services.health import HealthFlag
from xstui.sim.fleet import start_fleet

PASSWORD = "Fleet-Pw1"


@pytest.fixture(scope="module")
def fleet():
    running = start_fleet("fleet:5,1,2", password=PASSWORD)
    yield running
    running.close()


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
        assert silent.state == "unreachable" and "tried again in 2 s" in silent.detail
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
            "pool-admin",
        ]
        assert (
            detail(cert)
            == "fleet-03 (sim): warning: Certificate of fleet-03-h01 expires in 11 days"
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
        assert rows["fleet-02"].state == "no password"
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
        wait_for(lambda: watch.rows["fleet-01"].state == "login failed", what="refused")
        assert watch.rows["fleet-01"].rank == 0 and "fleet-01" not in watch.connections
    finally:
        watch.close()


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
