"""Hotfixes on every release profile, from the command line: ``xstui check
--baseline`` and ``xstui rolling-update`` (a dry run, then the real run)
against the demo played as each release, which offers its hotfixes its own
way (6.5 pool_patch, 7.1 pool_update, XCP-ng yum, XenServer 8 repositories).
Each answers in words, never a raw XAPI error or a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from xstui.sim.profiles import PROFILES, hotfix_name
from xstui.sim.runner import start_simulator
from xstui.sim.scenario import load_scenario

RAW = ("MESSAGE_", "Traceback", "OpaqueRef")

# how each release takes its hotfixes (the generation the console detects),
# and the xe command its rolling update applies them with
WAY = {
    "xenserver-6.5": ("patches", "xe patch-apply"),
    "xenserver-7.1": ("updates", "xe update-apply"),
    "citrix-hypervisor-8.2": ("updates", "xe update-apply"),
    "xcp-ng-8.2": ("yum", "plugin=updater.py fn=update"),
    "xcp-ng-8.3": ("yum", "plugin=updater.py fn=update"),
    "xenserver-8": ("repositories", "xe host-apply-updates"),
    "latest": ("yum", "plugin=updater.py fn=update"),
}


def demo_as(release: str):
    sc = load_scenario("demo")
    sc.pop("standalone", None)
    running = start_simulator(sc, release=release, task_delay=0.01)
    # a reboot takes 1.2 s: a host's boot time (whole seconds, as XAPI keeps
    # it) is after what yum installed before it
    running.sim.time_scale = 0.2
    names = {
        u["name"]: hotfix_name(PROFILES[release], u["name"], i) for i, u in enumerate(sc["updates"])
    }
    return running, names


def xstui(running, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "XSTUI_PASSWORD": running.password,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    out = subprocess.run(
        [sys.executable, "-m", "xstui", args[0], running.url, *args[1:]],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    said = out.stdout + out.stderr
    assert not any(raw in said for raw in RAW), said
    return out


def applied(running) -> set[tuple[str, str]]:
    return {(host, name) for what, host, name in running.sim.records if what == "apply"}


def test_each_release_names_its_hotfixes_its_own_way():
    assert [hotfix_name(PROFILES[r], "XS82ECU1033", 2) for r in sorted(PROFILES)] == [
        "XS82ECU1033",  # citrix-hypervisor-8.2
        "kernel",  # latest: XCP-ng 8.3, updated
        "kernel",
        "kernel",
        "XS65ESP1033",
        "XS71ECU1033",
        "XSI-1033",
    ]


@pytest.mark.parametrize("release", sorted(PROFILES))
def test_baseline_and_rolling_update_on_every_release(release, tmp_path):
    running, name = demo_as(release)
    generation, apply_with = WAY[release]
    try:
        baseline = tmp_path / "baseline.yaml"
        baseline.write_text(
            f"pool: Demo Pool\nrequire: [{name['XS82ECU1001']}, {name['XS82ECU1033']}]\n"
            f"hosts:\n  xcp-a: {{require: [{name['XS82ECU1041']}]}}\n"
        )
        out = xstui(running, tmp_path, "check", "--baseline", str(baseline))
        assert out.returncode == 1, out.stdout + out.stderr
        assert f"missing  xcp-c: {name['XS82ECU1033']}\n" in out.stdout
        assert "ok       xcp-a\n" in out.stdout and "ok       xcp-b\n" in out.stdout
        out = xstui(running, tmp_path, "check", "--baseline", str(baseline), "--json")
        report = json.loads(out.stdout)
        assert report["generation"] == generation
        assert {h["host"]: h["missing"] for h in report["hosts"]} == {
            "xcp-a": [],
            "xcp-b": [],
            "xcp-c": [name["XS82ECU1033"]],
        }

        out = xstui(running, tmp_path, "rolling-update", "--dry-run", "--shut-down-blocked")
        assert out.returncode == 0, out.stdout + out.stderr
        assert "dry run: nothing is changed" in out.stdout
        assert name["XS82ECU1048"] in out.stdout and apply_with in out.stdout
        assert not running.sim.records  # nothing applied, nothing rebooted

        out = xstui(running, tmp_path, "rolling-update", "--yes", "--shut-down-blocked")
        assert out.returncode == 0, out.stdout + out.stderr
        assert "Rolling update finished: 3 host(s)" in out.stdout
        assert {("xcp-c", name["XS82ECU1033"]), ("xcp-a", name["XS82ECU1048"])} <= applied(running)
        assert ("reboot", "xcp-c", "") in running.sim.records

        out = xstui(running, tmp_path, "check", "--baseline", str(baseline))
        assert out.returncode == 0 and "Every host is compliant." in out.stdout, out.stdout
        out = xstui(running, tmp_path, "rolling-update", "--dry-run")
        assert out.returncode == 0 and "nothing to do" in out.stdout, out.stdout
    finally:
        running.close()


def test_a_release_without_a_hotfix_api_is_refused_in_words(tmp_path):
    """A pool whose API offers none of the ways (the calls hidden): both
    commands say so, naming the release, and change nothing."""
    running, _ = demo_as("xenserver-7.1")
    running.sim.hidden |= {"pool_update.introduce", "pool_patch.apply"}
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text("require: [XS71ECU1001]\n")
    try:
        for args in (["check", "--baseline", str(baseline)], ["rolling-update", "--yes"]):
            out = xstui(running, tmp_path, *args)
            assert out.returncode == 2, out.stdout + out.stderr
            assert out.stderr.startswith("xstui: XenServer 7.1.2 offers no hotfix API"), out.stderr
            assert out.stderr.count("\n") == 1
        assert not running.sim.records
    finally:
        running.close()
