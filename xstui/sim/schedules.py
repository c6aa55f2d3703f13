"""The snapshot schedules' runner: what XAPI's periodic check does with the
``vmss`` plugin. Each enabled schedule runs when one of its instants (its
frequency and ``schedule`` map, in UTC) falls between the runner's last look
and now; a schedule made meanwhile waits for its next instant.

The runner keeps a clock of its own, compressed (``speed`` schedule seconds
per real second, e.g. 3600: an hour a second), so that a daily schedule
with its retention can be watched running and pruning in a demo. That
clock only finds the runs due: a run's ``last_run_time``, its snapshots'
``snapshot_time`` and names are the pool's clock, never ahead of the hosts'."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .. import clock
from .api import Caller, Ctx
from .messages import vmss

if TYPE_CHECKING:
    from .simulator import Simulator

TICK_SECONDS = 0.2  # real seconds between the runner's looks


def compressed(speed: float, start: float | None = None) -> Callable[[], float]:
    """A clock from ``start`` (default: now) running ``speed`` times as fast."""
    origin, real = clock.now() if start is None else start, time.monotonic()
    return lambda: origin + (time.monotonic() - real) * speed


def instants(frequency: str, schedule: dict, after: float, until: float) -> Iterator[float]:
    """The instants in (after, until] at which the schedule is due."""
    minute = int(schedule.get("min", "0"))
    hour = int(schedule.get("hour", "0"))
    days = {vmss.DAYS.index(d) for d in schedule.get("days", "Monday").split(",") if d}
    step = dt.timedelta(hours=1) if frequency == "hourly" else dt.timedelta(days=1)
    start = dt.datetime.fromtimestamp(after, dt.timezone.utc)
    if frequency == "hourly":
        at = start.replace(minute=minute, second=0, microsecond=0)
    else:
        at = start.replace(hour=hour, minute=minute, second=0, microsecond=0)
    while at.timestamp() <= until:
        if at.timestamp() > after and (frequency != "weekly" or at.weekday() in days):
            yield at.timestamp()
        at += step


def run_due(sim: Simulator, after: float, until: float) -> int:
    """Run each enabled schedule due in (after, until] once (a runner that
    fell behind catches up with one run, as the plugin does); how many ran."""
    ran = 0
    ctx = Ctx(sim, Caller(host=sim.master, trusted=True))
    with sim.store.lock:
        for ref, rec in list(sim.store.table("VMSS").items()):
            if not rec["enabled"] or not rec["VMs"] or sim.lacks("VMSS", "snapshot_now"):
                continue
            due = list(instants(rec["frequency"], rec["schedule"], after, until))
            if due and sim.store.exists("VMSS", ref):
                vmss.run(ctx, ref)
                ran += 1
    return ran


def start(sim: Simulator, speed: float) -> None:
    """The runner, on a clock ``speed`` times as fast, until the server closes."""
    sim.schedule_clock = compressed(speed)
    seen = sim.schedule_clock()

    def loop() -> None:
        nonlocal seen
        while not sim.perfmon_stop.wait(TICK_SECONDS):
            now = sim.schedule_clock()
            run_due(sim, seen, now)
            seen = now

    threading.Thread(target=loop, name="sim-schedules", daemon=True).start()
