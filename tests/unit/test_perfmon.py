"""Performance alarms (``other_config:perfmon`` as XAPI's perfmon reads it):
read, malformed said as such, thresholds refused in words before any call,
written over real HTTP, and the simulator's perfmon raising an ALARM message
when its load crosses one (once per inhibit period)."""

from __future__ import annotations

import pytest

from xstui import clock
from xstui.services.actions import InvalidInput, RunContext
from xstui.services.metrics import perfmon
from xstui.sim import rrd

CPU_90 = (
    '<config><variable><name value="cpu_usage"/><alarm_trigger_level value="0.9"/>'
    '<alarm_trigger_period value="120"/><alarm_auto_inhibit_period value="600"/>'
    '<alarm_trigger_sense value="high"/></variable>'
    '<variable><name value="fs_usage"/><alarm_trigger_level value="0.8"/></variable></config>'
)


def test_read_and_write_keep_what_is_not_edited():
    config = perfmon.read(CPU_90)
    assert not config.problem
    cpu, fs = config.alarms
    assert (cpu.name, cpu.level, cpu.period, cpu.inhibit) == ("cpu_usage", 0.9, 120, 600)
    assert cpu.extra == {"alarm_trigger_sense": "high"} and (fs.period, fs.inhibit) == (60, 3600)
    assert perfmon.read(perfmon.to_xml(config.alarms)) == config
    assert perfmon.read("") == perfmon.Config()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("<config><variable>", "not XML"),
        ("<perfmon/>", "<perfmon>, not <config>"),
        (
            '<config><variable><name value="cpu_usage"/></variable></config>',
            "level '' is not a number",
        ),
        ('<config><variable><alarm_trigger_level value="1"/></variable></config>', "has no name"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><config/>', "entities"),
    ],
)
def test_a_malformed_configuration_is_said_as_such(text, words):
    config = perfmon.read(text)
    assert config.alarms == () and words in config.problem


def values(**typed) -> dict:
    return {
        "cpu_usage": "",
        "network_usage": "",
        "disk_usage": "",
        "period": "1",
        "inhibit": "60",
        **typed,
    }


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ({"cpu_usage": "120"}, "CPU usage above (%): at most 100"),
        ({"cpu_usage": "-5"}, "must be above 0"),
        ({"network_usage": "lots"}, "'lots' is not a number"),
        ({"disk_usage": "nan"}, "must be above 0"),
        ({"period": "0"}, "Period: whole minutes from 1"),
        ({"inhibit": "1.5"}, "Quiet time: whole minutes from 0"),
        ({"period": "99999"}, "(a week)"),
    ],
)
def test_invalid_thresholds_are_refused_in_words(typed, words):
    with pytest.raises(InvalidInput) as refused:
        perfmon.SetVmAlarms("OpaqueRef:vm", "u", "web-01", perfmon.Config(), values(**typed))
    assert any(words in p for p in refused.value.problems)


def test_the_form_starts_from_what_is_set_and_the_plan_says_it():
    current = perfmon.read(CPU_90)
    fields = {f.name: f.value for f in perfmon.SetVmAlarms.fields(current)}
    assert fields == {
        "cpu_usage": "90",
        "network_usage": "",
        "disk_usage": "",
        "period": "2",
        "inhibit": "10",
    }
    action = perfmon.SetVmAlarms("OpaqueRef:vm", "u", "web-01", current, values(disk_usage="2.5"))
    kept = perfmon.read(action.xml)
    assert [a.name for a in kept.alarms] == ["fs_usage", "disk_usage"]  # CPU emptied: gone
    assert kept.alarms[1].level == 2.5 * 2**20  # typed in MiB/s as the console shows it
    plan = action.plan()
    assert "Alarm: Disk above 2.5 MiB/s for 1 min, then quiet 60 min" in plan.impact
    # the xe equivalent carries XAPI's own value: bytes per second
    assert '<alarm_trigger_level value="2621440" />' in plan.xe[1]
    fields = {f.name: f.value for f in perfmon.SetVmAlarms.fields(kept)}
    assert fields["disk_usage"] == "2.5"
    broken = perfmon.read("<config>")
    plan = perfmon.SetVmAlarms("OpaqueRef:vm", "u", "web-01", broken, values(cpu_usage="80")).plan()
    assert any("could not read" in line for line in plan.impact)
    cleared = perfmon.SetVmAlarms("OpaqueRef:vm", "u", "web-01", perfmon.Config(), values())
    assert cleared.xml == "" and "No alarm" in cleared.plan().impact[0]


