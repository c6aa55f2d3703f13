"""The rolling pool update survives its console being killed (SIGKILL, not a
clean exit) at a random moment: started again, it finishes, and every host
got each update it lacked exactly once and rebooted at most once, as the
simulator's own records of apply and reboot calls say, and the VMs moved off
a host for its reboot are back on it."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.waiting import wait_for
from xstui.sim.runner import start_simulator
from xstui.sim.scenario import load_scenario

ISO_RELEASE = "citrix-hypervisor-8.2"


def demo_pool():
    """The demo pool, its hotfixes as ISOs to upload (pool_update, as
    Citrix Hypervisor 8.2 plays them): the pool keeps what each host has."""
    sc = load_scenario("demo")
    sc.pop("standalone", None)
    sc["release"] = ISO_RELEASE
    running = start_simulator(sc, task_delay=0.01)
    running.sim.time_scale = 0.2  # a reboot takes 1.2 s, a toolstack restart 0.6 s
    return running


def lacking(running) -> dict[str, set[str]]:
    st = running.sim.store
    out = {}
    for host in st.table("host").values():
        have = {st.get("pool_update", u)["name_label"] for u in host["updates"]}
        names = {u["name_label"] for u in st.table("pool_update").values()}
        out[host["name_label"]] = names - have
    return out


def rolling(running, state: str, *extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "XSTUI_PASSWORD": running.password,
        "XDG_STATE_HOME": state,
        "XDG_CONFIG_HOME": state,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "xstui", "rolling-update", running.url, "--yes"]
        + ["--shut-down-blocked", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def check_exactly_once(running, before: dict[str, set[str]]) -> None:
    records = running.sim.records
    applies = Counter((host, name) for what, host, name in records if what == "apply")
    reboots = Counter(host for what, host, _ in records if what == "reboot")
    for host, names in before.items():
        for name in names:
            assert applies[(host, name)] == 1, (host, name, records)
    assert sum(applies.values()) == sum(len(n) for n in before.values()), records
    assert reboots == Counter({"xcp-c": 1}), records  # only XS82ECU1033 asks for a reboot
    assert all(not names for names in lacking(running).values())
    st = running.sim.store
    assert all(h["enabled"] for h in st.table("host").values())
    # xcp-c's VMs that moved off for its reboot are back on it (issue 27, item 13)
    c = st.find_one("host", name_label="xcp-c")
    back = {v["name_label"] for v in st.table("VM").values() if v["resident_on"] == c}
    assert {"web-03", "app-02", "fileserver", "vpn-gw"} <= back, back


def test_a_whole_run(tmp_path):
    running = demo_pool()
    try:
        before = lacking(running)
        proc = rolling(running, str(tmp_path))
        out, _ = proc.communicate(timeout=240)
        assert proc.returncode == 0, out
        assert "Rolling update finished: 3 host(s)" in out
        check_exactly_once(running, before)
        # a second run has nothing to do (and says so in JSON when asked)
        again = rolling(running, str(tmp_path), "--json")
        out, _ = again.communicate(timeout=120)
        assert again.returncode == 0, out
        assert json.loads(out.splitlines()[-1]) == {
            "finished": True,
            "outcome": "Every host has every update: nothing to do.",
        }
    finally:
        running.close()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_killed_at_a_random_step_and_started_again(tmp_path, seed):
    """Killed just after the Nth step it printed (N random among the ~20 of
    a whole run), or a random fraction of a second later."""
    rng = random.Random(seed)
    running = demo_pool()
    try:
        before = lacking(running)
        proc = rolling(running, str(tmp_path))
        steps, lines = rng.randint(1, 18), []
        while len([x for x in lines if x[:2].isdigit()]) < steps:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
        time.sleep(rng.uniform(0, 0.5))  # not a wait: picks the random moment of the kill
        proc.kill()
        first = "".join(lines) + proc.communicate(timeout=30)[0]
        assert "Rolling update finished" not in first, "killed too late to test anything"
        for _attempt in range(5):  # the master may be restarting its toolstack: try again
            # once every host is back from what the killed run started
            wait_for(lambda: not running.sim.down, what="every host up")
            proc = rolling(running, str(tmp_path))
            out, _ = proc.communicate(timeout=240)
            if proc.returncode == 0:
                break
        assert proc.returncode == 0, first + "\n---\n" + out
        check_exactly_once(running, before)
    finally:
        running.close()
