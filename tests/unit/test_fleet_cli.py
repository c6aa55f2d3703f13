"""``xstui sim --scenario fleet:…`` and ``xstui check|status --fleet``, over
a real simulated fleet on loopback (each pool on addresses of its own)."""

import ipaddress
import json
import os
import signal
import subprocess
import sys

import pytest
import yaml
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from tests.conftest import FLEET_PASSWORD as PASSWORD
from tests.waiting import wait_for
from xstui.services.fleet.targets import FleetTarget, load_fleet, write_fleet
from xstui.sim.fleet import fleet_sizes, pool_scenario, start_fleet
from xstui.sim.scenario import ScenarioError


def xstui(*args, env=None, **kw):
    return subprocess.run(
        [sys.executable, "-m", "xstui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "XSTUI_PASSWORD": PASSWORD, **(env or {})},
        stdin=subprocess.DEVNULL,
        **kw,
    )


def fleet_file(tmp_path, pools) -> str:
    path = tmp_path / "fleet.yaml"
    write_fleet(path, pools)
    return str(path)


def test_fleet_scenario_sizes_and_addresses():
    assert fleet_sizes("fleet:6,3,20") == (6, 3, 20)
    for bad in ("fleet:6,3", "fleet:a,b,c", "fleet:0,1,1", "fleet:1,201,1"):
        with pytest.raises(ScenarioError, match="fleet:"):
            fleet_sizes(bad)
    addresses = set()
    for i in range(300):
        sc = pool_scenario(i, 2, 1)
        for h in sc["hosts"]:
            assert ipaddress.ip_address(h["address"]).is_loopback
            assert h["address"] not in addresses
            addresses.add(h["address"])
        assert all(ipaddress.ip_address(s).is_loopback for s in [*sc["dns"], sc["gateway"]])


def test_each_pool_has_its_health(fleet, tmp_path):
    assert [p.kind for p in fleet.pools] == [
        "healthy",
        "ha-broken",
        "cert-expiring",
        "behind-on-updates",
        "silent",
    ]
    out = xstui("check", "--fleet", fleet_file(tmp_path, fleet.fleet()), "--json", "--timeout", "2")
    assert out.returncode == 3, out.stderr  # the silent pool: the worst
    pools = {p["name"]: p for p in json.loads(out.stdout)["pools"]}
    assert [p["state"] for p in pools.values()] == ["answered"] * 4 + ["timeout"]
    assert pools["fleet-01"]["findings"] == [] and pools["fleet-01"]["exit"] == 0
    ha = pools["fleet-02"]["findings"]
    assert ha[0]["severity"] == "critical" and "Heartbeat SR unreachable" in ha[0]["text"]
    assert [f["rule"] for f in pools["fleet-03"]["findings"]] == ["certificates"]
    assert "expires in" in pools["fleet-03"]["findings"][0]["text"]
    updates = pools["fleet-04"]["findings"]
    assert updates == [
        {
            "severity": "info",
            "rule": "updates",
            "text": "Update XS82ECU1002 not applied on any host",
        }
    ]
    assert pools["fleet-05"]["detail"] == "no answer within 2 s" and pools["fleet-05"]["exit"] == 3


def test_openmetrics_says_what_json_says(fleet, tmp_path):
    path = fleet_file(tmp_path, fleet.fleet()[:4])  # the ones that answer
    as_json = xstui("check", "--fleet", path, "--json")
    metrics = xstui("check", "--fleet", path, "--format", "openmetrics")
    assert as_json.returncode == metrics.returncode == 1, metrics.stderr
    families = {f.name: f for f in text_string_to_metric_families(metrics.stdout)}
    up = {s.labels["pool"]: s.value for s in families["xstui_pool_up"].samples}
    assert up == {"fleet-01": 1, "fleet-02": 1, "fleet-03": 1, "fleet-04": 1}
    found = {
        (s.labels["pool"], s.labels["severity"], s.labels["rule"], s.labels["text"])
        for s in families["xstui_finding"].samples
    }
    expected = {
        (p["name"], f["severity"], f["rule"], f["text"])
        for p in json.loads(as_json.stdout)["pools"]
        for f in p["findings"]
    }
    assert found == expected and len(found) == 3
    critical = {
        s.labels["pool"]: s.value
        for s in families["xstui_pool_findings"].samples
        if s.labels["severity"] == "critical"
    }
    assert critical == {"fleet-01": 0, "fleet-02": 1, "fleet-03": 0, "fleet-04": 0}
    exits = {s.labels["pool"]: s.value for s in families["xstui_pool_check_exit_code"].samples}
    assert exits == {"fleet-01": 0, "fleet-02": 1, "fleet-03": 1, "fleet-04": 0}
    states = [
        s.labels["xstui_pool_state"]
        for s in families["xstui_pool_state"].samples
        if s.value == 1 and s.labels["pool"] == "fleet-02"
    ]
    assert states == ["answered"]
    assert families["xstui_fleet_check_complete"].samples[0].value == 1


def test_openmetrics_escapes_what_it_quotes(fleet, tmp_path):
    pool = fleet.fleet()[0]
    odd = FleetTarget('we"ird\\name\nx', pool.url, group="g")
    out = xstui(
        "check",
        "--fleet",
        fleet_file(tmp_path, [odd]),
        "--format",
        "openmetrics",
        env={"XSTUI_PASSWORD": "wrong"},
    )
    assert out.returncode == 3
    family = next(
        f for f in text_string_to_metric_families(out.stdout) if f.name == "xstui_pool_state"
    )
    refused = [s for s in family.samples if s.value == 1]
    assert [(s.labels["pool"], s.labels["xstui_pool_state"]) for s in refused] == [
        ('we"ird\\name\nx', "login-failed")
    ]


def test_status_over_the_fleet(fleet, tmp_path):
    out = xstui("status", "--fleet", fleet_file(tmp_path, fleet.fleet()[:2]))
    assert out.returncode == 0, out.stderr
    pools = json.loads(out.stdout)["pools"]
    assert [p["status"]["pool"]["name"] for p in pools] == ["fleet-01", "fleet-02"]
    assert pools[1]["status"]["pool"]["ha_enabled"] is True


def test_passwords_per_pool_from_the_environment(fleet, tmp_path):
    path = fleet_file(tmp_path, fleet.fleet()[:2])
    env = {"XSTUI_PASSWORD": "wrong", "XSTUI_PASSWORD_FLEET_02": PASSWORD}
    out = xstui("check", "--fleet", path, "--json", env=env)
    states = [p["state"] for p in json.loads(out.stdout)["pools"]]
    assert states == ["login-failed", "answered"] and out.returncode == 3


def test_a_changed_certificate_is_refused_and_the_rest_go_on(tmp_path):
    tls = start_fleet("fleet:3,1,1", password=PASSWORD, tls=True)
    try:
        pins = [p.running.fingerprint for p in tls.pools]
        pools = [
            FleetTarget(p.name, p.url, fingerprint=pins[(i + 1) % 3] if i == 1 else pins[i])
            for i, p in enumerate(tls.pools)
        ]
        out = xstui("check", "--fleet", fleet_file(tmp_path, pools), "--json")
    finally:
        tls.close()
    result = {p["name"]: p for p in json.loads(out.stdout)["pools"]}
    assert result["fleet-02"]["state"] == "refused"
    assert "different certificate than the one trusted before" in result["fleet-02"]["detail"]
    assert [result[n]["state"] for n in ("fleet-01", "fleet-03")] == ["answered", "answered"]
    assert out.returncode == 3


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("- name: a\n  url: https://h\n  pass: x\n", "fleet.yaml line 3, [0].pass: unknown key"),
        ("- {name: a, url: 'https://h'}\n- {name: a, url: 'https://g'}\n", "given twice"),
        ("- {name: a, url: h.example}\n", "line 1, [0].url: 'h.example' is not a URL"),
    ],
)
def test_a_bad_fleet_file_exits_2(tmp_path, text, said):
    (tmp_path / "fleet.yaml").write_text(text)
    out = xstui("check", "--fleet", str(tmp_path / "fleet.yaml"))
    assert out.returncode == 2 and said in out.stderr and out.stdout == ""