def test_an_alarm_set_over_http_fires_in_the_simulator_once_per_inhibit_period(
    connection, running_sim, xapi
):
    sim = running_sim.sim
    sim.perfmon_stop.set()  # the looks are made by the test, at a pinned time
    at = clock.now()
    sim.clock = lambda: at
    connection.load_once()
    x = xapi.xenapi
    sql = x.VM.get_by_name_label("sql-prod-01")[0]  # busy: ~70 % CPU
    web = x.VM.get_by_name_label("web-01")[0]  # ~10 %
    for vm, level in ((sql, "50"), (web, "50")):
        action = perfmon.SetVmAlarms(
            vm,
            x.VM.get_uuid(vm),
            x.VM.get_name_label(vm),
            perfmon.Config(),
            values(cpu_usage=level),
        )
        action.execute(RunContext(connection))
        assert perfmon.read(x.VM.get_other_config(vm)["perfmon"]).alarms[0].level == 0.5
    made = rrd.perfmon_round(sim)
    assert len(made) == 1
    message = sim.store.get("message", made[0])
    assert (message["name"], message["cls"], message["obj_uuid"]) == (
        "ALARM",
        "VM",
        x.VM.get_uuid(sql),
    )
    assert (
        message["body"].startswith("value: 0.") and '<name value="cpu_usage"/>' in message["body"]
    )
    assert rrd.perfmon_round(sim) == []  # within its hour of quiet
    sim.clock = lambda: at + 3600
    assert len(rrd.perfmon_round(sim)) == 1
    x.VM.remove_from_other_config(web, "perfmon")  # a malformed configuration: ignored
    x.VM.add_to_other_config(web, "perfmon", "<config><variable>")
    sim.clock = lambda: at + 7200
    assert [sim.store.get("message", m)["obj_uuid"] for m in rrd.perfmon_round(sim)] == [
        x.VM.get_uuid(sql)
    ]


def host_values(**typed) -> dict:
    return {
        "cpu_usage": "",
        "network_usage": "",
        "memory_free_kib": "",
        "period": "1",
        "inhibit": "60",
        **typed,
    }


def test_a_hosts_alarms_share_the_vms_checks_and_say_free_memory_below():
    with pytest.raises(InvalidInput) as refused:
        perfmon.SetHostAlarms(
            "OpaqueRef:h", "u", "xcp-a", perfmon.Config(), host_values(memory_free_kib="-1")
        )
    assert refused.value.problems == [
        "Free memory below (MiB): the level must be above 0 (leave it empty for none)"
    ]
    action = perfmon.SetHostAlarms(
        "OpaqueRef:h",
        "hu",
        "xcp-a",
        perfmon.Config(),
        host_values(memory_free_kib="512", network_usage="40"),
    )
    levels = {a.name: a.level for a in perfmon.read(action.xml).alarms}
    assert levels == {"network_usage": 40 * 2**20, "memory_free_kib": 512 * 1024}
    # the per-host storage I/O variable is perfmon's on an SR, not on a host
    assert "sr_io_throughput_total_per_host" not in {v.name for v in perfmon.HOST_VARIABLES}
    plan = action.plan()
    assert "Alarm: Free memory below 512 MiB for 1 min, then quiet 60 min" in plan.impact
    assert plan.xe[0].startswith("xe host-param-remove uuid=hu param-name=other-config")
    assert plan.steps[-1] == "host.add_to_other_config('perfmon', <config>)"
    fields = {f.name: f.value for f in perfmon.SetHostAlarms.fields(perfmon.read(action.xml))}
    assert fields["memory_free_kib"] == "512" and fields["cpu_usage"] == ""


