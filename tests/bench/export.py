"""Benchmark (on demand: ``make bench``): back up a VM whose disk exports
2 GiB from a simulator in another process, through the console's own code
(snapshot, streamed export to an XVA, SHA-1 check of every block, snapshot
destroyed). Prints JSON: seconds, MB/s of the export alone and of the whole
backup, and the console's peak RSS before and after (goal: flat memory,
at least 200 MB/s on loopback). Its helpers (the simulator in another
process, the connection, the backup) serve tests/bench/restore.py too."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

EXPORT_BYTES = 2 << 30
VM = "proxy-01"


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def used_bytes(vm_name: str) -> int:
    """What the VM's disks use in the demo scenario."""
    from xstui.sim.scenario import build, load_scenario
    from xstui.sim.transfers import vm_disks

    store = build(load_scenario("demo"))
    vm = store.find_one("VM", name_label=vm_name)
    return sum(store.get("VDI", d)["physical_utilisation"] for d in vm_disks(store, vm))


@contextmanager
def simulator(vm_name: str = VM, export_bytes: int = EXPORT_BYTES) -> Iterator:
    """The demo pool simulated in another process, its disk contents scaled
    so that ``vm_name``'s disks export ``export_bytes``: a connection to it,
    logged in and watching events, and the process. The console's audit
    lines go to a temporary folder, not the user's."""
    state = tempfile.TemporaryDirectory(prefix="xstui-bench-")
    os.environ["XDG_STATE_HOME"] = state.name
    scale = export_bytes / used_bytes(vm_name)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xstui",
            "sim",
            "--password",
            "bench",
            "--address",
            "127.0.0.1",
            "--data-scale",
            str(scale),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = next(line.split()[1] for line in proc.stdout if line.strip().startswith("master"))
        from xstui.areas import watched_types
        from xstui.xapi.connection import Connection
        from xstui.xapi.targets import parse_target

        conn = Connection(parse_target(url), "root", "bench", watch=watched_types())
        conn.login()
        conn.start_events()
        conn.cache.wait_for(lambda: conn.cache.table("vdi"), 10)
        try:
            yield conn, proc
        finally:
            conn.close()
    finally:
        proc.terminate()
        proc.wait(10)
        state.cleanup()


def backup(conn, vm_name: str, path: Path, note: Callable[[str], None] = lambda text: None):
    """``vm_name`` backed up to the XVA ``path`` by the Backup area's action."""
    from xstui.services import backup as bk
    from xstui.services.actions import RunContext

    with conn.cache.lock:
        vm = next(v.ref for v in conn.cache.table("vm").values() if v.name_label == vm_name)
    bk.BackupVm(conn.cache, vm, str(path)).execute(RunContext(conn, note=note))


def main() -> None:
    with simulator() as (conn, _sim), tempfile.TemporaryDirectory() as folder:
        before = rss_mb()
        path = Path(folder) / "bench.xva"
        marks = {}

        def note(text: str) -> None:
            if text.endswith("received") and "start" not in marks:
                marks["start"] = time.perf_counter()
            if text == "checking the file":
                marks["received"] = time.perf_counter()

        started = time.perf_counter()
        backup(conn, VM, path, note)
        total = time.perf_counter() - started
        size = path.stat().st_size
    export = marks["received"] - marks["start"]
    print(
        json.dumps(
            {
                "xva_bytes": size,
                "backup_seconds": round(total, 2),
                "export_seconds": round(export, 2),
                "export_MB_per_s": round(size / export / 1e6),
                "backup_MB_per_s": round(size / total / 1e6),
                "rss_mb_before": before,
                "rss_mb_peak": rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main()
