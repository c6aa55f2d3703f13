"""Benchmark (on demand: ``make bench``): the console's start, measured from
outside the process on a pty at 80x24 TERM=linux, beside its floor measured
in the same run (a Textual hello-world from its start to its first frame,
started in turns with the console: a slow spell of the machine falls on
both; xsconsole too where it is installed).

Rows, each the median of ``--repeat`` runs (min beside it):
- ``xstui --help``: process start to exit;
- for each pool (a generated one, ``xstui sim --scenario generate:H,V`` in
  another process): process start (``xstui connect URL``) to the complete
  Status frame, i.e. the screen as it then stays (the first moment the
  terminal shows what it shows once nothing more comes for QUIET seconds),
  and to the first Status frame with this host's card filled;
- the console's peak RSS (VmHWM of the process, read from outside) by then;
- the XAPI calls the console made to the first Status frame, from it to the
  complete one, from that until the console is idle (the rest of the pool
  read: the first call after which none comes for QUIET seconds), and over
  ``--idle`` seconds from then (scaled to a minute), as the simulator logged them (``xstui sim-ctl URL calls``: each
  with its time on the clock every process shares).
Goals (issue #24): complete Status < 1 s and <= 2x the floor at 64/4000
(< 2 s at 256/16000); calls <= 3 / <= 3 a minute; RSS <= 100 / 180 MB."""

from __future__ import annotations

import argparse
import compileall
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import psutil

from tests.bench.output import HELLO, Pty, environment

QUIET = 2.0  # seconds without output that end a measure
LOAD_TAIL = 15.0  # seconds the rest of a big pool may take to read once Status is quiet
IDLE_GAP = 10.0  # seconds without a call that say the console waits (an event wait is 30 s)


def sim(scenario: str) -> tuple[subprocess.Popen, str, str]:
    """A simulator in its own process: it, the master's URL and the control URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "xstui", "sim", "--scenario", scenario, "--password", "bench"]
        + ["--address", "127.0.0.1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    master = control = ""
    for line in proc.stdout:
        words = line.split()
        if words[:1] == ["master"]:
            master = words[1]
        if words[:1] == ["control"]:
            control = words[1]
            return proc, master, control
    raise RuntimeError("the simulator did not start")


def call_log(control: str) -> list[tuple[float, str]]:
    """The simulator's last calls: (monotonic seconds, method)."""
    out = subprocess.run(
        [sys.executable, "-m", "xstui", "sim-ctl", control, "calls", "--password", "bench"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [(t, m) for t, m in json.loads(out.stdout)["log"]]


def between(log: list[tuple[float, str]], start: float, end: float) -> dict[str, int]:
    """Per method, the calls answered from ``start`` to ``end``."""
    out: dict[str, int] = {}
    for t, method in log:
        if start <= t < end:
            out[method] = out.get(method, 0) + 1
    return out


def first_idle_call(log: list[tuple[float, str]], since: float) -> float:
    """When the console went idle: the first call from ``since`` after which
    none follows for IDLE_GAP seconds (the event wait once the pool is read:
    on a big pool the rest of it is still being read when the screen is
    quiet, and the console may take seconds to file it before it waits)."""
    times = [t for t, _ in log if t >= since]
    for t, later in itertools.pairwise([*times, float("inf")]):
        if later - t > IDLE_GAP:
            return t
    return since


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), read from outside."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(psutil.Process(pid).memory_info().rss / 2**20, 1)


def settle(run: Pty, started: float, seen: str, limit: float = 120.0) -> dict:
    """Read until the screen shows ``seen`` and nothing comes for QUIET
    seconds; the seconds from ``started`` to the first frame showing
    ``seen`` and to the first moment the screen was as it then stays."""
    timeline: list[tuple[float, str]] = []
    deadline = time.monotonic() + limit
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        got = run.pump(0.02)
        if got is None:
            break
        if got:
            timeline.append((run.read_at, "\n".join(run.screen.display)))
            quiet_since = time.monotonic()
        elif timeline and seen in timeline[-1][1] and time.monotonic() - quiet_since >= QUIET:
            break
    else:
        raise RuntimeError(f"no quiet screen showing {seen!r} within {limit:g} s")
    final = timeline[-1][1]
    complete = timeline[-1][0]
    for when, shown in reversed(timeline):
        if shown != final:
            break
        complete = when
    first = next(when for when, shown in timeline if seen in shown)
    return {"bytes": timeline[0][0], "first": first, "complete": complete, "screen": final}


def hello_world() -> tuple[float, float]:
    """Its first byte on the tty (Textual imported and running) and its first
    frame, in seconds from its start."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(HELLO)
    started = time.monotonic()
    run = Pty([sys.executable, f.name], environment(raw=True))
    try:
        shown = settle(run, started, "Hello")
        return shown["bytes"] - started, shown["first"] - started
    finally:
        run.close()
        os.unlink(f.name)


def xsconsole() -> float | None:
    """xsconsole's first frame, where it is installed (dom0)."""
    path = shutil.which("xsconsole")
    if path is None:
        return None
    started = time.monotonic()
    run = Pty([path], environment(raw=True))
    try:
        return settle(run, started, "")["complete"] - started
    finally:
        run.close()


def help_seconds() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "xstui", "--help"], capture_output=True, check=True)
    return time.monotonic() - started


