"""``xstui top``: the pool's hosts and busiest VMs from the RRDs, once or
every 5 s, as text (XAPI's names escaped) or JSON; bad arguments in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def run_cli(*args, env=None, timeout=90):
    return subprocess.run(
        [sys.executable, "-m", "xstui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def test_top_once_json_sorted_by_what_is_asked(running_sim, xapi, tmp_path):
    vm = xapi.xenapi.VM.get_by_name_label("web-02")[0]
    xapi.xenapi.VM.set_name_label(vm, "evil\u202ename\x85")
    env = {"XDG_CONFIG_HOME": str(tmp_path), "XSTUI_PASSWORD": running_sim.password}
    out = run_cli("top", running_sim.url, "--once", "--json", "--sort", "disk", env=env)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["sort"] == "disk" and [h["name"] for h in doc["hosts"]] == [
        "xcp-a",
        "xcp-b",
        "xcp-c",
    ]
    assert all(h["cpu"] is not None and h["no_data"] is None for h in doc["hosts"])
    disks = [v["disk"] for v in doc["vms"]]
    assert disks == sorted(disks, reverse=True)
    names = {v["name"] for v in doc["vms"]}
    assert "legacy-erp" not in names and "evil\u202ename\x85" in names
    text = run_cli("top", running_sim.url, "--once", "--sort", "net", env=env)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].split()[:2] == ["HOSTS", "CPU"] and any(
        line.startswith("VMS by net") for line in lines
    )
    assert "\u202e" not in text.stdout and "evil\\u202ename\\x85" in text.stdout


def test_top_refuses_bad_arguments_in_one_line(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    for args in (
        ["top", "demo", "--sort", "fun"],
        ["top", "ftp://x"],
        ["top", "demo", "--timeout", "0"],
    ):
        out = run_cli(*args, env=env)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
