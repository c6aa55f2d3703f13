"""Reliability (issue #28, items 2, 3, 4, 10): the rolling update checks
the pool, not its journal, before it says "applied"; a second console (two
admins) is refused while the first runs, by the pool's own marker; a
read-only session is refused before anything is written; Ctrl-C twice stops
at once with where it was, never a traceback; a long wait still prints."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time

from tests.reliability.test_rolling_update import ISO_RELEASE, demo_pool, lacking, rolling
from tests.waiting import wait_for
from xstui.services import claims
from xstui.services.updates.cli import Ticker
from xstui.sim.runner import start_simulator
from xstui.sim.scenario import load_scenario


def read_until(proc: subprocess.Popen, text: str, seen: list[str]) -> None:
    """Lines of its output until one holds ``text`` (the process ended: fails)."""
    while True:
        line = proc.stdout.readline()
        assert line, "".join(seen)
        seen.append(line)
        if text in line:
            return


def test_a_resumed_run_does_again_what_the_pool_lost(tmp_path):
    """Item 2: xcp-a was done, then lost its updates (reverted, a database
    restored): the resumed run sees it from the pool, does it again, and
    says "applied" only once every host has them."""
    running = demo_pool()
    try:
        before = lacking(running)
        proc, seen = rolling(running, str(tmp_path)), []
        read_until(proc, "xcp-b (2/3)", seen)  # xcp-a (the master, first) is done
        proc.kill()
        proc.communicate(timeout=30)
        st = running.sim.store
        with st.lock:  # what the run applied on xcp-a is gone (both sides of the link)
            a = st.find_one("host", name_label="xcp-a")
            for ref, upd in list(st.table("pool_update").items()):
                if upd["name_label"] in before["xcp-a"]:
                    st.set("pool_update", ref, hosts=[h for h in upd["hosts"] if h != a])
            st.set(
                "host",
                a,
                updates=[
                    u
                    for u in st.get("host", a)["updates"]
                    if st.get("pool_update", u)["name_label"] not in before["xcp-a"]
                ],
            )
        assert lacking(running)["xcp-a"] == before["xcp-a"]
        for _attempt in range(5):
            wait_for(lambda: not running.sim.down, what="every host up")
            proc = rolling(running, str(tmp_path))
            out, _ = proc.communicate(timeout=240)
            if proc.returncode == 0:
                break
        assert proc.returncode == 0, out
        assert "The pool says xcp-a lack(s) updates the journal had applied" in out, out
        assert "Rolling update finished" in out and "read back from the pool" in out
        assert all(not names for names in lacking(running).values())
    finally:
        running.close()


def test_a_second_console_is_refused_while_the_first_runs(tmp_path):
    """Item 4: another admin (another journal folder) starts the same rolling
    update while the first runs: refused in words, nothing done by it."""
    running = demo_pool()
    try:
        before = lacking(running)
        first, seen = rolling(running, str(tmp_path / "admin1")), []
        read_until(first, "(1/3)", seen)
        for _attempt in range(5):  # the master's toolstack may be restarting: "cannot reach"
            wait_for(lambda: not running.sim.down, what="every host up")
            second = rolling(running, str(tmp_path / "admin2"))
            out, _ = second.communicate(timeout=120)
            if "cannot reach" not in out:
                break
        assert second.returncode != 0, out
        assert "a rolling update by root@" in out and "under way" in out, out
        assert "Traceback" not in out
        rest, _ = first.communicate(timeout=240)
        assert first.returncode == 0, "".join(seen) + rest
        applies = [r for r in running.sim.records if r[0] == "apply"]
        assert len(applies) == sum(len(n) for n in before.values())  # each once, by the first
        with running.sim.store.lock:
            pool = next(iter(running.sim.store.table("pool").values()))
            assert claims.KEY not in pool["other_config"]  # released at the end
    finally:
        running.close()


def test_a_read_only_session_is_refused_before_anything(tmp_path):
    """Item 10: no journal written, nothing asked, nothing done."""
    sc = load_scenario("demo")
    sc.pop("standalone", None)
    sc["release"] = ISO_RELEASE
    sc["directory"] = {
        **sc["directory"],
        "enabled": True,
        "subjects": [{"name": "alice", "role": "read-only"}],
    }
    running = start_simulator(sc, task_delay=0.01)
    try:
        env = {**os.environ, "XSTUI_PASSWORD": "Alice-Demo1", "XDG_STATE_HOME": str(tmp_path)}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "xstui",
                "rolling-update",
                running.url,
                "--user",
                "alice",
                "--yes",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0 and "cannot run" in out and "Nothing was done" in out, out
        assert not list(tmp_path.rglob("*.json")), "a journal was written"
        assert not [r for r in running.sim.records if r[0] in ("apply", "reboot")]
    finally:
        running.close()


def test_ctrl_c_twice_stops_now_with_where_it_was(tmp_path):
    """Item 3: the second Ctrl-C stops at once: one line, no traceback."""
    running = demo_pool()
    try:
        proc, seen = rolling(running, str(tmp_path)), []
        read_until(proc, "(1/3)", seen)
        proc.send_signal(signal.SIGINT)
        read_until(proc, "Stopping after the current host", seen)
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
        out = "".join(seen) + rest
        assert proc.returncode == 130, out
        assert "Stopped now: xcp-a was" in out and "left: xcp-a" in out, out
        assert "Traceback" not in out and "KeyboardInterrupt" not in out, out
    finally:
        running.close()


def test_a_long_wait_still_prints(monkeypatch):
    """Item 3: during a wait, the last note again with how long it has been."""
    monkeypatch.setattr(Ticker, "TICK_SECONDS", 0.2)
    out = io.StringIO()
    with Ticker(out) as ticker:
        ticker.say("waiting for xcp-c to come back (up to 30 min)")
        wait_for(lambda: "still waiting for xcp-c" in out.getvalue(), 10, what="a tick")
    text = out.getvalue()
    time.sleep(0)  # the ticker has stopped: nothing more is printed
    assert text.count("still") >= 1 and text.splitlines()[0].endswith("(up to 30 min)")
