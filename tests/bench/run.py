"""Benchmarks (run on demand: ``make bench`` or ``python -m tests.bench.run``).

For the demo pool and generated 64-host / 4000-VM and 128 / 8000 pools, with and without
100 ms of simulated latency, prints JSON figures:
- seconds from login to a complete Status screen, and from before Textual and
  xstui are imported (goal: under 1 s on 64/4000);
- XAPI calls after login until then (target: at most 3);
- XAPI calls per idle minute (target: at most 3);
- peak RSS of the console process (goal: under 120 MB on 64/4000, growing
  slower than the pool past it);
- key-to-screen latency of a tab key, p50/p95 in ms, idle and while another
  client makes ~500 changes a second (goal: p95 under 50 ms);
- calls per second one client gets from the simulator (kept-alive connection).
Each case runs in its own process (the simulator in another) so RSS is the
console's alone."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import threading
import time

CASES = {"demo": "demo", "big": "generate:64,4000", "huge": "generate:128,8000"}


def start_sim(scenario: str, latency: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xstui",
            "sim",
            "--scenario",
            scenario,
            "--password",
            "bench",
            "--latency",
            str(latency),
            "--address",
            "127.0.0.1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("simulator did not start")
        if line.strip().startswith("master"):
            return proc, line.split()[1]


async def measure(url: str, idle_seconds: float) -> dict:
    imports_started = time.perf_counter()  # nothing of Textual or xstui is imported yet
    from textual.widgets import TabbedContent
    from xstui.screens.status import StatusScreen

    from xstui.app import XstuiApp
    from xstui.areas import watched_types
    from xstui.xapi.connection import Connection
    from xstui.xapi.targets import parse_target

    started = time.perf_counter()
    conn = Connection(parse_target(url), "root", "bench", watch=watched_types())
    conn.login()
    calls_at_login = conn.calls - 1  # session.get_record is counted; login itself is not
    app = XstuiApp(conn)
    async with app.run_test(size=(120, 40)) as pilot:
        while not (isinstance(app.screen, StatusScreen) and app.screen.status is not None):
            await pilot.pause(0.01)
        first_status = time.perf_counter() - started
        from_imports = time.perf_counter() - imports_started
        calls_to_status = conn.calls - calls_at_login
        render_started = time.perf_counter()
        app.screen.refresh_view()
        redraw = time.perf_counter() - render_started
        idle_from = conn.calls
        await asyncio.sleep(idle_seconds)
        idle_calls = conn.calls - idle_from
        quiet = await key_latencies(pilot, app, TabbedContent)
        stop = threading.Event()
        rate = {"changes": 0}
        churn = threading.Thread(target=change_stream, args=(url, stop, rate), daemon=True)
        churn.start()
        churn_started = time.perf_counter()
        busy = await key_latencies(pilot, app, TabbedContent)
        stop.set()
        churn.join(5)
        changes_per_second = rate["changes"] / (time.perf_counter() - churn_started)
        vms_first, filter_ms = await vms_figures(pilot, app)
    conn.close()
    return {
        "first_status_seconds": round(first_status, 3),
        "imports_and_first_status_seconds": round(from_imports, 3),
        "calls_after_login_until_status": calls_to_status,
        "redraw_seconds": round(redraw, 4),
        "idle_calls_per_minute": round(idle_calls * 60 / idle_seconds, 2) if idle_seconds else None,
        "idle_seconds_measured": idle_seconds,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "objects_cached": sum(len(t) for t in conn.cache.records.values()),
        "key_to_screen_ms_idle_p50_p95": quiet,
        "key_to_screen_ms_busy_p50_p95": busy,
        "changes_per_second_streamed": round(changes_per_second),
        "vms_first_full_list_seconds": round(vms_first, 3),
        "vms_filter_key_to_screen_ms_p50_p95": filter_ms,
        "sim_calls_per_second_one_client": sim_calls_per_second(url),
    }


async def key_latencies(pilot, app, tabbed, presses: int = 60) -> list[float]:
    """Milliseconds from a tab key arriving to the tab shown and painted
    (the key is posted as the terminal driver would; no waiting for idle)."""
    from textual import events

    samples = []
    for i in range(presses):
        key, tab = ("p", "pool") if i % 2 == 0 else ("h", "host")
        painted = asyncio.get_running_loop().create_future()
        start = time.perf_counter()
        app.post_message(events.Key(key, key))
        while app.screen.query_one(tabbed).active != tab:
            await asyncio.sleep(0.001)
        app.call_after_refresh(lambda f=painted: f.done() or f.set_result(None))
        await painted
        samples.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0.05)
    samples.sort()
    return [round(samples[len(samples) // 2], 1), round(samples[int(len(samples) * 0.95) - 1], 1)]


async def vms_figures(pilot, app, presses: int = 60) -> tuple[float, list[float]]:
    """Seconds from F8 to the VMs area listing every VM, then milliseconds from
    a key typed in its filter to the filtered list painted (typing and erasing
    a VM's name, so each key changes what is shown)."""
    from textual import events
    from xstui.screens.vms import VmsScreen

    from xstui.widgets.rowlist import RowList

    start = time.perf_counter()
    app.post_message(events.Key("f8", None))
    while not (isinstance(app.screen, VmsScreen) and app.screen.all_rows):
        await asyncio.sleep(0.001)
    listing = app.screen.query_one(RowList)
    while len(listing.rows) != len(app.screen.all_rows):
        await asyncio.sleep(0.001)
    first = time.perf_counter() - start
    await pilot.press("slash")
    word = "vm-0123"
    samples = []
    for i in range(presses):
        typed = len(app.screen.query_one("#vm-filter").value)
        key = word[typed] if i % 14 < 7 else "backspace"
        before = listing.rows
        painted = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        app.post_message(events.Key(key, key if len(key) == 1 else None))
        while listing.rows is before:
            await asyncio.sleep(0.0005)
        app.call_after_refresh(lambda f=painted: f.done() or f.set_result(None))
        await painted
        samples.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.02)
    samples.sort()
    return first, [
        round(samples[len(samples) // 2], 1),
        round(samples[int(len(samples) * 0.95) - 1], 1),
    ]


def change_stream(url: str, stop: threading.Event, rate: dict, per_second: int = 500) -> None:
    """Another client renaming VMs, ~500 changes a second (VM names are kept
    by the cache, so every change reaches the Status model and its redraw)."""
    import XenAPI

    session = XenAPI.Session(url)
    session.xenapi.login_with_password("root", "bench", "1.0", "bench-churn")
    vms = session.xenapi.VM.get_all()[:200]
    i = 0
    while not stop.is_set():
        tick = time.perf_counter()
        for _ in range(per_second // 10):
            session.xenapi.VM.set_name_label(vms[i % len(vms)], f"churn {i}")
            i += 1
        rate["changes"] = i
        time.sleep(max(0.0, 0.1 - (time.perf_counter() - tick)))


def sim_calls_per_second(url: str, calls: int = 300) -> int:
    import XenAPI

    session = XenAPI.Session(url)
    session.xenapi.login_with_password("root", "bench", "1.0", "bench-calls")
    start = time.perf_counter()
    for _ in range(calls):
        session.xenapi.pool.get_all()
    return round(calls / (time.perf_counter() - start))


def run_case(case: str, latency: float, idle: float) -> dict:
    proc, url = start_sim(CASES[case], latency)
    try:
        result = asyncio.run(measure(url, idle))
    finally:
        proc.terminate()
        proc.wait(10)
    return {"case": case, "latency_ms": latency, **result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", choices=sorted(CASES))
    parser.add_argument("--latency", type=float, default=0)
    parser.add_argument(
        "--idle", type=float, default=65, help="seconds of idle to count calls over"
    )
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.latency, args.idle)))
        return
    results = []
    for case in CASES:
        for latency in (0, 100):
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tests.bench.run",
                    "--case",
                    case,
                    "--latency",
                    str(latency),
                    "--idle",
                    str(args.idle),
                ],
                capture_output=True,
                text=True,
            )
            if out.returncode:
                results.append(
                    {
                        "case": case,
                        "latency_ms": latency,
                        "error": out.stderr.strip().splitlines()[-1:],
                    }
                )
            else:
                results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
