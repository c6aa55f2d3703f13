"""Live performance figures of a pool from XAPI's RRDs: per host and per
running VM, CPU, memory, network and disk now, and their last 10 minutes.

One ``GET /rrd_updates`` per host per refresh, asked of that host (a host's
rrdd holds its own RRD and its running VMs'), incremental: ``start=`` the
previous answer's end (the first, and any after a long pause, asks for the last
10 minutes relative to the host's own clock). No per-VM call. A host whose
endpoint fails, answers garbage or is slow has "no data" with the reason in
words; the others are not held up (each host is asked in its own thread, with a
short timeout)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

from ..values import size
from .updates import Unreadable, Updates, column, parse

WINDOW = 600  # seconds of history kept: the 5-second archive's 10 minutes
TIMEOUT = 4.0  # seconds a host may take to answer before it has "no data"
MiB = 1 << 20

# (host ref, query) -> the answer's bytes; TransferFailed/OSError when it fails
Fetch = Callable[[str, dict[str, str]], bytes]


def http_fetch(conn, timeout: float = TIMEOUT) -> Fetch:
    """The connection's own transport to each host (TLS pinned to the
    certificate the pool records for it, as transfers do)."""
    from ...xapi.transfer import get_bytes

    def fetch(host: str, query: dict[str, str]) -> bytes:
        return get_bytes(conn, "/rrd_updates", query, limit=32 << 20, host=host, timeout=timeout)

    return fetch


@dataclass
class _Feed:
    """What is known of one host's rrd_updates."""

    end: int | None = None  # the last answer's end (the host's clock)
    fetched: float = 0.0  # time.monotonic() of the last answer
    reason: str = ""  # why there is no data ("" when there is)
    # (kind, uuid) -> data source -> {t: value}
    series: dict[tuple[str, str], dict[str, dict[int, float]]] = field(default_factory=dict)
    times: list[int] = field(default_factory=list)  # the rows' times, oldest first


@dataclass(frozen=True)
class Figures:
    """An object's figures now (None: not known) and per figure its last 10
    minutes, oldest first (NaN for a gap): worked out when first read, so
    that sorting thousands of VMs reads only their newest rows."""

    cpu: float | None = None  # fraction of its CPUs, 0..1
    memory: float | None = None  # bytes used
    memory_total: float | None = None  # bytes it has
    net: float | None = None  # bytes/s in and out
    disk: float | None = None  # bytes/s read and written
    histories: Callable[[], dict[str, list[float]]] = field(default=dict, repr=False, compare=False)

    @cached_property
    def history(self) -> dict[str, list[float]]:
        return self.histories()

    def value(self, sort: str) -> float:
        got = getattr(self, sort)
        return -1.0 if got is None else got


@dataclass(frozen=True)
class Row:
    ref: str
    name: str
    host: str  # the host's name (a VM's: where it runs)
    figures: Figures
    reason: str = ""  # why there is no data

    def to_dict(self) -> dict:
        f = self.figures
        return {
            "name": self.name,
            "host": self.host,
            "cpu": f.cpu,
            "memory": f.memory,
            "memory_total": f.memory_total,
            "net": f.net,
            "disk": f.disk,
            "no_data": self.reason or None,
        }


_NO_HOST_FIGURES = "the host sent no figures of its own"
_NO_VM_FIGURES = "its host sent no figures for it"