def test_host_alarms_set_over_http_fire_in_the_simulator(connection, running_sim, xapi):
    sim = running_sim.sim
    sim.perfmon_stop.set()
    at = clock.now()
    sim.clock = lambda: at
    connection.load_once()
    x = xapi.xenapi
    full = x.host.get_by_name_label("xcp-c")[0]  # near its memory limit
    other = x.host.get_by_name_label("xcp-a")[0]
    for host, typed in (
        (full, host_values(memory_free_kib="8192")),  # ~5.6 GiB free: below 8 GiB
        (other, host_values(cpu_usage="99", network_usage="100000")),
    ):
        action = perfmon.SetHostAlarms(
            host, x.host.get_uuid(host), x.host.get_name_label(host), perfmon.Config(), typed
        )
        action.execute(RunContext(connection))
    made = [sim.store.get("message", m) for m in rrd.perfmon_round(sim)]
    assert [(m["cls"], m["obj_uuid"]) for m in made] == [("Host", x.host.get_uuid(full))]
    assert '<name value="memory_free_kib"/>' in made[0]["body"]
    # a host's network_usage sums its pif_ethN_rx/tx (perfmon's default): a low level fires
    x.host.remove_from_other_config(other, "perfmon")
    action = perfmon.SetHostAlarms(
        other,
        x.host.get_uuid(other),
        "xcp-a",
        perfmon.read(""),
        host_values(network_usage="0.000001"),
    )
    action.execute(RunContext(connection))
    made = [sim.store.get("message", m) for m in rrd.perfmon_round(sim)]
    assert [m["obj_uuid"] for m in made] == [x.host.get_uuid(other)]
    assert '<name value="network_usage"/>' in made[0]["body"]


def sr_values(**typed) -> dict:
    return {
        "physical_utilisation": "",
        "sr_io_throughput_total_per_host": "",
        "period": "1",
        "inhibit": "60",
        **typed,
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('<config><variable><name value="physical_utilisation"/>', "not XML"),
        (
            '<config><variable><name value="physical_utilisation"/>'
            '<alarm_trigger_level value="eighty"/></variable></config>',
            "physical_utilisation's level 'eighty' is not a number",
        ),
        ("<variable/>", "<variable>, not <config>"),
    ],
)
def test_an_srs_malformed_configuration_is_said_and_its_form_starts_empty(text, words):
    config = perfmon.read(text)
    assert config.alarms == () and words in config.problem
    assert words in perfmon.form_title("NFS VM store", config)
    fields = {f.name: f.value for f in perfmon.SetSrAlarms.fields(config)}
    assert fields == sr_values()


def test_an_srs_alarms_are_checked_in_words_and_written_as_perfmon_reads_them():
    with pytest.raises(InvalidInput) as refused:
        perfmon.SetSrAlarms(
            "OpaqueRef:sr",
            "su",
            "NFS",
            perfmon.Config(),
            sr_values(physical_utilisation="150", sr_io_throughput_total_per_host="fast"),
        )
    assert refused.value.problems == [
        "Space used above (%): at most 100",
        "I/O on each host above (MiB/s): 'fast' is not a number",
    ]
    kept = perfmon.read(
        '<config><variable><name value="physical_utilisation"/>'
        '<alarm_trigger_level value="0.9"/><alarm_priority value="2"/></variable></config>'
    )
    action = perfmon.SetSrAlarms(
        "OpaqueRef:sr",
        "su",
        "NFS",
        kept,
        sr_values(physical_utilisation="80", sr_io_throughput_total_per_host="40"),
    )
    alarms = {a.name: a for a in perfmon.read(action.xml).alarms}
    assert alarms["physical_utilisation"].level == 0.8
    assert alarms["physical_utilisation"].extra == {"alarm_priority": "2"}  # kept as read
    assert alarms["sr_io_throughput_total_per_host"].level == 40
    plan = action.plan()
    assert plan.xe[0] == "xe sr-param-remove uuid=su param-name=other-config param-key=perfmon"
    assert plan.steps == [
        "SR.remove_from_other_config('perfmon')",
        "SR.add_to_other_config('perfmon', <config>)",
    ]
    assert "Alarm: Space used above 80 % for 1 min, then quiet 60 min" in plan.impact


