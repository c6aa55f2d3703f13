"""Benchmark (on demand: ``make bench``): the fleet overview and the fleet
check (issue #26) against ``xstui sim --scenario fleet:50,8,200`` in another
process, in one run, beside the floor measured in the same run (a Textual
hello-world from its start to its first frame).

Figures, each beside its goal:
- ``xstui fleet FILE`` on a pty of 80 columns and enough lines to show every
  row (50 pools do not fit in 24): from the process's start to the moment
  each pool's row is as it then stays (read from the screen through pyte,
  row by row, by the pool's name). The pool that never answers by design
  (the fleet's fifth, "silent": it takes the connection and says nothing) is
  counted apart: the answering pools' rows are the goal's figure; the silent
  pool's row is complete when it says it does not answer, which the
  overview's per-pool timeout (FleetWatch, 10 s) bounds from below;
- the console's peak RSS (VmHWM, read from outside) once the overview is
  complete and after the idle window;
- over ``--idle`` seconds once the overview is quiet, the calls each
  answering pool's simulator answered (its call log through its control
  endpoint, as ``xstui sim-ctl URL calls`` reads it; times on the clock
  every process shares), per minute: no pool is in focus on the overview,
  so every answering pool counts; the silent pool answers no call (its
  retries are connections held unanswered, not calls), so it is left out;
- ``xstui check --fleet FILE --json`` wall time against ``xstui check URL``
  for each pool one after another, both with ``--timeout`` T: over the
  answering pools (a fleet file without the silent pool), and over the whole
  fleet (the silent pool then costs T in both)."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from tests.bench.output import Pty, environment
from tests.bench.start import between, hello_world, median, peak_rss_mb

PASSWORD = "bench"
GOALS = {"overview_s": 3.0, "peak_rss_mb": 250, "idle_calls_per_min_per_pool": 2}
QUIET = 3.0  # seconds without a row changing that end the overview's measure
# a row: the name, then its cells (not the detail line: "fleet-02 (sim) as ...")
ROW = re.compile(r"(fleet-\d+) {2,}\S.*")


def fleet_sim(scenario: str, path: str) -> tuple[subprocess.Popen, dict[str, dict]]:
    """The fleet simulator in its own process: it, and each pool's URL, kind
    and control URL (none for the silent pool) as it prints them."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "xstui", "sim", "--scenario", scenario, "--write-fleet", path]
        + ["--password", PASSWORD],
        stdout=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    pools: dict[str, dict] = {}
    for line in proc.stdout:
        words = line.split()
        if words[:1] and words[0].startswith("fleet-"):
            control = words[words.index("control") + 1] if "control" in words else ""
            pools[words[0]] = {"url": words[1], "kind": words[2], "control": control}
        if line.startswith("Ctrl-C to stop"):
            return proc, pools
    raise RuntimeError("the fleet simulator did not start")


def call_log(control: str) -> list[tuple[float, str]]:
    out = subprocess.run(
        [sys.executable, "-m", "xstui", "sim-ctl", control, "calls", "--password", PASSWORD],
        capture_output=True,
        text=True,
        check=True,
    )
    return [(t, m) for t, m in json.loads(out.stdout)["log"]]


def rows_of(screen: list[str]) -> dict[str, str]:
    """Each pool's row on the screen, by its name."""
    return {m.group(1): m.group(0).rstrip() for line in screen if (m := ROW.match(line.strip()))}


def overview(path: str, pools: dict[str, dict], limit: float) -> tuple[Pty, dict]:
    """Start ``xstui fleet FILE``; read until every pool's row is shown, the
    silent pool says it does not answer, and no row changes for QUIET s."""
    env = environment(raw=False)
    env["XSTUI_PASSWORD"] = PASSWORD
    lines = len(pools) + 8  # title, header, rows, detail, footer
    started = time.monotonic()
    run = Pty([sys.executable, "-m", "xstui", "fleet", path], env, cols=80, rows=lines)
    timeline: list[tuple[float, dict[str, str]]] = []
    silent = [n for n, p in pools.items() if p["kind"] == "silent"]
    deadline = started + limit
    changed = time.monotonic()
    while time.monotonic() < deadline:
        got = run.pump(0.05)
        if got is None:
            break
        if got:
            rows = rows_of(run.screen.display)
            if not timeline or rows != timeline[-1][1]:
                timeline.append((time.monotonic(), rows))
                changed = time.monotonic()
        elif (
            timeline
            and set(timeline[-1][1]) == set(pools)
            and all("connecting" not in row for row in timeline[-1][1].values())
            and time.monotonic() - changed >= QUIET
        ):
            break
    else:
        raise RuntimeError(f"the overview was not complete within {limit:g} s")
    final = timeline[-1][1]

    def settled(name: str) -> float:
        """The first moment from which this pool's row stays as it ends."""
        when = timeline[-1][0]
        for moment, rows in reversed(timeline):
            if rows.get(name) != final[name]:
                break
            when = moment
        return when - started

    answering = [n for n in pools if n not in silent]
    return run, {
        "answering_s": round(max(settled(n) for n in answering), 3),
        "silent_s": round(max((settled(n) for n in silent), default=0.0), 3),
        "first_row_s": round(
            next(t for t, rows in timeline if any("connecting" not in r for r in rows.values()))
            - started,
            3,
        ),
        "quiet_at": time.monotonic(),
        "rows": final,
        "silent": silent,
    }


