"""Benchmark (on demand: ``make bench``): the console's cost of the live
figures on a generated 64-host, 4000-VM pool, each figure beside a floor
measured in the same run. Prints figures, asserts nothing.

From outside (``--seconds`` of the VMs area's Top tab, which reads every host
every 5 s, after a warm-up that holds the first 10-minute answers):
- the console's CPU (``xstui connect`` on a pty at 80x24 TERM=linux, its
  process's CPU time read with psutil) as a share of one core; the goal is
  under 10 %. Floor: a Textual app on the same pty redrawing a DataTable of
  the Top tab's size with new figures every 5 s;
- bytes to the terminal per refresh (the pty's bytes), beside the floor app's;
- bytes on the wire per refresh: what the simulator's listeners (another
  process) received and sent, HTTP headers included, for every call and GET
  of the console. Floor: the 64 incremental rrd_updates answers themselves.

In process (the console's own service, xstui.services.metrics, reading the
simulator's answers made beforehand, then sorting the running VMs as the Top
tab does): CPU seconds of the first refresh (10 minutes of rows) and of the
next ones (XAPI repeats every column's legend in each answer: most of an
incremental answer is its legend)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import psutil

from tests.bench.output import Pty, environment
from tests.bench.start import settle, sim

HOSTS, VMS = 64, 4000
REFRESH_SECONDS = 5
WARM_SECONDS = 60.0  # past the first answers (10 minutes of rows, 64 of them) and their drawing

# the floor: a same-size table (the Top tab's 7 columns, the rows that fit at
# 80x24) given new figures every 5 s, on the same pty
FLOOR = """
import random
from textual.app import App
from textual.widgets import DataTable, Static

class Floor(App):
    def compose(self):
        yield Static("Busiest by CPU")
        yield DataTable()

    def on_mount(self):
        table = self.query_one(DataTable)
        for name, width in (("VM", 16), ("Host", 10), ("CPU", 5), ("Mem", 9),
                            ("Net", 9), ("Disk", 9), ("last 10 min", 19)):
            table.add_column(name, width=width)
        self.fill()
        self.set_interval(%(seconds)s, self.fill)

    def fill(self):
        table = self.query_one(DataTable)
        table.clear()
        for i in range(20):
            table.add_row(f"vm-{random.randrange(4000):04d}", f"host-{random.randrange(64):02d}",
                          f"{random.randrange(100)}%%", f"{random.random() * 16:.1f} GiB",
                          f"{random.random() * 900:.0f} KiB", f"{random.random() * 900:.0f} KiB",
                          "".join(random.choice(" .:-=+*#") for _ in range(19)))

Floor().run()
"""


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def wire(control: str) -> dict[str, int]:
    """The bytes the simulator's listeners received and sent, and its rrd_updates answered."""
    out = subprocess.run(
        [sys.executable, "-m", "xstui", "sim-ctl", control, "calls", "--password", "bench"],
        capture_output=True,
        text=True,
        check=True,
    )
    counts = json.loads(out.stdout)
    return {**counts.get("wire", {}), "answers": counts["calls"].get("GET /rrd_updates", 0)}


def measured(run: Pty, seconds: float, control: str | None) -> dict:
    """``seconds`` of the program on its pty: its CPU share, bytes to the
    terminal and (with a simulator) on the wire, per refresh (with a
    simulator: the refreshes made, its rrd_updates answered over the hosts)."""
    refreshes = seconds / REFRESH_SECONDS
    before = wire(control) if control else {}
    cpu, written, started = cpu_seconds(run.pid), len(run.data), time.monotonic()
    run.read(seconds)
    elapsed = time.monotonic() - started
    out = {"cpu_share": round((cpu_seconds(run.pid) - cpu) / elapsed, 4)}
    if control:
        after = wire(control)
        refreshes = (after["answers"] - before["answers"]) / HOSTS
        out["refreshes"] = round(refreshes, 1)
        out["wire_bytes_per_refresh"] = {
            way: round((after.get(way, 0) - before.get(way, 0)) / refreshes)
            for way in ("received", "sent")
        }
    out["terminal_bytes_per_refresh"] = round((len(run.data) - written) / refreshes)
    return out


