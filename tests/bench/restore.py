"""Benchmark (on demand: ``make bench``): import a 2 GiB XVA (made once, by
a backup through the console's own code: tests/bench/export.py) against a
plain HTTP upload of the same file. Both send it to another process over
loopback, in the blocks the console uses:

- the floor: ``http.client`` PUTs the file to a server that reads the body
  and drops it;
- the console: the Import action (``PUT /import``, every block's SHA-1
  checked as it goes) into the simulator, which makes the VM and checks
  the blocks too.

Prints JSON: both MB/s (the console's over the whole action, and over its
stream alone), their ratio (goal: at least 0.8), the CPU seconds of the
sender in both and of the simulator during the import (who bounds it),
and the console's resident memory before the import and at its peak
during it (goal: flat). Both sides hash every block (SHA-1): on a
machine whose cores are busy the ratio says more about the CPU than about
the console."""

from __future__ import annotations

import http.client
import http.server
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.export import VM, backup, simulator


class _Sink(http.server.BaseHTTPRequestHandler):
    """Reads a PUT's body in 1 MiB reads and drops it."""

    def do_PUT(self):  # noqa: N802
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0 and (block := self.rfile.read(min(1 << 20, left))):
            left -= len(block)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def sink() -> None:
    """The floor's server (run in its own process, as the simulator is):
    prints its port, serves until terminated."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Sink)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def plain_upload(path: Path) -> float:
    """The file PUT to a sink in another process, as the console streams
    it (same block size, plain http.client); the seconds it took."""
    from xstui.xapi.transfer import BLOCK

    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.restore", "--sink"], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(proc.stdout.readline())
        started = time.perf_counter()
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        client.putrequest("PUT", "/import")
        client.putheader("Content-Length", str(path.stat().st_size))
        client.putheader("Content-Type", "application/octet-stream")
        client.endheaders()
        with open(path, "rb") as data:
            while block := data.read(BLOCK):
                client.send(block)
        response = client.getresponse()
        response.read()
        assert response.status == 200, response.status
        seconds = time.perf_counter() - started
        client.close()
        return seconds
    finally:
        proc.terminate()
        proc.wait(10)


def memory_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (the peak since the last reset_peak) of this process."""
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith(field + ":"))
    return round(int(line.split()[1]) / 1024, 1)


def reset_peak() -> None:
    """The peak resident size starts again from now (Linux: clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def cpu_seconds(pid: int | None = None) -> float:
    """The CPU time (user and system) of this process, or of process ``pid``."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def console_import(conn, sim: int, path: Path) -> dict:
    """The XVA imported (a copy) by the Import action into the simulator
    (process ``sim``): its figures."""
    from xstui.services import backup as bk
    from xstui.services.actions import RunContext

    source = bk.import_source(conn.cache, str(path))
    sr = next(f for f in bk.ImportVm.fields(conn.cache, source.header) if f.name == "sr")
    action = bk.ImportVm(conn.cache, source, sr.value, "new ones (a copy)", "no")
    sent = []  # (time, note) of each progress note

    def note(text: str) -> None:
        sent.append(time.perf_counter())

    reset_peak()
    before, cpu, sim_cpu = memory_mb("VmRSS"), cpu_seconds(), cpu_seconds(sim)
    started = time.perf_counter()
    outcome = action.execute(RunContext(conn, note=note))
    seconds = time.perf_counter() - started
    size = path.stat().st_size
    blocks = action.report.blocks
    assert action.made and f"{blocks} block(s) checked" in outcome, outcome
    stream = sent[-1] - sent[0]  # from the first block sent to the last
    return {
        "import_seconds": round(seconds, 2),
        "import_MB_per_s": round(size / seconds / 1e6),
        "stream_MB_per_s": round((size - (1 << 20)) / stream / 1e6),
        "blocks_checked": blocks,
        "console_cpu_seconds": round(cpu_seconds() - cpu, 2),
        "simulator_cpu_seconds": round(cpu_seconds(sim) - sim_cpu, 2),
        "rss_mb_before": before,
        "rss_mb_peak": memory_mb("VmHWM"),
    }


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="xstui-bench-xva-"))
    path = folder / "bench.xva"
    try:
        with simulator() as (conn, sim):
            backup(conn, VM, path)
            size = path.stat().st_size
            cpu = cpu_seconds()
            floor = size / plain_upload(path) / 1e6
            floor_cpu = cpu_seconds() - cpu
            figures = console_import(conn, sim.pid, path)
    finally:
        path.unlink(missing_ok=True)
        folder.rmdir()
    print(
        json.dumps(
            {
                "xva_bytes": size,
                "plain_upload_MB_per_s": round(floor),
                "plain_upload_cpu_seconds": round(floor_cpu, 2),
                **figures,
                "ratio": round(size / figures["import_seconds"] / 1e6 / floor, 2),
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--sink"]:
        sink()
    else:
        main()