def test_a_bad_baseline_for_the_overview_exits_2_before_the_console(tmp_path):
    (tmp_path / "fleet.yaml").write_text("- {name: a, url: 'https://h'}\n")
    (tmp_path / "base.yaml").write_text("require: [X]\nrequires: [Y]\n")
    out = xstui("fleet", str(tmp_path / "fleet.yaml"), "--baseline", str(tmp_path / "base.yaml"))
    assert out.returncode == 2 and "base.yaml line 2" in out.stderr and "requires" in out.stderr


def test_ctrl_c_prints_what_came_back(fleet, tmp_path):
    path = fleet_file(tmp_path, fleet.fleet())
    silent, before = fleet.pools[4].silent, fleet.pools[4].silent.reached
    proc = subprocess.Popen(
        [sys.executable, "-m", "xstui", "check", "--fleet", path, "--concurrency", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "XSTUI_PASSWORD": PASSWORD},
        stdin=subprocess.DEVNULL,
    )
    try:
        # one at a time, in order: the last (silent) pool reached, the others are done
        wait_for(lambda: silent.reached > before, what="the silent pool reached")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "fleet-02         answered     1 finding(s)" in out
    assert "fleet-05         interrupted  stopped by Ctrl+C" in out
    assert out.rstrip().endswith("5 pools: 4 answered, 1 interrupted (stopped by Ctrl+C)")


