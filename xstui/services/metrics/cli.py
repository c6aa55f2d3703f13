"""``xstui top TARGET [--json] [--sort cpu|memory|disk|net] [--once]``: the
pool's hosts and its busiest VMs from XAPI's RRDs, every 5 seconds (or once),
for people or (``--json``, one document a refresh) for scripts."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

from ...script import EXIT_CONNECT, CliCommand, fail, login_for_script, say, target_arguments
from . import SORTS

if TYPE_CHECKING:
    from .model import Metrics

REFRESH_SECONDS = 5.0


def top_arguments(parser) -> None:
    target_arguments(parser)
    parser.add_argument(
        "--sort", choices=SORTS, default="cpu", help="order VMs by this figure (default cpu)"
    )
    parser.add_argument("--once", action="store_true", help="print one refresh and stop")


def document(metrics: Metrics, cache, sort: str) -> dict:
    return {
        "sort": sort,
        "hosts": [r.to_dict() for r in metrics.hosts(cache)],
        "vms": [r.to_dict() for r in metrics.vms(cache, sort)],
    }


def lines(metrics: Metrics, cache, sort: str) -> list[str]:
    """The hosts, then the VMs busiest first: one line each (XAPI's names
    escaped by :func:`say`)."""

    from .model import cpu_text, memory_text, rate_text

    def table(title: str, rows, with_total: bool) -> list[str]:
        out = [
            f"{title:<22} {'' if with_total else 'HOST':<12} {'CPU':>5} {'MEMORY':>20} {'NET':>11} {'DISK':>11}"
        ]
        for r in rows:
            f, host = r.figures, "" if with_total else r.host[:12]  # a host's row: no host
            if r.reason:
                out.append(f"{r.name[:22]:<22} {host:<12} no data: {r.reason}")
                continue
            memory = memory_text(f.memory, f.memory_total if with_total else None)
            out.append(
                f"{r.name[:22]:<22} {host:<12} {cpu_text(f.cpu):>5} {memory:>20} "
                f"{rate_text(f.net):>11} {rate_text(f.disk):>11}"
            )
        return out

    return [
        *table("HOSTS", metrics.hosts(cache), True),
        "",
        *table(f"VMS by {sort}", metrics.vms(cache, sort), False),
    ]


def run_top(args) -> int:
    from ...xapi.connection import ConnectionLost, XapiFailure
    from .model import Metrics, http_fetch

    if not 0 < args.timeout <= 3600:
        return fail("--timeout must be between 0 and 3600 seconds")
    conn, demo = login_for_script(args.target, args.user, args.fingerprint, args.timeout)
    stop = threading.Event()
    try:
        if args.once:
            conn.load_once()
        else:
            conn.start_events()  # VMs start, stop and move between refreshes
            if not conn.cache.wait_for(lambda: conn.cache.loads > 0, args.timeout):
                return fail("the pool's objects did not arrive", EXIT_CONNECT)
        metrics = Metrics(http_fetch(conn))
        while True:
            metrics.refresh(conn.cache)
            if args.json:
                # json.dumps escapes control characters itself; one line a
                # refresh when it goes on
                doc = document(metrics, conn.cache, args.sort)
                print(json.dumps(doc, indent=2 if args.once else None), flush=True)
            else:
                for line in lines(metrics, conn.cache, args.sort):
                    say(line)
            if args.once:
                return 0
            say("")
            if stop.wait(REFRESH_SECONDS):
                return 0
    except KeyboardInterrupt:
        return 0
    except (XapiFailure, ConnectionLost) as exc:
        return fail(str(exc), EXIT_CONNECT)
    finally:
        conn.close()
        if demo:
            demo.close()


TOP_COMMAND = CliCommand(
    "top",
    "print the pool's hosts and busiest VMs from its performance data (no TUI)",
    run_top,
    top_arguments,
)
