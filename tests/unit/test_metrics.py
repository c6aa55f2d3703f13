"""Live figures from XAPI's RRDs: the rrd_updates reader against documents
in XAPI's formats (xport XML, JSON with strings, the older bare JSON, NaN,
gaps, a data source appearing mid-stream), and the service against the
simulator over real HTTP: one request per host per refresh, incremental,
figures that follow VMs to their host, and hosts whose endpoint fails,
answers garbage or is slow having "no data" with the reason while the
others keep working."""

from __future__ import annotations

import math
import time

import pytest

from tests.waiting import wait_for
from xstui.services.metrics import Metrics, Unreadable, http_fetch, parse
from xstui.services.metrics.model import _Feed, _merge, host_figures, vm_figures

XPORT = (
    b'<?xml version="1.0" encoding="UTF-8"?><xport><meta><start>1000</start><step>5</step>'
    b"<end>1010</end><rows>3</rows><columns>2</columns><legend>"
    b"<entry>AVERAGE:host:h-1:cpu_avg</entry><entry>AVERAGE:vm:v-1:cpu0</entry></legend>"
    b"</meta><data><row><t>1010</t><v>0.5</v><v>NaN</v></row>"
    b"<row><t>1005</t><v>0.25</v><v>0.75</v></row>"
    b"<row><t>1000</t><v>0.0</v><v>1.0</v></row></data></xport>"
)


def test_xport_xml_with_nan_is_read_as_a_gap():
    u = parse(XPORT)
    assert (u.start, u.step, u.end) == (1000, 5, 1010)
    assert u.legend == ("AVERAGE:host:h-1:cpu_avg", "AVERAGE:vm:v-1:cpu0")
    assert u.rows[1] == (1005, (0.25, 0.75))
    assert math.isnan(u.rows[0][1][1])
    feed = _Feed()
    _merge(feed, u)
    figures = vm_figures(feed.series[("vm", "v-1")])
    assert figures.cpu == 0.75  # the newest known value: NaN is no figure
    assert math.isnan(figures.history["cpu"][-1]) and figures.history["cpu"][:2] == [1.0, 0.75]


def test_json_as_xapi_sends_it_and_as_older_xapis_did():
    modern = (
        b'{"meta":{"start":"1000","step":"5","end":"1005","rows":"2","columns":"1",'
        b'"legend":["AVERAGE:host:h-1:cpu_avg"]},"data":[{"t":"1005","values":["NaN"]},'
        b'{"t":"1000","values":["0.125"]}]}'
    )
    u = parse(modern)
    assert u.rows[1] == (1000, (0.125,)) and math.isnan(u.rows[0][1][0])
    older = (
        b"{meta: {start: 1000, step: 5, end: 1005, rows: 1, columns: 1,"
        b' legend: ["AVERAGE:host:h-1:cpu_avg"]}, data: [{t: 1005, values: [0.5]}]}'
    )
    assert parse(older).rows == ((1005, (0.5,)),)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "neither XML nor JSON"),
        (b"<html><body>proxy error</body></html>", "not an xport"),
        (b"<xport><meta><start>12\x00\xff", "malformed XML"),
        (XPORT.replace(b"<columns>2</columns>", b"<columns>3</columns>"), "3 columns"),
        (XPORT.replace(b"<v>0.25</v>", b""), "a row has 1 values for 2 columns"),
        (XPORT.replace(b"<v>0.25</v>", b"<v>lots</v>"), "a value is not a number"),
        (XPORT.replace(b"<step>5</step>", b"<step>0</step>"), "not positive"),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xport/>', "entities"),
        (b'{"meta": {}}', "not rrd_updates"),
        (b"{nope", "malformed JSON"),
    ],
)
def test_what_is_not_rrd_updates_is_refused_in_words(body, words):
    with pytest.raises(Unreadable, match=words):
        parse(body)


