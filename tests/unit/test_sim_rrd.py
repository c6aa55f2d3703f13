"""The simulator's performance data over real HTTP, as xcp-rrdd serves it:
``GET /rrd_updates`` (xport XML, XAPI's JSON), ``/host_rrd``, ``/vm_rrd``,
archives and consolidation functions, figures that follow the scenario's load
and the pool's state, ``*.query_data_source`` / ``get_data_sources`` with
XAPI's errors, and the injected faults the console must survive."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from xstui import clock
from xstui.datamodel import http_permission, least_role
from xstui.sim import rrd

# the simulator's metrics clock, pinned (figures that never move), after the
# demo's VMs started (the scenario dates them from the clock as it is built)
NOW = int(clock.now()) // 5 * 5


@pytest.fixture
def sim(running_sim):
    running_sim.sim.clock = lambda: NOW + 2.5
    return running_sim


def get(running, path: str, session: str, host_url: str | None = None) -> bytes:
    sep = "&" if "?" in path else "?"
    url = f"{host_url or running.url}{path}{sep}session_id={session}"
    with urllib.request.urlopen(url, timeout=30) as reply:
        return reply.read()


def vm_uuid(xapi, name: str) -> str:
    return xapi.xenapi.VM.get_uuid(xapi.xenapi.VM.get_by_name_label(name)[0])


def xport(body: bytes) -> tuple[dict, list[str], list[tuple[int, list[str]]]]:
    root = ET.fromstring(body)
    meta = {e.tag: e.text for e in root.find("meta") if e.tag != "legend"}
    legend = [e.text for e in root.find("meta/legend")]
    rows = [(int(r.find("t").text), [v.text for v in r.findall("v")]) for r in root.find("data")]
    return meta, legend, rows


def test_rrd_updates_xml_is_an_xport_of_the_host_and_its_running_vms(sim, xapi):
    sid = xapi._session
    body = get(sim, f"/rrd_updates?start={NOW - 595}&host=true", sid)
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><xport><meta><start>')
    meta, legend, rows = xport(body)
    assert meta["step"] == "5" and int(meta["rows"]) == len(rows) == 120
    assert int(meta["columns"]) == len(legend) and all(len(v) == len(legend) for _, v in rows)
    assert [t for t, _ in rows] == sorted((t for t, _ in rows), reverse=True)  # newest first
    assert int(meta["end"]) == rows[0][0] == NOW // 5 * 5
    master = xapi.xenapi.host.get_uuid(xapi.xenapi.session.get_this_host(sid))
    for name in ("cpu0", "cpu_avg", "loadavg", "memory_total_kib", "memory_free_kib"):
        assert f"AVERAGE:host:{master}:{name}" in legend
    assert f"AVERAGE:host:{master}:pif_eth0_rx" in legend
    assert any(e.startswith(f"AVERAGE:host:{master}:io_throughput_total_") for e in legend)
    sql = vm_uuid(xapi, "sql-prod-01")  # on xcp-a, running
    for name in ("cpu0", "cpu7", "memory", "memory_internal_free", "vif_0_rx", "vbd_xvda_write"):
        assert f"AVERAGE:vm:{sql}:{name}" in legend
    assert not any(vm_uuid(xapi, "dc-02") in e for e in legend)  # runs on xcp-b
    assert not any(vm_uuid(xapi, "test-win2022") in e for e in legend)  # halted: no RRD
    cpu = legend.index(f"AVERAGE:vm:{sql}:cpu0")
    assert all(0.5 < float(v[cpu]) <= 1 for _, v in rows)  # a busy VM


def test_json_is_xapis_with_every_number_a_string(sim, xapi):
    doc = json.loads(get(sim, f"/rrd_updates?start={NOW - 60}&host=true&json=true", xapi._session))
    meta = doc["meta"]
    assert set(meta) == {"start", "step", "end", "rows", "columns", "legend"}
    assert meta["step"] == "5" and meta["rows"] == str(len(doc["data"])) == "13"
    row = doc["data"][0]
    assert isinstance(row["t"], str) and all(isinstance(v, str) for v in row["values"])
    assert len(row["values"]) == int(meta["columns"]) == len(meta["legend"])


def test_incremental_start_cf_interval_and_vm_filter(sim, xapi):
    sid = xapi._session
    meta, _legend, rows = xport(get(sim, f"/rrd_updates?start={NOW // 5 * 5}&host=true", sid))
    assert len(rows) == 1  # start= the last end: only that row again
    meta, legend, rows = xport(get(sim, f"/rrd_updates?start={NOW - 3600}&cf=MAX&interval=60", sid))
    assert meta["step"] == "60" and len(rows) in (60, 61)  # NOW is not on a minute
    assert legend and all(e.startswith("MAX:vm:") for e in legend)  # no host=true
    meta, legend, _ = xport(get(sim, f"/rrd_updates?start={NOW - 86400 * 3}&host=true", sid))
    assert meta["step"] == "3600"  # beyond 2 h: the hourly archive, AVERAGE MIN MAX
    assert {e.split(":")[0] for e in legend} == {"AVERAGE", "MIN", "MAX"}
    sql = vm_uuid(xapi, "sql-prod-01")
    _, legend, _ = xport(get(sim, f"/rrd_updates?start={NOW - 60}&vm_uuid={sql}", sid))
    assert legend and all(f"vm:{sql}:" in e for e in legend)
    _, legend, _ = xport(get(sim, "/rrd_updates?start=-60&host=true&vm_uuid=none", sid))
    assert legend and all(":host:" in e for e in legend)  # negative start: relative
    with pytest.raises(urllib.error.HTTPError) as err:
        get(sim, "/rrd_updates?start=yesterday", sid)
    assert err.value.code == 400


def test_the_same_clock_gives_the_same_figures_and_minmax_bracket_the_average(sim, xapi):
    sid = xapi._session
    one = get(sim, f"/rrd_updates?start={NOW - 7200}&interval=60&host=true", sid)
    assert get(sim, f"/rrd_updates?start={NOW - 7200}&interval=60&host=true", sid) == one
    _, legend, rows = xport(one)
    for _, values in rows:
        named = dict(zip(legend, values, strict=True))
        for entry, value in named.items():
            if entry.startswith("AVERAGE:") and value != "NaN":
                low, high = named["MIN" + entry[7:]], named["MAX" + entry[7:]]
                assert float(low) <= float(value) <= float(high), entry


def test_members_serve_their_own_rrds_and_a_started_vm_appears_on_its_host(sim, xapi):
    sid = xapi._session
    x = xapi.xenapi
    host_b = x.host.get_by_name_label("xcp-b")[0]
    b_url = sim.url.replace("127.10.0.11", x.host.get_address(host_b))
    _, legend, _ = xport(get(sim, f"/rrd_updates?start={NOW - 60}&host=true", sid, b_url))
    assert f"AVERAGE:host:{x.host.get_uuid(host_b)}:cpu_avg" in legend
    assert any(vm_uuid(xapi, "dc-02") in e for e in legend)
    erp = x.VM.get_by_name_label("legacy-erp")[0]
    started_at = clock.now()  # VM_metrics.start_time: the console's and simulator's clock
    x.VM.start_on(erp, host_b, False, False)
    sim.sim.clock = lambda: started_at + 300  # five minutes on
    _, legend, rows = xport(get(sim, f"/rrd_updates?start={int(started_at) - 200}", sid, b_url))
    column = legend.index(f"AVERAGE:vm:{x.VM.get_uuid(erp)}:cpu0")
    started = [t for t, v in rows if v[column] != "NaN"]
    assert started and all(v[column] == "NaN" for t, v in rows if t < min(started))
    assert x.VM.query_data_source(erp, "cpu0") >= 0


def test_full_rrds_have_the_four_timescales(sim, xapi):
    sid = xapi._session
    root = ET.fromstring(get(sim, "/host_rrd", sid))
    assert root.find("step").text == "5" and root.find("lastupdate").text == str(NOW // 5 * 5)
    shape = [
        (r.find("cf").text, r.find("pdp_per_row").text, len(r.find("database")))
        for r in root.findall("rra")
    ]
    assert shape == [("AVERAGE", "1", 120)] + [
        (cf, pdp, rows)
        for pdp, rows in (("12", 120), ("720", 168), ("17280", 366))
        for cf in ("AVERAGE", "MIN", "MAX")
    ]
    names = [d.find("name").text for d in root.findall("ds")]
    assert "memory_free_kib" in names and "pif_aggr_rx" in names
    sql = vm_uuid(xapi, "sql-prod-01")
    vm = ET.fromstring(get(sim, f"/vm_rrd?uuid={sql}", sid))
    assert [d.find("name").text for d in vm.findall("ds")][:2] == ["cpu0", "cpu1"]
    with pytest.raises(urllib.error.HTTPError):  # halted: no RRD anywhere
        get(sim, f"/vm_rrd?uuid={vm_uuid(xapi, 'legacy-erp')}", sid)


def test_query_and_list_data_sources_with_xapis_errors_and_roles(sim, xapi):
    x = xapi.xenapi
    host = x.host.get_by_name_label("xcp-c")[0]
    total = x.host.query_data_source(host, "memory_total_kib")
    free = x.host.query_data_source(host, "memory_free_kib")
    assert total == 192 * 1024 * 1024 and 0 < free < total * 0.05  # near its limit
    names = {d["name_label"]: d for d in x.host.get_data_sources(host)}
    assert names["cpu_avg"]["units"] == "(fraction)" and names["cpu_avg"]["enabled"]
    sql = x.VM.get_by_name_label("sql-prod-01")[0]
    assert {"cpu0", "memory", "vbd_xvda_read"} <= {
        d["name_label"] for d in x.VM.get_data_sources(sql)
    }
    with pytest.raises(Exception, match="Invalid_data_source"):
        x.host.query_data_source(host, "no_such_source")
    halted = x.VM.get_by_name_label("legacy-erp")[0]
    with pytest.raises(Exception, match="VM_BAD_POWER_STATE"):
        x.VM.query_data_source(halted, "cpu0")
    for call in ("host.query_data_source", "VM.query_data_source", "VM.get_data_sources"):
        assert least_role(call) == "read-only"
    assert least_role(http_permission("GET", "/rrd_updates")) == "read-only"
    with pytest.raises(urllib.error.HTTPError) as err:
        get(sim, f"/rrd_updates?start={NOW}", "OpaqueRef:not-a-session")
    assert err.value.code == 403


def test_injected_faults_answer_for_one_host_only(sim, xapi):
    sid = xapi._session
    x = xapi.xenapi
    master = x.session.get_this_host(sid)
    sim.sim.metrics_faults[master] = ("fail", 0)
    with pytest.raises(urllib.error.HTTPError) as err:
        get(sim, f"/rrd_updates?start={NOW - 60}&host=true", sid)
    assert err.value.code == 500
    sim.sim.metrics_faults[master] = ("garbage", 0)
    with pytest.raises(ET.ParseError):
        ET.fromstring(get(sim, f"/rrd_updates?start={NOW - 60}&host=true", sid))
    host_b = x.host.get_by_name_label("xcp-b")[0]
    b_url = sim.url.replace("127.10.0.11", x.host.get_address(host_b))
    assert xport(get(sim, f"/rrd_updates?start={NOW - 60}&host=true", sid, b_url))[1]


def test_float_printing_is_rrds():
    assert [rrd.f_to_s(v) for v in (0.0, math.nan, math.inf, 0.123456, 1.5e9)] == [
        "0.0",
        "NaN",
        "Infinity",
        "0.12346",
        "1.5e+09",
    ]


def test_sim_ctl_breaks_and_mends_a_hosts_metrics(sim):
    from xstui.sim.control import perform

    host = sim.sim.store.find_one("host", name_label="xcp-b")
    assert "done" in perform(sim.sim, "metrics-slow", "xcp-b")
    assert sim.sim.metrics_faults[host] == ("slow", 10.0)
    assert "done" in perform(sim.sim, "metrics-ok", "xcp-b") and host not in sim.sim.metrics_faults
    assert "no host named" in perform(sim.sim, "metrics-fail", "xcp-z")["error"]
