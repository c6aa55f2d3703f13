"""Benchmark (on demand: ``make bench``): the console's cost of the live
figures on a generated 64-host, 4000-VM pool. The simulator makes each host's
rrd_updates answers (the first: 10 minutes; then one refresh's rows) once,
beforehand; the console's own service (xstui.services.metrics) then reads
them as it would from the wire, one per host, and sorts the running VMs as
the Top tab does. Prints JSON: the console's CPU seconds per refresh (the
goal: under 10 % of a core at one refresh every 5 s, so < 0.5 s), and the
bytes on the wire per refresh (XAPI repeats every column's legend in each
answer: most of an incremental answer is its legend)."""

from __future__ import annotations

import json
import time

HOSTS, VMS = 64, 4000
REFRESH_SECONDS = 5


def main() -> None:
    from xstui.areas import watched_types
    from xstui.services.metrics import Metrics
    from xstui.sim import rrd
    from xstui.sim.scenario import build, generate
    from xstui.sim.simulator import Simulator
    from xstui.xapi.cache import Cache

    st = build(generate(HOSTS, VMS))
    sim = Simulator(st)
    now = int(sim.clock()) // 5 * 5
    sim.clock = lambda: now + 2.5  # every host's answer made at the same instant
    answers: dict[str, dict[str, bytes]] = {}
    for host in st.table("host"):
        rrds = rrd.rrds_of(sim, host, with_host=True, vm_uuid="all")
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
    out = {"hosts": HOSTS, "vms": VMS}
    for kind in ("first", "next"):
        which[0] = kind
        cpu = time.process_time()
        metrics.refresh(cache)
        rows = metrics.vms(cache, "cpu")
        shown = [r.figures.history for r in rows[:20]]  # what the Top tab draws at 80x24
        out[f"{kind}_cpu_seconds"] = round(time.process_time() - cpu, 3)
        out[f"{kind}_bytes"] = sum(len(a[kind]) for a in answers.values())
    out["running_vms"] = len(rows)
    out["drawn"] = len(shown)
    out["cpu_share_at_5s"] = round(out["next_cpu_seconds"] / REFRESH_SECONDS, 3)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