def console(seconds: float) -> dict:
    """``xstui connect`` to a generated pool, F8 then T (the Top tab), measured."""
    proc, url, control = sim(f"generate:{HOSTS},{VMS}")
    env = environment(raw=False)
    env["XSTUI_PASSWORD"] = "bench"
    try:
        run = Pty([sys.executable, "-m", "xstui", "connect", url], env)
        try:
            settle(run, time.monotonic(), "Memory")
            run.key(b"\x1b[19~", seen="VMs")  # F8
            os.write(run.fd, b"T")
            deadline = time.monotonic() + 120
            while "running" not in "\n".join(run.screen.display):  # the first figures drawn
                if time.monotonic() > deadline:
                    raise RuntimeError("the Top tab drew no figures within 120 s")
                run.read(0.5)
            run.read(WARM_SECONDS)
            out = measured(run, seconds, control)
            out["screen"] = "\n".join(run.screen.display)
        finally:
            run.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return out


def floor(seconds: float) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(FLOOR % {"seconds": REFRESH_SECONDS})
    run = Pty([sys.executable, f.name], environment(raw=True))
    try:
        run.until_quiet(seen="Busiest")
        return measured(run, seconds, None)
    finally:
        run.close()
        os.unlink(f.name)


def in_process() -> dict:
    """The service alone on the simulator's answers made beforehand."""
    from xstui.areas import watched_types
    from xstui.services.metrics import Metrics
    from xstui.sim import rrd
    from xstui.sim.scenario import build, generate
    from xstui.sim.simulator import Simulator
    from xstui.xapi.cache import Cache

    st = build(generate(HOSTS, VMS))
    simulator = Simulator(st)
    now = int(simulator.clock()) // 5 * 5
    simulator.clock = lambda: now + 2.5  # every host's answer made at the same instant
    answers: dict[str, dict[str, bytes]] = {}
    for host in st.table("host"):
        rrds = rrd.rrds_of(simulator, host, with_host=True, vm_uuid="all")
        answers[host] = {
            "first": rrd.updates_json(rrd.updates(rrds, now - 595, 5, "AVERAGE")).encode(),
            "next": rrd.updates_json(rrd.updates(rrds, now - 5, 5, "AVERAGE")).encode(),
        }
    cache = Cache(watched_types())
    cache.replace(
        [
            {"class": cls.lower(), "ref": ref, "operation": "add", "snapshot": dict(rec)}
            for cls in ("host", "host_metrics", "VM")
            for ref, rec in st.table(cls).items()
        ]
    )
    which = ["first"]
    metrics = Metrics(lambda host, query: answers[host][which[0]])
    out = {}
    for kind in ("first", "next"):
        which[0] = kind
        cpu = time.process_time()
        metrics.refresh(cache)
        rows = metrics.vms(cache, "cpu")
        [r.figures.history for r in rows[:20]]  # what the Top tab draws at 80x24
        out[f"{kind}_cpu_seconds"] = round(time.process_time() - cpu, 3)
        out[f"{kind}_answers_bytes"] = sum(len(a[kind]) for a in answers.values())
    out["running_vms"] = len(rows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60, help="seconds measured")
    parser.add_argument("--show", action="store_true", help="print the Top tab as measured")
    args = parser.parse_args()
    service = in_process()
    base = floor(args.seconds)
    top = console(args.seconds)
    screen = top.pop("screen")
    wire_total = sum(top["wire_bytes_per_refresh"].values())
    print(f"{HOSTS} hosts, {VMS} VMs ({service['running_vms']} running); Top tab, 80x24 TERM=linux")
    print(
        f"{args.seconds:g} s measured: {top['refreshes']} refreshes of every host "
        f"(of {args.seconds / REFRESH_SECONDS:g} at one every {REFRESH_SECONDS} s)"
    )
    print(f"{'per refresh (every 5 s)':34}{'console':>12}{'floor':>12}{'ratio':>8}")
    rows = [
        ("CPU, share of one core", top["cpu_share"], base["cpu_share"]),
        (
            "bytes to the terminal",
            top["terminal_bytes_per_refresh"],
            base["terminal_bytes_per_refresh"],
        ),
        ("bytes on the wire", wire_total, service["next_answers_bytes"]),
    ]
    for name, value, least in rows:
        ratio = f"{value / least:.2f}" if least else "-"
        print(f"{name:34}{value:>12}{least:>12}{ratio:>8}")
    print(
        f"goal: CPU < 0.10 of a core ({'met' if top['cpu_share'] < 0.10 else 'NOT met'}); "
        "floors: a Textual DataTable of the same size redrawn every 5 s (CPU, terminal), "
        "the 64 incremental rrd_updates answers (wire)"
    )
    print(
        f"service alone (in process): first refresh {service['first_cpu_seconds']} s CPU "
        f"({service['first_answers_bytes']} bytes read), next {service['next_cpu_seconds']} s"
    )
    if args.show:
        print(screen)
    print(json.dumps({"console": top, "floor": base, "service": service}))


if __name__ == "__main__":
    main()