class Metrics:
    """The figures of a pool, refreshed by :meth:`refresh` (one thread per
    host); readers take them with :meth:`hosts` and :meth:`vms`."""

    def __init__(self, fetch: Fetch, *, timeout: float = TIMEOUT, clock=time.monotonic):
        self.fetch, self.timeout, self.clock = fetch, timeout, clock
        self.lock = threading.Lock()
        self.feeds: dict[str, _Feed] = {}
        self.bytes_read = 0  # on the wire, for the benchmark and the footer

    # fetching -------------------------------------------------------------------------
    def refresh(self, cache) -> None:
        """One rrd_updates per live host, in parallel; each host's answer (or
        its failure) is kept as it comes."""
        with cache.lock:
            hosts = {}
            for ref, h in cache.table("host").items():
                metrics = cache.get("host_metrics", h.metrics)
                hosts[ref] = metrics is None or metrics.live
        with self.lock:
            for ref in list(self.feeds):
                if ref not in hosts:
                    del self.feeds[ref]
            for ref, live in hosts.items():
                feed = self.feeds.setdefault(ref, _Feed())
                if not live:
                    feed.reason = "the host is not live (its metrics say so)"
                    feed.series, feed.times = {}, []
        todo = [ref for ref, live in hosts.items() if live]
        if not todo:
            return
        pool = ThreadPoolExecutor(max_workers=min(16, len(todo)), thread_name_prefix="rrd")
        try:
            futures = {ref: pool.submit(self._one, ref) for ref in todo}
            deadline = self.clock() + self.timeout + 1
            for ref, future in futures.items():
                try:
                    future.result(timeout=max(0.0, deadline - self.clock()))
                except TimeoutError:
                    self._failed(ref, f"no answer within {self.timeout:g} s")
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _one(self, host: str) -> None:
        with self.lock:
            feed = self.feeds.get(host)
            fresh = feed is None or feed.end is None or self.clock() - feed.fetched > WINDOW - 10
            start = str(-(WINDOW - 5)) if fresh else str(feed.end)
        query = {"start": start, "cf": "AVERAGE", "interval": "5", "host": "true", "json": "true"}
        try:
            body = self.fetch(host, query)
            updates = parse(body)
        except Unreadable as exc:
            return self._failed(host, f"unreadable answer: {exc}")
        except Exception as exc:  # TransferFailed, OSError: the host's refusal, in words
            return self._failed(host, str(exc) or type(exc).__name__)
        if updates.step != 5:
            return self._failed(host, f"rows of {updates.step} s, not the 5-second archive")
        with self.lock:
            self.bytes_read += len(body)
            feed = self.feeds.setdefault(host, _Feed())
            if fresh:
                feed.series, feed.times = {}, []
            _merge(feed, updates)
            feed.end, feed.fetched, feed.reason = updates.end, self.clock(), ""

    def _failed(self, host: str, reason: str) -> None:
        with self.lock:
            feed = self.feeds.setdefault(host, _Feed())
            feed.reason, feed.series, feed.times, feed.end = reason, {}, [], None

    # reading --------------------------------------------------------------------------
    def reason(self, host: str) -> str:
        with self.lock:
            feed = self.feeds.get(host)
            return "not asked yet" if feed is None else feed.reason

    def _series(self, host: str, kind: str, uuid: str, unasked: str):
        """``(series, "", times)`` for one object from ``host``'s feed (the
        feed's row times); ``(None, why, [])`` when the feed has nothing yet
        (``unasked`` when never asked) and ``(None, "", [])`` when the feed
        answered without this object.  Holds ``self.lock``."""
        feed = self.feeds.get(host)
        if feed is None:
            return None, unasked, []
        if feed.reason or feed.end is None:
            return None, feed.reason or "no answer yet", []
        return feed.series.get((kind, uuid)), "", feed.times

    def hosts(self, cache) -> list[Row]:
        """Every host of the pool, by name."""
        out = []
        with cache.lock:
            hosts = [(ref, h.name_label, h.uuid) for ref, h in cache.table("host").items()]
        with self.lock:
            for ref, name, uuid in hosts:
                series, why, times = self._series(ref, "host", uuid, "not asked yet")
                if series is None:
                    out.append(Row(ref, name, name, Figures(), why or _NO_HOST_FIGURES))
                else:
                    out.append(Row(ref, name, name, host_figures(series, times)))
        return sorted(out, key=lambda r: r.name.lower())

    def vms(self, cache, sort: str = "cpu") -> list[Row]:
        """Every running or paused VM, busiest first by ``sort``; its figures
        come from the host it runs on."""
        with cache.lock:
            vms = [
                (ref, v.name_label, v.uuid, v.resident_on, cache.label("host", v.resident_on, ""))
                for ref, v in cache.table("vm").items()
                if v.power_state in ("Running", "Paused")
                and not v.is_control_domain
                and not v.is_a_template
            ]
        out = []
        with self.lock:
            for ref, name, uuid, host, host_name in vms:
                series, why, times = self._series(host, "vm", uuid, "no answer yet")
                if series is None:
                    why = f"its host: {why}" if why else _NO_VM_FIGURES
                    out.append(Row(ref, name, host_name, Figures(), why))
                else:
                    out.append(Row(ref, name, host_name, vm_figures(series, times)))
        out.sort(key=lambda r: (-r.figures.value(sort), r.name.lower()))
        return out


def _merge(feed: _Feed, updates: Updates, window: int = WINDOW) -> None:
    """Rows into the series: a row seen again replaces itself, a data source
    new in the legend starts there, anything older than the window goes."""
    columns = [column(e) for e in updates.legend]
    keep_from = updates.end - window
    for t, values in updates.rows:
        if t <= keep_from:
            continue
        for col, value in zip(columns, values, strict=True):
            if col is None or col.cf != "AVERAGE":
                continue
            by_ds = feed.series.setdefault((col.kind, col.uuid), {})
            by_ds.setdefault(col.name, {})[t] = value
    for by_ds in feed.series.values():
        for points in by_ds.values():
            for t in [t for t in points if t <= keep_from]:
                del points[t]
    feed.times = sorted(
        {t for t in feed.times if t > keep_from} | {t for t, _ in updates.rows if t > keep_from}
    )


