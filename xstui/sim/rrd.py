"""Performance data as XAPI's xcp-rrdd keeps it: one round-robin database
(RRD) per host and per running VM, on the host the VM runs on.

Each RRD has XAPI's four timescales (5 s for 10 min, 1 min for 2 h, 1 h for
a week, 1 day for a year); the 5-second archive keeps AVERAGE only, the
others AVERAGE, MIN and MAX, as rrdd's ``create_rras`` makes them. The data
sources have rrdd's names: a host's ``cpu0``…, ``cpu_avg``, ``loadavg``,
``memory_total_kib``, ``memory_free_kib``, ``pif_<dev>_rx/tx``,
``pif_aggr_rx/tx``, ``io_throughput_{read,write,total}_<SR uuid[:8]>``; a VM's
``cpu0``…, ``memory``, ``memory_target``, ``memory_internal_free``,
``vif_<n>_rx/tx``, ``vbd_<dev>_read/write``.

Nothing is stored: every value is a function of the scenario's seed, the
object's UUID, its load profile and the time of the row, so the same
simulator clock always gives the same figures (tests pin ``Simulator.clock``).
The load follows the scenario's ``load:`` (busy VMs, a noisy neighbour), a
host's free memory its ``host_metrics`` (one figure for every screen), and
the pool's state: a VM has an RRD only while
running or paused, on the host it is resident on, with no data before it
started; a host's figures sum those of the VMs it runs.

Output is the text XAPI sends: ``rrd_updates`` as rrdtool's xport XML (or
XAPI's JSON, every number a string) and the full RRD as rrd XML (or JSON).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import XapiError
from .schema import XDate

STEP = 5
# (PDPs per row, rows): rrdd's timescales
TIMESCALES = ((1, 120), (12, 120), (720, 168), (17280, 366))
CFS = ("AVERAGE", "MIN", "MAX")
KiB, MiB = 1024, 1024 * 1024
DAY = 86400
_GOLDEN = 0.6180339887498949


class NoRRA(Exception):
    """rrd's No_RRA_Available: nothing to export."""


def archives() -> list[tuple[str, int, int]]:
    """(cf, pdp per row, rows) of every RRA, in rrdd's order."""
    out = []
    for pdp, rows in TIMESCALES:
        for cf in CFS if pdp > 1 else ("AVERAGE",):
            out.append((cf, pdp, rows))
    return out


