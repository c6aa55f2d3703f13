"""Benchmark (on demand: ``make bench``): a rolling pool update of a generated
16-host pool (320 VMs) whose hosts each lack two updates, one asking for a
reboot; a reboot takes 2 s. The console's own code runs it (the same action
as the screen and ``xstui rolling-update``) against a simulator in this
process over real HTTP. Prints JSON: wall time, time per host, the console's
XAPI calls in all and per host, and the simulator's apply and reboot counts
(each host exactly once), and where the time went by kind of step (the
simulator moves a VM in 0.4 s: evacuations dominate)."""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter

HOSTS, VMS = 16, 320
REBOOT_SECONDS = 2.0


def main() -> None:
    import os

    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="xstui-bench-")
    from xstui.areas import watched_types
    from xstui.services.actions import RunContext
    from xstui.services.updates.cli import current_view
    from xstui.services.updates.rolling import RollingUpdate, prepare
    from xstui.sim.runner import start_simulator
    from xstui.sim.scenario import generate
    from xstui.xapi.connection import Connection
    from xstui.xapi.targets import parse_target

    scenario = generate(HOSTS, VMS)
    scenario["updates"] += [
        {"name": "XS82ECU1033", "guidance": ["restartHost"], "applied": []},
        {"name": "XS82ECU1041", "guidance": ["restartHVM"], "applied": []},
    ]
    running = start_simulator(scenario, address="127.0.0.1", task_delay=0.01)
    running.sim.reboot_seconds = REBOOT_SECONDS
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    try:
        conn.login()
        conn.start_events()
        conn.cache.wait_for(lambda: conn.cache.loads > 0, 60)
        started = time.monotonic()
        calls_before = conn.calls
        prep = prepare(conn, current_view(conn))
        action = RollingUpdate(conn.cache, prep, "shut them down")
        phases: Counter = Counter()  # seconds spent in each kind of step
        last = [time.monotonic(), ""]

        def note(text: str) -> None:
            now = time.monotonic()
            if last[1]:
                phases[last[1]] += now - last[0]
            step = text.split(": ", 1)[-1]
            last[:] = [now, step.split()[0]]

        outcome = action.execute(RunContext(conn, note=note))
        note("end: end")
        seconds = time.monotonic() - started
        calls = conn.calls - calls_before
        records = running.sim.records
        applies = Counter(h for what, h, _ in records if what == "apply")
        reboots = Counter(h for what, h, _ in records if what == "reboot")
        print(
            json.dumps(
                {
                    "benchmark": "rolling pool update",
                    "hosts": HOSTS,
                    "vms": VMS,
                    "reboot_seconds": REBOOT_SECONDS,
                    "seconds": round(seconds, 1),
                    "seconds_per_host": round(seconds / HOSTS, 2),
                    "xapi_calls": calls,
                    "xapi_calls_per_host": round(calls / HOSTS, 1),
                    "applies_per_host": sorted(set(applies.values())),
                    "reboots_per_host": sorted(set(reboots.values())),
                    "seconds_by_step": {k: round(v, 1) for k, v in phases.most_common()},
                    "outcome": outcome,
                },
                indent=2,
            )
        )
    finally:
        conn.close()
        running.close()


if __name__ == "__main__":
    main()