def console(url: str, control: str, idle: float) -> dict:
    env = environment(raw=False)
    env["XSTUI_PASSWORD"] = "bench"
    started = time.monotonic()
    run = Pty([sys.executable, "-m", "xstui", "connect", url], env)
    try:
        shown = settle(run, started, "Memory")
        quiet = time.monotonic()  # nothing written for QUIET seconds
        rss = peak_rss_mb(run.pid)
        if idle:
            run.read(idle + LOAD_TAIL)
        log = call_log(control)
    finally:
        run.close()
    idle_from = first_idle_call(log, quiet)

    def call(method: str, since: float = started) -> float | None:
        """Seconds from the start to the first ``method`` call since ``since``."""
        return next((round(t - started, 3) for t, m in log if m == method and t >= since), None)

    return {
        # where the start's time goes, each from the process's start: the
        # login (Python and the console's own imports before it), the first
        # byte on the tty (Textual imported and running; the pool's first
        # part is read meanwhile), the pool's first part asked, the first
        # Status frame, the probes' first call after it, the complete frame
        "milestones_s": {
            "login_call": call("session.login_with_password"),
            "first_byte": round(shown["bytes"] - started, 3),
            "first_event_from": call("event.from"),
            "first_status": round(shown["first"] - started, 3),
            "probes_first_call": call("system.listMethods", shown["first"]),
            "complete_status": round(shown["complete"] - started, 3),
        },
        "first_status_s": round(shown["first"] - started, 3),
        "complete_status_s": round(shown["complete"] - started, 3),
        "peak_rss_mb": rss,
        "calls_to_first": between(log, started, shown["first"]),
        "calls_first_to_complete": between(log, shown["first"], shown["complete"]),
        "calls_complete_to_quiet": between(log, shown["complete"], idle_from),
        # the first minute once the console is idle
        "idle_calls": between(log, idle_from, idle_from + idle) if idle else {},
        "screen": shown["screen"],
    }


def median(values: list[float]) -> float:
    values = sorted(values)
    return round(values[len(values) // 2], 3)


def milestone_medians(runs: list[dict]) -> dict[str, float | None]:
    """Each milestone's median over the runs that saw it."""
    out = {}
    for key in runs[0]["milestones_s"]:
        seen = [r["milestones_s"][key] for r in runs if r["milestones_s"][key] is not None]
        out[key] = median(seen) if seen else None
    return out


def compiled() -> None:
    """The console's modules compiled, as where it is installed (the bundle
    and the RPM ship compiled bytecode; pip compiles what it installs), not
    recompiled at every start as an editable checkout is when nothing may
    write bytecode (PYTHONDONTWRITEBYTECODE): that would time the compiler."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for package in ("xstui", "screens"):
        compileall.compile_dir(os.path.join(root, package), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--pool", action="append", help="HOSTS,VMS (default: 64,4000 and 256,16000)"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--idle", type=float, default=60, help="seconds of idle to count calls")
    parser.add_argument("--show", action="store_true", help="print the complete Status screen")
    args = parser.parse_args()
    compiled()
    pools = args.pool or ["64,4000", "256,16000"]
    results: dict = {"floor_hello_world_s": [], "xsconsole_s": [], "help_s": []}
    for _ in range(args.repeat):
        results["help_s"].append(help_seconds())
        peer = xsconsole()
        if peer is not None:
            results["xsconsole_s"].append(peer)
    if results["xsconsole_s"]:
        print(f"xsconsole start to first frame: {median(results['xsconsole_s'])} s")
    print(f"xstui --help: {median(results['help_s'])} s (min {min(results['help_s']):.3f})")
    for pool in pools:
        proc, url, control = sim(f"generate:{pool}")
        runs, floors, floor_bytes = [], [], []
        try:
            for i in range(args.repeat):  # in turns: a slow spell of the machine falls on both
                first_byte, first_frame = hello_world()
                floor_bytes.append(first_byte)
                floors.append(first_frame)
                runs.append(console(url, control, args.idle if i == 0 else 0))
        finally:
            proc.terminate()
            proc.wait(10)
        results["floor_hello_world_s"] += floors
        floor = median(floors)
        print(f"floor (Textual hello-world, start to first frame, in turns): {floor} s")
        complete = [r["complete_status_s"] for r in runs]
        first = [r["first_status_s"] for r in runs]
        idle = runs[0]["idle_calls"]
        row = {
            "pool": pool,
            "complete_status_s": median(complete),
            "complete_status_min_s": min(complete),
            "first_status_s": median(first),
            "floor_hello_world_s": floor,
            "ratio_to_floor": round(median(complete) / floor, 2),
            # medians of each milestone, beside the floor's first byte
            "milestones_s": milestone_medians(runs),
            "floor_first_byte_s": median(floor_bytes),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "calls_to_first_status": sum(runs[0]["calls_to_first"].values()),
            "calls_to_first_status_by_method": runs[0]["calls_to_first"],
            "calls_first_to_complete_by_method": runs[0]["calls_first_to_complete"],
            "calls_complete_to_quiet_by_method": runs[0]["calls_complete_to_quiet"],
            "idle_calls_per_minute": round(sum(idle.values()) * 60 / args.idle, 1)
            if args.idle
            else None,
            "idle_calls_by_method": idle,
        }
        results[pool] = row
        print(json.dumps(row))
        if args.show:
            print(runs[0]["screen"])
    print(json.dumps(results))


if __name__ == "__main__":
    main()