def test_a_data_source_appearing_mid_stream_starts_there():
    feed = _Feed()
    _merge(feed, parse(XPORT))
    later = (
        b'{"meta":{"start":"1010","step":"5","end":"1015","rows":"2","columns":"2",'
        b'"legend":["AVERAGE:host:h-1:cpu_avg","AVERAGE:host:h-1:pif_eth0_rx"]},'
        b'"data":[{"t":"1015","values":["0.5","2048"]},{"t":"1010","values":["0.5","1024"]}]}'
    )
    _merge(feed, parse(later))
    series = feed.series[("host", "h-1")]
    assert sorted(series["cpu_avg"]) == [1000, 1005, 1010, 1015]  # 1010 once
    assert sorted(series["pif_eth0_rx"]) == [1010, 1015]
    figures = host_figures(series)
    assert figures.net == 2048 and math.isnan(figures.history["net"][0])


# against the simulator ---------------------------------------------------------------------
@pytest.fixture
def pool(connection, running_sim):
    connection.load_once()
    return connection, running_sim


def counting(conn, asked: list):
    fetch = http_fetch(conn, timeout=2.0)

    def counted(host, query):
        asked.append((conn.cache.label("host", host), dict(query)))
        return fetch(host, query)

    return counted


def test_one_request_per_host_per_refresh_incremental(pool):
    conn, _running = pool
    asked: list = []
    metrics = Metrics(counting(conn, asked))
    metrics.refresh(conn.cache)
    assert sorted(name for name, _ in asked) == ["xcp-a", "xcp-b", "xcp-c"]
    assert all(q["start"] == "-595" and q["host"] == "true" for _, q in asked)
    first = metrics.bytes_read
    hosts = {r.name: r for r in metrics.hosts(conn.cache)}
    assert all(not r.reason and r.figures.cpu is not None for r in hosts.values())
    c = hosts["xcp-c"].figures
    assert c.memory > 0.95 * c.memory_total  # the demo's host near its memory limit
    assert len(c.history["cpu"]) == 120
    asked.clear()
    metrics.refresh(conn.cache)
    assert len(asked) == 3 and all(q["start"] not in ("-595", "") for _, q in asked)
    assert metrics.bytes_read - first < first / 10  # only the new rows
    vms = metrics.vms(conn.cache, "cpu")
    names = [r.name for r in vms]
    assert "legacy-erp" not in names and "test-debian-12" in names  # halted out, paused in
    cpus = [r.figures.cpu for r in vms]
    assert cpus == sorted(cpus, reverse=True)
    assert {"sql-prod-01", "jenkins"} <= set(names[:3])  # the demo's busy VMs
    top_disk = metrics.vms(conn.cache, "disk")
    assert [r.figures.disk for r in top_disk] == sorted(
        (r.figures.disk for r in top_disk), reverse=True
    )
    sql = next(r for r in vms if r.name == "sql-prod-01")
    assert sql.host == "xcp-a" and sql.figures.memory and sql.figures.net and sql.figures.disk


def test_a_migrated_vm_has_its_figures_from_its_new_host(pool, xapi):
    conn, _running = pool
    conn.start_events()
    metrics = Metrics(http_fetch(conn))
    metrics.refresh(conn.cache)
    assert next(r for r in metrics.vms(conn.cache) if r.name == "web-01").host == "xcp-a"
    x = xapi.xenapi
    vm = x.VM.get_by_name_label("web-01")[0]
    x.VM.pool_migrate(vm, x.host.get_by_name_label("xcp-c")[0], {})
    wait_for(lambda: conn.cache.get("vm", vm).resident_on == x.host.get_by_name_label("xcp-c")[0])
    metrics.refresh(conn.cache)
    row = next(r for r in metrics.vms(conn.cache) if r.name == "web-01")
    assert row.host == "xcp-c" and not row.reason and row.figures.cpu is not None