def test_sr_alarms_set_over_http_fire_on_the_sr_and_on_each_of_its_hosts(
    connection, running_sim, xapi
):
    sim = running_sim.sim
    sim.perfmon_stop.set()
    at = clock.now()
    sim.clock = lambda: at
    connection.load_once()
    x = xapi.xenapi
    nfs = x.SR.get_by_name_label("NFS VM store")[0]  # 3.3 of 8 TiB used: 41 %
    uuid = x.SR.get_uuid(nfs)

    def set_sr(**typed):
        current = perfmon.read(x.SR.get_other_config(nfs).get("perfmon", ""))
        action = perfmon.SetSrAlarms(nfs, uuid, "NFS VM store", current, sr_values(**typed))
        action.execute(RunContext(connection))

    set_sr(physical_utilisation="50", sr_io_throughput_total_per_host="100000")
    assert rrd.perfmon_round(sim) == []  # 41 % is below 50 %; no host does 100000 MiB/s
    set_sr(physical_utilisation="40")
    made = [sim.store.get("message", m) for m in rrd.perfmon_round(sim)]
    assert [(m["cls"], m["obj_uuid"]) for m in made] == [("SR", uuid)]
    assert made[0]["body"].startswith("value: 0.41")
    # the per-host variable: an ALARM on each host with the SR attached, naming the SR
    set_sr(physical_utilisation="40", sr_io_throughput_total_per_host="0.000001")
    made = [sim.store.get("message", m) for m in rrd.perfmon_round(sim)]
    hosts = {x.host.get_uuid(h) for h in x.host.get_all()}
    assert {m["obj_uuid"] for m in made} == hosts and {m["cls"] for m in made} == {"Host"}
    assert f'<name value="sr_io_throughput_total_{uuid[:8]}"/>' in made[0]["body"]
    assert f'<configured_on class="SR" uuid="{uuid}"/>' in made[0]["body"]
    # a malformed configuration on the SR: perfmon watches nothing there, no crash
    x.SR.remove_from_other_config(nfs, "perfmon")
    x.SR.add_to_other_config(nfs, "perfmon", "<config><variable>")
    sim.clock = lambda: at + 7200
    assert rrd.perfmon_round(sim) == []


@pytest.mark.parametrize(
    ("cls", "body", "words"),
    [
        (
            "VM",
            'value: 0.968699\nconfig:\n<variable>\n <name value="cpu_usage"/>\n'
            ' <alarm_trigger_level value="0.9"/>\n</variable>\n',
            "CPU usage 96.9 % above the alarm's 90 %",
        ),
        (
            "VM",
            'value: 3000000\nconfig:\n<variable><name value="network_usage"/>'
            '<alarm_trigger_level value="2097152"/></variable>',
            "Network 2.86 MiB/s above the alarm's 2 MiB/s",
        ),
        (
            "Host",
            'value: 400000\nconfig:\n<variable><name value="memory_free_kib"/>'
            '<alarm_trigger_level value="524288"/></variable>',
            "Free memory 391 MiB below the alarm's 512 MiB",
        ),
        (
            "Host",
            'value: 3.5\nconfig:\n<variable><name value="sr_io_throughput_total_2812859a"/>'
            '<alarm_trigger_level value="1"/><configured_on class="SR" uuid="u"/></variable>',
            "I/O on each host 3.5 MiB/s above the alarm's 1 MiB/s",
        ),
        (
            "VM",
            'value: 0.95\nconfig:\n<variable><name value="fs_usage"/>'
            '<alarm_trigger_level value="0.9"/></variable>',
            "fs_usage at 0.95, beyond the alarm's 0.9",
        ),
        ("VM", "value: lots\nconfig:\n<variable/>", ""),
        ("VM", 'value: 1\nconfig:\n<!DOCTYPE x><variable name="a"/>', ""),
        ("VM", "The VM's disk is full", ""),
    ],
)
def test_an_alarm_message_is_said_in_the_consoles_units(cls, body, words):
    assert perfmon.alarm_words(cls, body) == words


def test_a_level_typed_is_stored_as_typed_not_as_a_float_product():
    action = perfmon.SetVmAlarms(
        "OpaqueRef:vm", "u", "web-01", perfmon.Config(), values(cpu_usage="70", disk_usage="0.1")
    )
    assert '<alarm_trigger_level value="0.7" />' in action.xml  # 70 * 0.01 is 0.7000000000000001
    assert '<alarm_trigger_level value="104857.6" />' in action.xml