def f_to_s(value: float) -> str:
    """rrd's float printer (Utils.f_to_s): ``%0.5g``, "0.0", "NaN", "Infinity"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0.0"
    return f"{value:0.5g}"


# deterministic noise ----------------------------------------------------------------------
def _key(*parts: object) -> int:
    text = ":".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _unit(key: int, slot: int) -> float:
    """A number in [0, 1) for (key, slot): splitmix64."""
    z = (key + (slot + 1) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return ((z ^ (z >> 31)) >> 11) / float(1 << 53)


# a row's figure: (average, min, max) over the ``span`` seconds ending at ``t``
Sample = tuple[float, float, float]


@dataclass
class Source:
    name: str
    units: str
    description: str
    fn: Callable[[float, int], Sample]
    lo: float = 0.0
    hi: float = math.inf
    kind: str = "GAUGE"
    since: float = -math.inf  # no data before (a VM's start)

    def sample(self, t: float, span: int) -> Sample:
        if t < self.since:
            return (math.nan, math.nan, math.nan)
        return self.fn(t, span)


@dataclass
class Rrd:
    prefix: str  # "host:<uuid>:" or "vm:<uuid>:"
    last_updated: int
    sources: list[Source] = field(default_factory=list)

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)


# load profiles -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Profile:
    kind: str  # busy, noisy, normal
    cpu: float  # mean per-vCPU fraction
    net: float  # bytes/s received per VIF
    disk: float  # bytes/s read per disk
    mem_used: float  # fraction of its memory the guest uses
    key: int


def profile(sim, vm: str) -> Profile:
    st = sim.store
    rec = st.get("VM", vm)
    load = getattr(st, "load", {}) or {}
    key = _key(st.seed, rec["uuid"])
    u = [_unit(key, -i - 1) for i in range(4)]
    name = rec["name_label"]
    if name in load.get("busy", []):
        return Profile("busy", 0.7 + 0.2 * u[0], 8e6 + 12e6 * u[1], 2e7 + 4e7 * u[2], 0.86, key)
    if name in load.get("noisy", []):
        return Profile("noisy", 0.08, 3e7, 1.5e8, 0.7, key)
    return Profile(
        "normal", 0.03 + 0.17 * u[0], 3e4 + 1.5e6 * u[1], 5e4 + 2.5e6 * u[2], 0.35 + 0.3 * u[3], key
    )


def _shape(p: Profile, t: float) -> float:
    """The load level (0..1) at ``t``, before noise: a daily wave; the noisy
    neighbour saturates for 2.5 minutes out of every 5."""
    phase = (p.key % 1000) / 1000
    if p.kind == "noisy":
        return 0.97 if (t + phase * 300) % 300 < 150 else p.cpu
    wave = 0.12 * p.cpu * math.sin(2 * math.pi * (t / DAY + phase))
    return min(1.0, max(0.0, p.cpu + wave))


def _level(p: Profile, key: int, t: float, span: int, amp: float) -> Sample:
    """(avg, min, max) of the load over the row: the shape sampled across the
    row plus noise that shrinks with the row's length."""
    if span <= STEP:
        points = [_shape(p, t - STEP / 2)]
    else:
        points = [_shape(p, t - span * ((i * _GOLDEN) % 1.0)) for i in range(12)]
    jitter = amp * math.sqrt(STEP / span)
    noise = (2 * _unit(key, int(t // span)) - 1) * jitter
    avg = sum(points) / len(points) + noise
    if span <= STEP:
        return avg, avg, avg
    lo = min(points) - amp * (0.5 + _unit(key, int(t // span) + 7))
    hi = max(points) + amp * (0.5 + _unit(key, int(t // span) + 11))
    return avg, min(lo, avg), max(hi, avg)


def _clamp(sample: Sample, lo: float, hi: float) -> Sample:
    a, b, c = sample
    return (min(hi, max(lo, a)), min(hi, max(lo, b)), min(hi, max(lo, c)))


def _scaled(sample: Sample, factor: float) -> Sample:
    return tuple(v * factor for v in sample)  # type: ignore[return-value]


def _xdate(text: str) -> float:
    try:
        return (
            dt.datetime.strptime(text, "%Y%m%dT%H:%M:%SZ")
            .replace(tzinfo=dt.timezone.utc)
            .timestamp()
        )
    except (TypeError, ValueError):
        return -math.inf


# the RRDs ----------------------------------------------------------------------------------
def live(sim, vm: str) -> bool:
    return sim.store.get("VM", vm)["power_state"] in ("Running", "Paused")


def _now(sim) -> int:
    return int(sim.clock() // STEP * STEP)


def _vm_parts(sim, vm: str):
    """The per-VM signal functions the VM's and its host's RRDs share."""
    st = sim.store
    rec = st.get("VM", vm)
    p = profile(sim, vm)
    paused = rec["power_state"] == "Paused"
    vcpus = max(1, int(rec["VCPUs_at_startup"] or 1))

    amp = 0.04 if p.kind == "busy" else 0.03
    keys: dict[int, int] = {}
    memo: dict[tuple, Sample] = {}

    def cpu(t: float, span: int, k: int = -1) -> Sample:
        if paused:
            return (0.0, 0.0, 0.0)
        got = memo.get((t, span, k))
        if got is None:
            key = keys.get(k) or keys.setdefault(k, _key(p.key, "cpu", k))
            got = memo[(t, span, k)] = _clamp(_level(p, key, t, span, amp), 0.0, 1.0)
        return got

    def io(base: float, salt: str) -> Callable[[float, int], Sample]:
        key = _key(p.key, salt)
        seen: dict[tuple[float, int], Sample] = {}  # the VM's and its host's RRDs share a row

        def fn(t: float, span: int) -> Sample:
            got = seen.get((t, span))
            if got is None:
                got = seen[(t, span)] = made(t, span)
            return got

        def made(t: float, span: int) -> Sample:
            if paused:
                return (0.0, 0.0, 0.0)
            level = cpu(t, span)[0]
            if p.kind == "noisy":  # its I/O follows its bursts
                scale = base * (0.1 + level)
            else:
                scale = base * (0.5 + level) / (0.5 + p.cpu)
            wobble = 0.8 + 0.4 * _unit(key, int(t // span))
            avg = scale * wobble
            return _clamp(
                (avg, avg * 0.4 if span > STEP else avg, avg * 1.9 if span > STEP else avg),
                0,
                math.inf,
            )

        return fn

    return rec, p, vcpus, cpu, io


def vm_rrd(sim, vm: str) -> Rrd | None:
    """The VM's RRD, None when it is not running or paused."""
    st = sim.store
    if not live(sim, vm):
        return None
    rec, p, vcpus, cpu, io = _vm_parts(sim, vm)
    since = (
        _xdate(st.get("VM_metrics", rec["metrics"])["start_time"])
        if st.exists("VM_metrics", rec["metrics"])
        else -math.inf
    )
    rrd = Rrd(f"vm:{rec['uuid']}:", _now(sim))
    add = rrd.sources.append
    for k in range(vcpus):
        add(
            Source(
                f"cpu{k}",
                "(fraction)",
                f"CPU{k} usage",
                lambda t, span, k=k: cpu(t, span, k),
                hi=1.0,
                since=since,
            )
        )
    memory = float(rec["memory_target"] or rec["memory_dynamic_max"])
    add(
        Source(
            "memory",
            "B",
            "Memory currently allocated to VM",
            lambda t, s: (memory,) * 3,
            since=since,
        )
    )
    add(
        Source(
            "memory_target",
            "B",
            "Target of VM balloon driver",
            lambda t, s: (memory,) * 3,
            since=since,
        )
    )

    def free(t: float, span: int) -> Sample:
        used = min(0.99, p.mem_used + 0.05 * (cpu(t, span)[0] - p.cpu))
        v = memory / KiB * (1 - used)
        return (v, v * 0.95, v * 1.05) if span > STEP else (v, v, v)

    add(
        Source(
            "memory_internal_free",
            "KiB",
            "Memory used as reported by the guest agent",
            free,
            since=since,
        )
    )
    for vif in sorted(rec["VIFs"], key=lambda v: st.get("VIF", v)["device"]):
        dev = st.get("VIF", vif)["device"]
        rx = io(p.net, f"vif{dev}rx")
        add(
            Source(
                f"vif_{dev}_rx",
                "B/s",
                f"Bytes per second received on virtual interface number '{dev}'",
                rx,
                kind="DERIVE",
                since=since,
            )
        )
        add(
            Source(
                f"vif_{dev}_tx",
                "B/s",
                f"Bytes per second transmitted on virtual interface number '{dev}'",
                _ratio(io(p.net, f"vif{dev}tx"), 0.6),
                kind="DERIVE",
                since=since,
            )
        )
    for dev, _sr in _disks(sim, vm):
        add(
            Source(
                f"vbd_{dev}_read",
                "B/s",
                f"Reads from device '{dev}' in bytes per second",
                io(p.disk, f"{dev}r"),
                kind="DERIVE",
                since=since,
            )
        )
        add(
            Source(
                f"vbd_{dev}_write",
                "B/s",
                f"Writes to device '{dev}' in bytes per second",
                _ratio(io(p.disk, f"{dev}w"), 0.5),
                kind="DERIVE",
                since=since,
            )
        )
    return rrd


def _ratio(fn: Callable[[float, int], Sample], factor: float) -> Callable[[float, int], Sample]:
    return lambda t, span: _scaled(fn(t, span), factor)


def _disks(sim, vm: str) -> list[tuple[str, str]]:
    """(device, SR ref) of the VM's attached disks."""
    st = sim.store
    out = []
    for vbd in st.get("VM", vm)["VBDs"]:
        b = st.get("VBD", vbd)
        if b["type"] == "Disk" and b["device"] and st.exists("VDI", b["VDI"]):
            out.append((b["device"], st.get("VDI", b["VDI"])["SR"]))
    return sorted(out)


def host_rrd(sim, host: str) -> Rrd:
    st = sim.store
    rec = st.get("host", host)
    metrics = st.table("host_metrics").get(rec["metrics"], {})
    total = float(metrics.get("memory_total", 0))
    free_now = float(metrics.get("memory_free", 0))
    ncpu = len(rec["host_CPUs"]) or int(rec["cpu_info"].get("cpu_count", "0") or 0) or 1
    hkey = _key(st.seed, rec["uuid"])
    vms = [
        v
        for v in rec["resident_VMs"]
        if st.exists("VM", v) and not st.get("VM", v)["is_control_domain"] and live(sim, v)
    ]
    parts = [_vm_parts(sim, v) for v in vms]

    memo: dict[tuple, Sample] = {}

    def busy(t: float, span: int) -> Sample:
        """pCPUs worth of work: every VM's vCPUs, and dom0's."""
        got = memo.get((t, span))
        if got is None:
            total_ = [0.25, 0.2, 0.3]
            for _rec, _p, vcpus, cpu, _io in parts:
                s = cpu(t, span)
                for i in range(3):
                    total_[i] += s[i] * vcpus
            got = memo[(t, span)] = tuple(total_)  # type: ignore[assignment]
        return got

    def cpu_avg(t: float, span: int) -> Sample:
        return _clamp(_scaled(busy(t, span), 1 / ncpu), 0.0, 1.0)

    rrd = Rrd(f"host:{rec['uuid']}:", _now(sim))
    add = rrd.sources.append
    for k in range(ncpu):

        def one(t: float, span: int, k: int = k, key: int = _key(hkey, "cpu", k)) -> Sample:
            avg = cpu_avg(t, span)
            u = _unit(key, int(t // span))
            return _clamp(_scaled(avg, 0.7 + 0.6 * u), 0.0, 1.0)

        add(Source(f"cpu{k}", "(fraction)", f"Physical cpu usage for cpu {k}", one, hi=1.0))
    add(Source("cpu_avg", "(fraction)", "Average physical cpu usage", cpu_avg, hi=1.0))
    add(Source("loadavg", "", "Domain0 loadavg", lambda t, s: _scaled(busy(t, s), 0.9)))
    add(
        Source(
            "memory_total_kib",
            "KiB",
            "Total amount of memory in use",
            lambda t, s: (total / KiB,) * 3,
        )
    )

    def free(t: float, span: int) -> Sample:
        wobble = (2 * _unit(_key(hkey, "mem"), int(t // span)) - 1) * 0.004 * total
        v = max(0.0, free_now + wobble) / KiB
        return (v, v * 0.99, v * 1.01) if span > STEP else (v, v, v)

    add(Source("memory_free_kib", "KiB", "Total amount of free memory", free))
    # network: each VIF's traffic on the host interface carrying its network;
    # storage traffic on the storage network's
    pifs = [st.get("PIF", p) for p in rec["PIFs"] if st.exists("PIF", p)]
    devices = sorted({p["device"] for p in pifs if p["device"]})
    by_network = {p["network"]: p["device"] for p in pifs}
    storage = next(
        (p["device"] for p in pifs if not p["management"] and p["IP"] and p["physical"]), None
    )
    mgmt = next((p["device"] for p in pifs if p["management"]), devices[0] if devices else "eth0")
    flows: dict[str, list] = {d: [] for d in devices}
    srs: dict[str, list] = {}
    for v, (vrec, p, _vc, _cpu, io) in zip(vms, parts, strict=True):
        for vif in vrec["VIFs"]:
            r = st.get("VIF", vif)
            dev = by_network.get(r["network"], mgmt)
            flows.setdefault(dev, []).append(
                (io(p.net, f"vif{r['device']}rx"), io(p.net, f"vif{r['device']}tx"), 0.6)
            )
        for dev, sr in _disks(sim, v):
            srs.setdefault(sr, []).append((io(p.disk, f"{dev}r"), io(p.disk, f"{dev}w"), 0.5))

    def summed(items, which: int) -> Callable[[float, int], Sample]:
        seen: dict[tuple[float, int], Sample] = {}  # read, write and total share a row

        def fn(t: float, span: int) -> Sample:
            got = seen.get((t, span))
            if got is None:
                got = seen[(t, span)] = made(t, span)
            return got

        def made(t: float, span: int) -> Sample:
            out = [0.0, 0.0, 0.0]
            for item in items:
                s = item[which](t, span)
                f = item[2] if which == 1 else 1.0
                for i in range(3):
                    out[i] += s[i] * f
            return tuple(out)  # type: ignore[return-value]

        return fn

    io_sources = []
    for sr in sorted(srs, key=lambda s: st.get("SR", s)["uuid"] if st.exists("SR", s) else s):
        if not st.exists("SR", sr):
            continue
        short = st.get("SR", sr)["uuid"][:8]
        read, write = summed(srs[sr], 0), summed(srs[sr], 1)
        io_sources.append((sr, read, write))
        add(
            Source(
                f"io_throughput_read_{short}",
                "MiB/s",
                f"Data read from SR {short}",
                _ratio(read, 1 / MiB),
            )
        )
        add(
            Source(
                f"io_throughput_write_{short}",
                "MiB/s",
                f"Data written to SR {short}",
                _ratio(write, 1 / MiB),
            )
        )

        def both(t: float, span: int, read=read, write=write) -> Sample:
            a, b = read(t, span), write(t, span)
            return tuple((a[i] + b[i]) / MiB for i in range(3))  # type: ignore[return-value]

        add(Source(f"io_throughput_total_{short}", "MiB/s", f"All I/O on SR {short}", both))
    shared = [(r, w) for sr, r, w in io_sources if st.get("SR", sr)["shared"]]
    base_key = _key(hkey, "pif")
    for dev in devices:
        items = flows.get(dev, [])
        extra = shared if dev == storage else []

        def rx(t: float, span: int, items=items, extra=extra, dev=dev) -> Sample:
            s = list(summed(items, 0)(t, span))
            for r, _w in extra:
                s = [a + b for a, b in zip(s, r(t, span), strict=True)]
            idle = 800 + 1500 * _unit(_key(base_key, dev), int(t // span))
            return tuple(v + idle for v in s)  # type: ignore[return-value]

        def tx(t: float, span: int, items=items, extra=extra, dev=dev) -> Sample:
            s = list(summed(items, 1)(t, span))
            for _r, w in extra:
                s = [a + b for a, b in zip(s, w(t, span), strict=True)]
            idle = 600 + 1200 * _unit(_key(base_key, dev, "tx"), int(t // span))
            return tuple(v + idle for v in s)  # type: ignore[return-value]

        add(
            Source(
                f"pif_{dev}_rx",
                "B/s",
                f"Bytes per second received on physical interface {dev}",
                rx,
                kind="DERIVE",
            )
        )
        add(
            Source(
                f"pif_{dev}_tx",
                "B/s",
                f"Bytes per second sent on physical interface {dev}",
                tx,
                kind="DERIVE",
            )
        )
    physical = sorted({p["device"] for p in pifs if p["physical"]})
    phys_rx = [rrd.source(f"pif_{d}_rx") for d in physical]
    phys_tx = [rrd.source(f"pif_{d}_tx") for d in physical]

    def aggr(sources) -> Callable[[float, int], Sample]:
        return lambda t, span: tuple(sum(s.fn(t, span)[i] for s in sources if s) for i in range(3))  # type: ignore[return-value]

    add(
        Source(
            "pif_aggr_rx",
            "B/s",
            "Bytes per second received on all physical interfaces",
            aggr(phys_rx),
            kind="DERIVE",
        )
    )
    add(
        Source(
            "pif_aggr_tx",
            "B/s",
            "Bytes per second sent on all physical interfaces",
            aggr(phys_tx),
            kind="DERIVE",
        )
    )
    return rrd


def rrds_of(sim, host: str, *, with_host: bool, vm_uuid: str) -> list[Rrd]:
    """The RRDs the host's rrdd holds that the query asks for: its own
    (``host=true``), then its running VMs' (``vm_uuid``: all, none, or one)."""
    st = sim.store
    out = [host_rrd(sim, host)] if with_host else []
    if vm_uuid == "none":
        return out
    for vm in st.get("host", host)["resident_VMs"]:
        if not st.exists("VM", vm) or st.get("VM", vm)["is_control_domain"]:
            continue
        if vm_uuid not in ("all", st.get("VM", vm)["uuid"]):
            continue
        rrd = vm_rrd(sim, vm)
        if rrd is not None:
            out.append(rrd)
    return out


# rrd_updates ----------------------------------------------------------------------------------
def _best(rrd: Rrd, pdp_interval: int, cf: str | None, start: int) -> list[tuple[str, int, int]]:
    """rrd's find_best_rras: the first archive (of the CF asked) that reaches
    back to ``start`` with rows at least ``pdp_interval`` PDPs long, and every
    archive of its shape; failing that, the oldest-reaching one."""
    rras = [a for a in archives() if cf is None or a[0] == cf]
    if not rras:
        raise NoRRA
    last_pdp = rrd.last_updated // STEP * STEP

    def contains(t: int, rra) -> bool:
        return rra[1] >= pdp_interval and t > last_pdp - STEP * rra[2] * rra[1]

    first = next((a for a in rras if contains(start, a)), None)
    if first is not None:
        return [a for a in rras if a[1:] == first[1:]]
    oldest = rras[-1]
    newstart = 1 + last_pdp - STEP * oldest[2] * oldest[1]
    return [a for a in rras if contains(newstart, a)]


def updates(
    rrds: list[Rrd], start: int, interval: int, cf: str | None, kept: dict | None = None
) -> dict:
    """Rrd_updates.create_multi: {start, step, end, legend, rows [(t, values)]},
    rows newest first. ``kept``: the rows of an earlier answer of the same
    shape (its legend and step), reused as rrdd's archives would (what is
    recorded stays); the newest row is always made afresh."""
    if not rrds:
        raise NoRRA
    last = rrds[0].last_updated
    if start < 0:
        start = start + last
    chosen = [_best(r, interval // STEP, cf, start) for r in rrds]
    first = next((c[0] for c in chosen if c), None)
    if first is None:
        raise NoRRA
    chosen = [[a for a in c if a[1:] == first[1:]] for c in chosen]
    _cf, pdp, row_cnt = first
    step = STEP * pdp
    legend, columns = [], []
    for rrd, rras in zip(rrds, chosen, strict=True):
        for cf_, _p, _r in rras:
            for src in rrd.sources:
                legend.append(f"{cf_}:{rrd.prefix}{src.name}")
                columns.append((src, CFS.index(cf_)))
    last_cdp = last // step * step
    first_cdp = start // step * step + step
    recorded: dict[int, list[float]] = {}
    if kept is not None:
        shape = (tuple(legend), step)
        if kept.get("shape") != shape:
            kept.clear()
            kept.update(shape=shape, rows={})
        recorded = kept["rows"]
        for t in [t for t in recorded if t <= last_cdp - row_cnt * step]:
            del recorded[t]  # out of the archive
    rows = []
    i = 0
    while i < row_cnt:
        t = last_cdp - i * step
        if t < start:
            break
        values = recorded.get(t) if t != last_cdp else None
        if values is None:
            values = [src.sample(t, step)[which] for src, which in columns]
            if kept is not None:
                recorded[t] = values
        rows.append((t, values))
        i += 1
    return {"start": first_cdp, "step": step, "end": last_cdp, "legend": legend, "rows": rows}


def updates_xml(u: dict) -> str:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><xport><meta>',
        f"<start>{u['start']}</start><step>{u['step']}</step><end>{u['end']}</end>",
        f"<rows>{len(u['rows'])}</rows><columns>{len(u['legend'])}</columns><legend>",
    ]
    parts += [f"<entry>{_esc(e)}</entry>" for e in u["legend"]]
    parts.append("</legend></meta><data>")
    for t, values in u["rows"]:
        parts.append(f"<row><t>{t}</t>")
        parts += [f"<v>{f_to_s(v)}</v>" for v in values]
        parts.append("</row>")
    parts.append("</data></xport>")
    return "".join(parts)


def updates_json(u: dict) -> str:
    """XAPI's JSON form (Rrd_updates.json_of_t): every number a string."""
    doc = {
        "meta": {
            "start": str(u["start"]),
            "step": str(u["step"]),
            "end": str(u["end"]),
            "rows": str(len(u["rows"])),
            "columns": str(len(u["legend"])),
            "legend": u["legend"],
        },
        "data": [{"t": str(t), "values": [f_to_s(v) for v in values]} for t, values in u["rows"]],
    }
    return json.dumps(doc, separators=(",", ":"))


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# the whole RRD --------------------------------------------------------------------------------
def _table(rrd: Rrd):
    """Per RRA: (cf, pdp, rows oldest first [[value per source]])."""
    out = []
    for cf, pdp, row_cnt in archives():
        step = STEP * pdp
        last_cdp = rrd.last_updated // step * step
        which = CFS.index(cf)
        rows = [
            [src.sample(last_cdp - (row_cnt - 1 - i) * step, step)[which] for src in rrd.sources]
            for i in range(row_cnt)
        ]
        out.append((cf, pdp, rows))
    return out


def full_xml(rrd: Rrd) -> str:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><rrd><version>0003</version>',
        f"<step>{STEP}</step><lastupdate>{rrd.last_updated}</lastupdate>",
    ]
    now = rrd.last_updated
    for src in rrd.sources:
        value = src.sample(now, STEP)[0]
        parts.append(
            f"<ds><name>{_esc(src.name)}</name><type>{src.kind}</type>"
            f"<minimal_heartbeat>300.0</minimal_heartbeat><min>{f_to_s(src.lo)}</min>"
            f"<max>{f_to_s(src.hi)}</max><last_ds>{f_to_s(value)}</last_ds>"
            f"<value>0.0</value><unknown_sec>0</unknown_sec></ds>"
        )
    for cf, pdp, rows in _table(rrd):
        parts.append(
            f"<rra><cf>{cf}</cf><pdp_per_row>{pdp}</pdp_per_row>"
            f"<params><xff>{f_to_s(0.5 if pdp == 1 else 1.0)}</xff></params><cdp_prep>"
        )
        parts += [
            "<ds><primary_value>0.0</primary_value><secondary_value>0.0</secondary_value>"
            "<value>0.0</value><unknown_datapoints>0</unknown_datapoints></ds>"
            for _ in rrd.sources
        ]
        parts.append("</cdp_prep><database>")
        for row in rows:
            parts.append("<row>" + "".join(f"<v>{f_to_s(v)}</v>" for v in row) + "</row>")
        parts.append("</database></rra>")
    parts.append("</rrd>")
    return "".join(parts)


def full_json(rrd: Rrd) -> str:
    """Rrd.json_to_string: the same, as JSON with numbers as strings."""
    now = rrd.last_updated
    doc = {
        "version": "0003",
        "step": str(STEP),
        "lastupdate": f_to_s(float(now)),
        "ds": [
            {
                "name": s.name,
                "type": s.kind,
                "minimal_heartbeat": "300.0",
                "min": f_to_s(s.lo),
                "max": f_to_s(s.hi),
                "last_ds": f_to_s(s.sample(now, STEP)[0]),
                "value": "0.0",
                "unknown_sec": "0.0",
            }
            for s in rrd.sources
        ],
        "rra": [
            {
                "cf": cf,
                "pdp_per_row": str(pdp),
                "params": {"xff": f_to_s(0.5 if pdp == 1 else 1.0)},
                "cdp_prep": {
                    "ds": [
                        {
                            "primary_value": "0.0",
                            "secondary_value": "0.0",
                            "value": "0.0",
                            "unknown_datapoints": "0",
                        }
                        for _ in rrd.sources
                    ]
                },
                "database": [[f_to_s(v) for v in row] for row in rows],
            }
            for cf, pdp, rows in _table(rrd)
        ],
    }
    return json.dumps(doc, separators=(",", ":"))


# the API's view -------------------------------------------------------------------------------
def query(rrd: Rrd | None, name: str) -> float:
    """``*.query_data_source``: the newest 5-second average, as rrdd's
    query_named_ds; an unknown name fails as rrdd's Invalid_data_source does."""
    src = rrd.source(name) if rrd is not None else None
    if src is None:
        raise XapiError(
            "INTERNAL_ERROR",
            f'Rrd_interface.Rrdd_error(Internal_error("Rrd.Invalid_data_source(\\"{name}\\")"))',
        )
    value = src.sample(rrd.last_updated, STEP)[0]
    return 0.0 if math.isnan(value) else value


def data_sources(rrd: Rrd) -> list[dict]:
    """``*.get_data_sources``: data_source records, by name."""
    now = rrd.last_updated
    out = []
    for s in sorted(rrd.sources, key=lambda s: s.name):
        value = s.sample(now, STEP)[0]
        out.append(
            {
                "name_label": s.name,
                "name_description": s.description,
                "enabled": True,
                "standard": True,
                "units": s.units,
                "min": s.lo,
                "max": s.hi if math.isfinite(s.hi) else 1.7976931348623157e308,
                "value": 0.0 if math.isnan(value) else value,
            }
        )
    return out


# the HTTP handlers ----------------------------------------------------------------------------
FAULTS = ("fail", "garbage", "slow")


def http_get(sim, host: str, path: str, query: dict[str, str]) -> tuple[int, bytes, str]:
    """(status, body, content type) of ``GET /rrd_updates``, ``/host_rrd`` or
    ``/vm_rrd`` on ``host``'s listener, as xcp-rrdd answers them (the session
    is checked before). A fault injected for the host (``Simulator.metrics_faults``)
    answers instead: "fail" a 500, "garbage" a 200 that is no document,
    "slow" after a delay."""
    fault, seconds = sim.metrics_faults.get(host, ("", 0.0))
    if fault == "fail":
        return 500, b"Internal error: rrdd is not responding\n", "text/plain"
    if fault == "garbage":
        return 200, b"<xport><meta><start>12\x00\xff not an rrd", "text/xml"
    if fault == "slow":
        time.sleep(seconds)
    st = sim.store
    with st.lock:
        if path == "/rrd_updates":
            try:
                start = int(query["start"])
            except (KeyError, ValueError):
                return 400, b"rrd_updates: start must be an integer (seconds)\n", "text/plain"
            try:
                interval = int(query.get("interval", "0"))
            except ValueError:
                interval = 0
            cf = query.get("cf")
            cf = cf if cf in CFS or cf == "LAST" else None
            rrds = rrds_of(
                sim,
                host,
                with_host=query.get("host", "none") == "true",
                vm_uuid=query.get("vm_uuid", "all"),
            )
            # rows already answered to a like query (a refresh, a retry) are reused
            shape = (host, query.get("host"), query.get("vm_uuid"), interval, cf)
            kept = sim.rrd_rows.setdefault(shape, {})
            try:
                u = updates(rrds, start, interval, cf, kept)
            except NoRRA:
                return 500, b"No_RRA_Available\n", "text/plain"
            if "json" in query:
                return 200, updates_json(u).encode(), "application/json"
            return 200, updates_xml(u).encode(), "text/xml"
        if path == "/host_rrd":
            found = host_rrd(sim, host)
            if "json" in query:
                return 200, full_json(found).encode(), "application/json"
            return 200, full_xml(found).encode(), "text/xml"
        # /vm_rrd?uuid=: XAPI forwards it to the host the VM runs on
        try:
            vm = st.ref_by_uuid("VM", query.get("uuid", ""))
        except XapiError:
            return 404, b"vm_rrd: no VM with that uuid\n", "text/plain"
        found = vm_rrd(sim, vm)
        if found is None:
            return 404, b"vm_rrd: the VM is not running: no RRD\n", "text/plain"
        return 200, full_xml(found).encode(), "text/xml"


# perfmon: the alarms of other_config:perfmon, checked against the RRDs ------------------------
PERFMON_SECONDS = 15.0  # between two looks (XAPI's perfmon: 60 s; shorter keeps rehearsals brisk)
_LOW = ("memory_free_kib", "memory_internal_free")  # below the level is the alarm


def _perfmon_config(text: str) -> list[dict[str, str]]:
    """perfmon's reading of the XML: each variable's settings; nothing for a
    malformed document (perfmon logs it and watches nothing)."""
    if not text or "<!" in text:
        return []
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return []
    if root.tag != "config":
        return []
    return [{c.tag: c.get("value", "") for c in var} for var in root.findall("variable")]


_SR_IO = re.compile(r"sr_io_throughput_total_[0-9a-f]{8}")
PER_HOST = "sr_io_throughput_total_per_host"  # set on an SR, watched by each of its hosts


def _variable(rrd: Rrd, kind: str, name: str) -> list[Source]:
    """The data sources a perfmon variable sums (perfmon's default rrd_regex)."""
    names = [s.name for s in rrd.sources]
    if name == "cpu_usage":
        wanted = ["cpu_avg"] if kind == "host" else [n for n in names if re.fullmatch(r"cpu\d+", n)]
    elif name == "network_usage":
        pattern = r"pif_eth\d+_[rt]x" if kind == "host" else r"vif_\d+_[rt]x"
        wanted = [n for n in names if re.fullmatch(pattern, n)]
    elif name == "disk_usage" and kind == "vm":
        wanted = [n for n in names if re.fullmatch(r"vbd_(xvd|hd)[a-z]+_(read|write)", n)]
    elif kind == "host" and _SR_IO.fullmatch(name):
        wanted = [name[3:]]  # io_throughput_total_<SR uuid[:8]>
    elif name in ("memory_free_kib", "memory_internal_free"):
        wanted = [name]
    else:
        wanted = []  # perfmon has no default for it: a configuration error, nothing watched
    return [s for s in rrd.sources if s.name in wanted]


def _settings(var: dict[str, str]) -> tuple[str, float, int, float] | None:
    """(name, level, trigger period, inhibit period); None when perfmon cannot read them."""
    try:
        name = var["name"]
        level = float(var["alarm_trigger_level"])
        period = max(STEP, int(float(var.get("alarm_trigger_period", "60"))))
        inhibit = float(var.get("alarm_auto_inhibit_period", "3600"))
    except (KeyError, ValueError):
        return None
    return name, level, period, inhibit


def _summed(sources: list[Source], name: str, now: float, period: int) -> float | None:
    """The variable's value over its trigger period (cpu averaged, the rest summed)."""
    if not sources:
        return None
    values = [s.sample(now, period // STEP * STEP)[0] for s in sources]
    if any(math.isnan(v) for v in values):
        return None
    return sum(values) / len(values) if name == "cpu_usage" else sum(values)


def _alarm(
    sim, now: float, cls: str, uuid: str, var: dict[str, str], value: float, more: str = ""
) -> str | None:
    """The ALARM message perfmon makes for ``var`` at ``value`` on the object
    (``more``: XML added to the variable in its body), unless the value is on
    the good side of the level or the variable fired within its inhibit period."""
    name, level, _period, inhibit = _settings(var)  # type: ignore[misc]
    low = var.get("alarm_trigger_sense", "low" if name in _LOW else "high") == "low"
    if not (value < level if low else value > level):
        return None
    key = (uuid, name)
    last = sim.perfmon_fired.get(key)
    if last is not None and now - last < inhibit:
        return None
    sim.perfmon_fired[key] = now
    body = "".join(f'<{t} value="{_esc(v)}"/>' for t, v in var.items()) + more
    return sim.store.create(
        "message",
        {
            "name": "ALARM",
            "priority": int(float(var.get("alarm_priority", "3") or 3)),
            "cls": cls,
            "obj_uuid": uuid,
            "timestamp": XDate(time.strftime("%Y%m%dT%H:%M:%SZ", time.gmtime(now))),
            "body": f"value: {value:f}\nconfig:\n<variable>{body}</variable>",
        },
    )


def _sr_looks(sim, now: float, rrds: dict[str, Rrd]) -> list[str]:
    """perfmon's looks at the SRs' configurations: physical_utilisation (its
    used space over its size) raises an ALARM on the SR; the per-host I/O
    variable becomes, on each host with a PBD of the SR, a variable over that
    host's io_throughput_total_<SR> (unless the host sets its own), whose ALARM
    is the host's and names the SR it was configured on."""
    st, made = sim.store, []
    for rec in st.table("SR").values():
        for var in _perfmon_config(rec["other_config"].get("perfmon", "")):
            read = _settings(var)
            if read is None or "rrd_regex" in var:
                continue
            name, _level, period, _inhibit = read
            if name == "physical_utilisation":
                size = float(rec["physical_size"] or 0)
                if size > 0:
                    used = float(rec["physical_utilisation"] or 0) / size
                    made.append(_alarm(sim, now, "SR", rec["uuid"], var, used))
                continue
            if name != PER_HOST:
                continue
            short = rec["uuid"][:8]
            for pbd in rec["PBDs"]:
                if not st.exists("PBD", pbd):
                    continue
                host = st.get("PBD", pbd)["host"]
                hrec = st.get("host", host)
                own = _perfmon_config(hrec["other_config"].get("perfmon", ""))
                if any(v.get("name") == f"sr_io_throughput_total_{short}" for v in own):
                    continue  # the host's own setting takes priority
                if host not in rrds:
                    rrds[host] = host_rrd(sim, host)
                sources = [
                    s for s in rrds[host].sources if s.name == f"io_throughput_total_{short}"
                ]
                value = _summed(sources, name, now, period)
                if value is None:
                    continue
                moved = {**var, "name": f"sr_io_throughput_total_{short}"}
                where = f'<configured_on class="SR" uuid="{_esc(rec["uuid"])}"/>'
                made.append(_alarm(sim, now, "Host", hrec["uuid"], moved, value, where))
    return [m for m in made if m]


def perfmon_round(sim) -> list[str]:
    """One look of perfmon at every running VM, every host and every SR: a
    variable beyond its level on average over its trigger period, and not
    fired within its inhibit period, raises an ALARM message on the object.
    The messages made."""
    st = sim.store
    made: list[str | None] = []
    with st.lock:
        now = float(_now(sim))
        rrds: dict[str, Rrd] = {}
        objects = [("host", h, host_rrd) for h in st.table("host")]
        objects += [
            ("vm", v, vm_rrd)
            for v, rec in st.table("VM").items()
            if not rec["is_control_domain"] and not rec["is_a_template"] and live(sim, v)
        ]
        for kind, ref, make in objects:
            rec = st.get("host" if kind == "host" else "VM", ref)
            variables = _perfmon_config(rec["other_config"].get("perfmon", ""))
            if not variables:
                continue
            found = make(sim, ref)
            if kind == "host":
                rrds[ref] = found
            for var in variables:
                read = _settings(var)
                if read is None:
                    continue  # perfmon skips a variable it cannot read
                name, _level, period, _inhibit = read
                value = _summed(_variable(found, kind, name), name, now, period)
                if value is not None:
                    cls = "Host" if kind == "host" else "VM"
                    made.append(_alarm(sim, now, cls, rec["uuid"], var, value))
        made += _sr_looks(sim, now, rrds)
    return [m for m in made if m]