def test_sim_serves_a_fleet_and_writes_its_file(tmp_path):
    path = tmp_path / "fleet.yaml"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xstui",
            "sim",
            "--scenario",
            "fleet:2,1,1",
            "--write-fleet",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        lines = []
        while not lines or lines[-1] != "Ctrl-C to stop.\n":
            lines.append(proc.stdout.readline())
            assert lines[-1], "the simulator ended"
        password = next(line for line in lines if "login" in line).split("/")[1].split()[0]
        pools = load_fleet(path)
        assert [p.name for p in pools] == ["fleet-01", "fleet-02"]
        assert all(p.url in "".join(lines) for p in pools)
        assert password not in path.read_text()
        out = xstui("check", "--fleet", str(path), "--json", env={"XSTUI_PASSWORD": password})
        assert [p["state"] for p in json.loads(out.stdout)["pools"]] == ["answered"] * 2
        # each pool's control endpoint is printed on its line: its calls, that check's among them
        first = next(line for line in lines if line.split()[:1] == ["fleet-01"]).split()
        control = first[first.index("control") + 1]
        calls = xstui("sim-ctl", control, "calls", "--password", password)
        assert json.loads(calls.stdout)["calls"]["session.login_with_password"] >= 1
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    bad = xstui("sim", "--scenario", "fleet:2,1", "--write-fleet", str(path))
    assert bad.returncode == 2 and "fleet:POOLS,HOSTS,VMS" in bad.stderr


def test_a_group_of_saved_targets_is_a_fleet(fleet, tmp_path):
    config = tmp_path / "xdg" / "xstui" / "config.yaml"
    config.parent.mkdir(parents=True)
    pools = fleet.fleet()
    targets = [{"url": p.url, "name": p.name, "group": "lyon"} for p in pools[:2]]
    targets.append({"url": pools[2].url, "name": pools[2].name, "group": "paris"})
    config.write_text(yaml.safe_dump({"targets": targets}))
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    out = xstui("check", "--fleet", "lyon", "--json", env=env)
    assert [p["name"] for p in json.loads(out.stdout)["pools"]] == ["fleet-01", "fleet-02"]
    unknown = xstui("check", "--fleet", "rome", env=env)
    assert unknown.returncode == 2 and "groups: lyon, paris" in unknown.stderr
    tui = xstui("fleet", "rome", env=env)
    assert tui.returncode == 2 and "neither a fleet file nor a group" in tui.stderr
