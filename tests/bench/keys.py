"""Benchmark (on demand: ``make bench``): key to screen, measured from
outside the process on a pty at 80x24 TERM=linux, beside its floor measured
in the same run: a Textual app of the Status screen's five tabs
(TabbedContent and a footer) switched by the same keys.

A sample is the time from writing a key to the pty until the terminal
has the bytes that show the tab the key asks for (read from the pty; pyte,
the stand-in terminal, then says whether they show it). Tab keys alternate ``p`` (Pool) and
``h`` (Host), after a short quiet. Rows, p50 / p95 in ms:
- the floor;
- the console on a generated pool (``xstui sim --scenario generate:H,V`` in
  another process), idle, and while another client makes ~500 changes a
  second (VM names: the cache keeps them, the Status screen does not show
  them), with each p95's ratio to the floor's.
The floor and the console run side by side (the simulator already up) and
are measured in turns of ``ROUND`` keys: a slower or faster spell of the
machine falls on both, not on whichever ran first. Under load the floor is
measured in turns too, while the same changes are made: on a small machine
the simulator and the client making them take CPU from any process, and
that floor tells the machine's share from the console's.
Goal (issue #24): tab key p95 <= 1.25x the floor's, idle and under load
(printed against the idle floor, as the issue set it, and against the floor
under the same load)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time

from tests.bench.output import Pty, environment
from tests.bench.start import sim

FLOOR = """
from textual.app import App
from textual.binding import Binding
from textual.widgets import Footer, Static, TabbedContent, TabPane

TABS = ("Host", "Pool", "Storage", "Health", "Load")


class Floor(App):
    BINDINGS = [Binding(t[0].lower(), f"show('{t.lower()}')", t) for t in TABS]

    def compose(self):
        with TabbedContent(initial="host"):
            for t in TABS:
                with TabPane(t, id=t.lower()):
                    yield Static("\\n".join(f"{t} line {i}: " + "x" * 50 for i in range(24)))
        yield Footer()

    def action_show(self, tab):
        self.query_one(TabbedContent).active = tab


Floor().run()
"""
SETTLE = 0.25  # seconds without output before a key is pressed
LIMIT = 20.0  # seconds a key may take before the run is called broken


def shows(run: Pty, text: str) -> bool:
    return text in "\n".join(run.screen.display)


def settle(run: Pty, most: float = 2.0) -> None:
    """Until nothing is written for SETTLE seconds (at most ``most``: under
    load the screen may never be still)."""
    end = time.monotonic() + most
    while time.monotonic() < end:
        if run.pump(SETTLE) is False:
            return


def press(run: Pty, key: bytes, mark: str) -> float:
    """Milliseconds from writing ``key`` to the screen showing ``mark``."""
    settle(run)
    started = time.monotonic()
    os.write(run.fd, key)
    while not shows(run, mark):
        if run.pump(0.5) is None or time.monotonic() - started > LIMIT:
            raise RuntimeError(f"{key!r}: {mark!r} not shown within {LIMIT:g} s")
    return (run.read_at - started) * 1000  # the bytes' arrival, not pyte's drawing them


def percentiles(samples: list[float]) -> list[float]:
    samples = sorted(samples)
    return [
        round(samples[len(samples) // 2], 1),
        round(samples[max(0, int(len(samples) * 0.95) - 1)], 1),
    ]


def tab_keys(run: Pty, host_mark: str, pool_mark: str, presses: int) -> list[float]:
    return [
        press(run, b"p", pool_mark) if i % 2 == 0 else press(run, b"h", host_mark)
        for i in range(presses)
    ]


def floor_app() -> Pty:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(FLOOR)
    run = Pty([sys.executable, f.name], environment(raw=True))
    try:
        run.until_quiet(seen="Host line 0")
    except BaseException:
        run.close()
        raise
    finally:
        os.unlink(f.name)  # read by then, or never to be
    return run


def churn(url: str, stop: threading.Event, rate: dict, per_second: int = 500) -> None:
    """Another client renaming VMs, ~``per_second`` a second."""
    import XenAPI

    session = XenAPI.Session(url)
    session.xenapi.login_with_password("root", "bench", "1.0", "bench-churn")
    vms = session.xenapi.VM.get_all()[:200]
    started, i = time.monotonic(), 0
    while not stop.is_set():
        tick = time.monotonic()
        for _ in range(per_second // 10):
            session.xenapi.VM.set_name_label(vms[i % len(vms)], f"churn {i}")
            i += 1
        stop.wait(max(0.0, 0.1 - (time.monotonic() - tick)))
    rate["per_second"] = round(i / (time.monotonic() - started))


ROUND = 10  # keys in a turn, the floor's then the console's


def console(url: str, presses: int) -> dict:
    env = environment(raw=False)
    env["XSTUI_PASSWORD"] = "bench"
    floor = floor_app()
    run = Pty([sys.executable, "-m", "xstui", "connect", url], env)
    try:
        run.until_quiet(seen="Memory")
        samples: dict[str, list[float]] = {"floor": [], "idle": [], "floor_busy": [], "busy": []}

        def turns(floor_key: str, console_key: str) -> None:
            for _ in range(max(1, presses // ROUND)):
                samples[floor_key] += tab_keys(floor, "Host line 0", "Pool line 0", ROUND)
                samples[console_key] += tab_keys(run, "Management interface", "of 64 live", ROUND)

        turns("floor", "idle")
        stop, rate = threading.Event(), {}
        worker = threading.Thread(target=churn, args=(url, stop, rate), daemon=True)
        worker.start()
        try:
            turns("floor_busy", "busy")  # the floor under the same load on the machine
        finally:
            stop.set()
            worker.join(10)
        return {**samples, "changes_per_second": rate.get("per_second")}
    finally:
        run.close()
        floor.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pool", default="64,4000", help="HOSTS,VMS")
    parser.add_argument("--presses", type=int, default=60)
    args = parser.parse_args()
    proc, url, _control = sim(f"generate:{args.pool}")
    try:
        got = console(url, args.presses)
    finally:
        proc.terminate()
        proc.wait(10)
    floor_ms, floor_busy = percentiles(got["floor"]), percentiles(got["floor_busy"])
    print(f"floor (Textual TabbedContent app), tab key p50/p95: {floor_ms} ms")
    print(f"same floor while the console's pool changes: {floor_busy} ms")
    idle, busy = percentiles(got["idle"]), percentiles(got["busy"])
    row = {
        "pool": args.pool,
        "floor_tab_key_ms_p50_p95": floor_ms,
        "floor_under_load_ms_p50_p95": floor_busy,
        "tab_key_ms_p50_p95_idle": idle,
        "tab_key_ms_p50_p95_busy": busy,
        "changes_per_second": got["changes_per_second"],
        "ratio_p95_idle": round(idle[1] / floor_ms[1], 2),
        "ratio_p95_busy": round(busy[1] / floor_ms[1], 2),
        "ratio_p95_busy_to_floor_under_load": round(busy[1] / floor_busy[1], 2),
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