def check_fleet(path: str, timeout: float) -> tuple[float, dict]:
    env = dict(os.environ, XSTUI_PASSWORD=PASSWORD)
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "xstui", "check", "--fleet", path, "--json"]
        + ["--timeout", f"{timeout:g}"],
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.monotonic() - started
    states: dict[str, int] = {}
    for pool in json.loads(out.stdout)["pools"]:
        states[pool["state"]] = states.get(pool["state"], 0) + 1
    return round(wall, 2), {"exit": out.returncode, "states": states}


def check_one_by_one(urls: list[str], timeout: float) -> tuple[float, dict[int, int]]:
    env = dict(os.environ, XSTUI_PASSWORD=PASSWORD)
    exits: dict[int, int] = {}
    started = time.monotonic()
    for url in urls:
        code = subprocess.run(
            [sys.executable, "-m", "xstui", "check", url, "--timeout", f"{timeout:g}"],
            capture_output=True,
            env=env,
        ).returncode
        exits[code] = exits.get(code, 0) + 1
    return round(time.monotonic() - started, 2), exits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fleet", default="50,8,200", help="POOLS,HOSTS,VMS")
    parser.add_argument("--idle", type=float, default=60, help="seconds of idle to count calls")
    parser.add_argument("--timeout", type=float, default=10, help="checks' per-pool timeout")
    parser.add_argument("--show", action="store_true", help="print the overview's rows")
    args = parser.parse_args()
    floor = median([hello_world() for _ in range(3)])
    work = Path(tempfile.mkdtemp(prefix="xstui-bench-fleet-"))
    path = str(work / "fleet.yaml")
    proc, pools = fleet_sim(f"fleet:{args.fleet}", path)
    try:
        run, shown = overview(path, pools, limit=120)
        try:
            rss_complete = peak_rss_mb(run.pid)
            quiet = shown["quiet_at"]
            run.read(args.idle)
            end = time.monotonic()
            rss_idle = peak_rss_mb(run.pid)
        finally:
            run.close()
        per_pool, methods = {}, {}
        for name, pool in pools.items():
            if pool["control"]:
                calls = between(call_log(pool["control"]), quiet, end)
                per_pool[name] = sum(calls.values()) * 60 / args.idle
                for method, n in calls.items():
                    methods[method] = methods.get(method, 0) + n
        answering_file = str(work / "answering.yaml")
        entries = yaml.safe_load(Path(path).read_text())
        Path(answering_file).write_text(
            yaml.safe_dump([e for e in entries if e["name"] not in shown["silent"]])
        )
        answering_urls = [p["url"] for n, p in pools.items() if n not in shown["silent"]]
        fleet_answering, fleet_answering_out = check_fleet(answering_file, args.timeout)
        serial_answering, serial_answering_exits = check_one_by_one(answering_urls, args.timeout)
        fleet_all, fleet_all_out = check_fleet(path, args.timeout)
        silent_urls = [pools[n]["url"] for n in shown["silent"]]
        serial_silent, _ = check_one_by_one(silent_urls, args.timeout)
    finally:
        proc.terminate()
        proc.wait(30)
    idle = sorted(per_pool.values())
    result = {
        "fleet": args.fleet,
        "floor_hello_world_s": floor,
        "overview_answering_pools_complete_s": shown["answering_s"],
        "overview_goal_s": GOALS["overview_s"],
        "overview_ratio_to_floor": round(shown["answering_s"] / floor, 1),
        "overview_first_complete_row_s": shown["first_row_s"],
        "overview_silent_pool_said_s": shown["silent_s"],
        "silent_pools": shown["silent"],
        "peak_rss_mb_complete": rss_complete,
        "peak_rss_mb_after_idle": rss_idle,
        "peak_rss_goal_mb": GOALS["peak_rss_mb"],
        "idle_window_s": args.idle,
        "idle_calls_per_min_per_pool_max": round(idle[-1], 2),
        "idle_calls_per_min_per_pool_mean": round(sum(idle) / len(idle), 2),
        "idle_pools_counted": len(idle),
        "idle_calls_by_method_all_pools": methods,
        "idle_calls_goal_per_min_per_pool": GOALS["idle_calls_per_min_per_pool"],
        "check_timeout_s": args.timeout,
        "check_fleet_answering_s": fleet_answering,
        "check_one_by_one_answering_s": serial_answering,
        "check_speedup_answering": round(serial_answering / fleet_answering, 1),
        "check_fleet_answering": fleet_answering_out,
        "check_one_by_one_answering_exits": serial_answering_exits,
        "check_fleet_all_s": fleet_all,
        "check_one_by_one_all_s": round(serial_answering + serial_silent, 2),
        "check_fleet_all": fleet_all_out,
    }
    if args.show:
        print("\n".join(shown["rows"].values()))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