def _times(series: dict[str, dict[int, float]]) -> list[int]:
    return sorted({t for points in series.values() for t in points})


def _at(series, t: int) -> dict[str, float]:
    return {name: points.get(t, math.nan) for name, points in series.items()}


def _now(series, times: list[int], compute) -> float | None:
    """The newest known value of ``compute(values at t)``."""
    for t in reversed(times):
        value = compute(_at(series, t))
        if not math.isnan(value):
            return value
    return None


def _sum(values) -> float:
    values = [v for v in values if not math.isnan(v)]
    return sum(values) if values else math.nan


def _mean(values) -> float:
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan


def _cpus(at: dict[str, float]) -> list[float]:
    return [v for k, v in at.items() if k.startswith("cpu") and k[3:].isdigit()]


def host_figures(series: dict[str, dict[int, float]], times: list[int] | None = None) -> Figures:
    """``times``: the rows' times when known (a feed's), else read from the series."""
    times = _times(series) if times is None else times

    def cpu(at):
        avg = at.get("cpu_avg", math.nan)
        return avg if not math.isnan(avg) else _mean(_cpus(at))

    def used(at):
        return (at.get("memory_total_kib", math.nan) - at.get("memory_free_kib", math.nan)) * 1024

    def net(at):
        if "pif_aggr_rx" in at:
            return _sum([at["pif_aggr_rx"], at.get("pif_aggr_tx", math.nan)])
        return _sum(v for k, v in at.items() if k.startswith("pif_") and k.endswith(("_rx", "_tx")))

    def disk(at):
        totals = [v for k, v in at.items() if k.startswith("io_throughput_total_")]
        return _sum(totals) * MiB if totals else math.nan

    return _figures(
        series, times, cpu, used, lambda at: at.get("memory_total_kib", math.nan) * 1024, net, disk
    )


def vm_figures(series: dict[str, dict[int, float]], times: list[int] | None = None) -> Figures:
    """``times``: the rows' times when known (a feed's), else read from the series."""
    times = _times(series) if times is None else times

    def used(at):
        memory, free = at.get("memory", math.nan), at.get("memory_internal_free", math.nan)
        return memory - free * 1024 if not math.isnan(free) else memory

    def net(at):
        return _sum(v for k, v in at.items() if k.startswith("vif_") and k.endswith(("_rx", "_tx")))

    def disk(at):
        return _sum(
            v for k, v in at.items() if k.startswith("vbd_") and k.endswith(("_read", "_write"))
        )

    return _figures(
        series,
        times,
        lambda at: _mean(_cpus(at)),
        used,
        lambda at: at.get("memory", math.nan),
        net,
        disk,
    )


def _figures(series, times, cpu, used, total, net, disk) -> Figures:
    computes = {"cpu": cpu, "memory": used, "net": net, "disk": disk}
    now = {name: _now(series, times, compute) for name, compute in computes.items()}

    def histories() -> dict[str, list[float]]:
        rows = [_at(series, t) for t in times]
        return {name: [compute(at) for at in rows] for name, compute in computes.items()}

    total_now = _now(series, times[-1:], total)
    return Figures(now["cpu"], now["memory"], total_now, now["net"], now["disk"], histories)


# a VM's longer history, asked for when wanted --------------------------------------------------
# (label, seconds, step): the 5-second, 1-minute and 1-hour archives
SPANS = (("10 min", 600, 5), ("2 h", 7200, 60), ("1 week", 7 * 86400, 3600))


def history(fetch: Fetch, host: str, kind: str, uuid: str) -> list[tuple[str, Figures]]:
    """A host's (``kind`` "host") or a running VM's ("vm") figures over each
    span, from the host: one rrd_updates per span, for that object alone.
    Unreadable answers raise Unreadable."""
    out = []
    for label, seconds, step in SPANS:
        query = {"start": str(-(seconds - step)), "cf": "AVERAGE", "interval": str(step)}
        query.update({"vm_uuid": uuid} if kind == "vm" else {"host": "true", "vm_uuid": "none"})
        query["json"] = "true"
        feed = _Feed()
        _merge(feed, parse(fetch(host, query)), window=seconds)
        series = feed.series.get((kind, uuid))
        figures = vm_figures if kind == "vm" else host_figures
        out.append((label, figures(series) if series else Figures()))
    return out


# words ---------------------------------------------------------------------------------------
def cpu_text(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def rate_text(value: float | None) -> str:
    return "-" if value is None else f"{size(value)}/s"


def memory_text(used: float | None, total: float | None = None) -> str:
    if used is None:
        return "-"
    return f"{size(used)} of {size(total)}" if total else size(used)