@pytest.mark.parametrize(
    ("fault", "words"),
    [("fail", "HTTP 500"), ("garbage", "unreadable answer: malformed XML"), ("slow", "timed out")],
)
def test_a_broken_host_has_no_data_with_the_reason_and_the_others_go_on(pool, fault, words):
    conn, running = pool
    b = running.sim.store.find_one("host", name_label="xcp-b")
    running.sim.metrics_faults[b] = (fault, 5.0)
    metrics = Metrics(http_fetch(conn, timeout=2.0), timeout=2.0)
    began = time.monotonic()
    metrics.refresh(conn.cache)
    assert time.monotonic() - began < 4.5  # the slow host (5 s) holds up no one
    hosts = {r.name: r for r in metrics.hosts(conn.cache)}
    assert words in hosts["xcp-b"].reason and hosts["xcp-b"].figures.cpu is None
    assert not hosts["xcp-a"].reason and hosts["xcp-a"].figures.cpu is not None
    vms = {r.name: r for r in metrics.vms(conn.cache)}
    assert vms["jenkins"].reason.startswith("its host: ") and words in vms["jenkins"].reason
    assert vms["sql-prod-01"].figures.cpu is not None
    del running.sim.metrics_faults[b]
    metrics.refresh(conn.cache)
    assert not {r.name: r for r in metrics.hosts(conn.cache)}["xcp-b"].reason  # back


def test_a_vms_and_a_hosts_history_over_three_spans(pool):
    from xstui.services.metrics.model import history

    conn, running = pool
    vm = running.sim.store.find_one("VM", name_label="jenkins")
    rec = running.sim.store.get("VM", vm)
    asked = []
    spans = history(counting(conn, asked), rec["resident_on"], "vm", rec["uuid"])
    assert [label for label, _ in spans] == ["10 min", "2 h", "1 week"]
    assert [q["interval"] for _, q in asked] == ["5", "60", "3600"] and {n for n, _ in asked} == {
        "xcp-b"
    }
    ten, two, week = (f.history["cpu"] for _, f in spans)
    # rows of the span whose time is past its start (one fewer when "now" is mid-row)
    assert len(ten) == 120 and len(two) in (119, 120) and len(week) in (167, 168)
    assert math.isnan(week[0]) and not math.isnan(week[-1])  # it started 3 days ago
    assert spans[0][1].cpu > 0.5  # the demo's busy jenkins
    host = running.sim.store.get("host", rec["resident_on"])
    spans = history(counting(conn, asked), rec["resident_on"], "host", host["uuid"])
    assert asked[-1][1]["host"] == "true" and asked[-1][1]["vm_uuid"] == "none"
    # XAPI prints 5 significant digits (%0.5g): 268435456 KiB comes as 2.6844e+08
    assert (
        spans[1][1].memory_total == pytest.approx(256 * 1024**3, rel=1e-4)
        and len(spans[2][1].history["cpu"]) >= 167
    )


def test_steady_traffic_graphs_show_how_it_moves_and_say_their_scale():
    """Trial s12 item 21: F1 Load, Enter: Network and Disk were solid blocks
    over 10 min, 2 h and a week (steady traffic scaled from nothing)."""
    from xstui.screens.sampling import graphs_text

    from xstui.services.metrics.model import Figures
    from xstui.widgets.sparkline import CONSOLE

    mib = 1 << 20
    steady = [40 * mib + (i % 7) * mib for i in range(120)]
    figures = Figures(0.3, 8 << 30, 16 << 30, steady[-1], steady[-1], lambda: {"net": steady})
    text = graphs_text([("10 min", figures)], CONSOLE)
    (line,) = [x for x in text.splitlines() if "MiB/s" in x and "10 min" in x]
    marks = line.split()[2]
    assert len(set(marks)) > 2, line  # not one glyph all along
    assert line.endswith("40-46 MiB/s")
    assert "Network, now 40 MiB/s (each line its own lowest-highest)" in text
    assert "Memory used, now 8.0 GiB (0-16 GiB)" in text
