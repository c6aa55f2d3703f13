"""The same fact reads the same in every area (issue 27, item 3): an alert's
severity, a certificate's days left, whether HA is overcommitted."""

import re

from tests.waiting import wait_for
from xstui import clock
from xstui.areas import health_rules
from xstui.services import ha, logs
from xstui.services.health import collect
from xstui.services.security.certificates import host_certificates
from xstui.services.status import build_status


def _flags(conn, now=None):
    return collect(conn.cache, health_rules(), clock.now() if now is None else now)


def test_an_alert_has_one_severity_in_health_and_logs(connection):
    connection.load_once()
    in_logs = {a.name: a.severity for a in logs.alerts(connection.cache)}
    in_health = {f.text.split(":")[0]: f.severity for f in _flags(connection) if f.area == "alerts"}
    assert {"HOST_CLOCK_SKEW_DETECTED", "SR_LARGE_FREE_SPACE_LOW"} <= in_health.keys()
    for name, severity in in_health.items():
        assert in_logs[name] == severity, name


def test_days_left_of_a_certificate_read_the_same_in_health_and_security(connection):
    connection.load_once()
    now = clock.now()
    left = {r.name: r.days_left for r in host_certificates(connection.cache, now)}
    said = [
        re.match(r"Certificate of (\S+) expires in (\d+) days", f.text)
        for f in _flags(connection, now)
    ]
    said = {m[1]: int(m[2]) for m in said if m}
    assert said.keys() == {"xcp-b"}
    assert said["xcp-b"] == left["xcp-b"]


def _overcommitted_in_health(conn) -> bool:
    return any("overcommitted" in f.text.lower() for f in _flags(conn))


def test_health_says_overcommitted_only_when_the_ha_area_does(connection, running_sim):
    connection.start_events()
    wait_for(lambda: connection.cache.table("message"))
    # HA off, an old HA_POOL_OVERCOMMITTED message in the log: F3 shows no plan problem
    assert not ha.ha_status(connection.cache).overcommitted
    assert not _overcommitted_in_health(connection)
    # XAPI's flag left set while the plan covers what the pool must tolerate
    st, pool = running_sim.sim.store, running_sim.sim.pool
    st.set(
        "pool",
        pool,
        ha_enabled=True,
        ha_host_failures_to_tolerate=1,
        ha_plan_exists_for=1,
        ha_overcommitted=True,
    )
    wait_for(lambda: ha.ha_status(connection.cache).enabled, what="HA on in the cache")
    status = ha.ha_status(connection.cache)
    assert (status.tolerate, status.plan_for, status.overcommitted) == (1, 1, False)
    assert not _overcommitted_in_health(connection)
    summary = build_status(connection.cache, connection.this_host).pool
    assert not summary.ha_overcommitted
    # the plan falls short: every area says so
    st.set("pool", pool, ha_plan_exists_for=0)
    wait_for(lambda: ha.ha_status(connection.cache).plan_for == 0, what="the plan in the cache")
    assert ha.ha_status(connection.cache).overcommitted
    assert _overcommitted_in_health(connection)
    assert build_status(connection.cache, connection.this_host).pool.ha_overcommitted
