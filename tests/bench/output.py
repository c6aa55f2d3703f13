"""Benchmark (on demand: ``make bench``): bytes the console writes to its
terminal, measured from outside the process on a pty at 80x24 TERM=linux
(what a 115200-baud iLO/DRAC serial console has to carry), with the output
layer (xstui/terminal) and without it (XSTUI_RAW_OUTPUT=1), beside the floor
measured in the same run: a Textual hello-world's first frame.

Rows: ``xstui demo`` from its start to a complete Status screen, and the
Status frames alone (from the first write that takes the connect screen
away); one area switch
(F2); one Down arrow in the VM list (F8); bytes per second while another
client changes 20 objects a second that the Status screen does not show
(VM and host descriptions); bytes per second on a busy pool (5 changes a
second to the hosts' free memory, the console's own host among them: xstui
sim-ctl memory-step). Goals (issue #24): 4 KB, 2 KB, 0.6 KB, 50 B/s, 200 B/s.
Also prints the output layer's CPU time per frame on the Status screen."""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import queue
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

import pyte

COLS, ROWS = 80, 24
QUIET = 1.0  # seconds without output that end a measure
HELLO = """
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("Hello, world")

Hello().run()
"""


class Pty:
    """A program on a pty of COLS x ROWS; every byte it writes is counted."""

    def __init__(
        self, argv: list[str], env: dict[str, str], cols: int = COLS, rows: int = ROWS
    ) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child
            os.execvpe(argv[0], argv, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.data = bytearray()
        self.screen = pyte.Screen(cols, rows)  # what a terminal would show
        self.stream = pyte.ByteStream(self.screen)
        self.connect_seen = False
        self.connect_gone = None  # where the first chunk without the connect screen began
        # A thread reads the pty as the bytes come, each chunk with its time:
        # when the terminal had it, however long pyte then takes to draw the last one
        self.read_at = 0.0
        self._chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()
        self._closed = False
        # the reader takes the GIL within a millisecond of its bytes, not
        # after Python's 5 ms switch interval while pyte draws the last chunk
        sys.setswitchinterval(0.001)
        self._reader = threading.Thread(target=self._read_tty, daemon=True)
        self._reader.start()

    def _read_tty(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the program ended (EIO), or the pty was closed
                chunk = b""
            self._chunks.put((time.monotonic(), chunk))
            if not chunk:
                return

    def pump(self, seconds: float) -> bool | None:
        """One chunk of output if it comes within ``seconds``: True when it
        came (counted in ``data``, drawn on ``screen``; ``read_at`` its
        arrival), False when nothing did, None once the program has closed
        its terminal."""
        if self._closed:
            return None
        try:
            self.read_at, chunk = self._chunks.get(timeout=seconds)
        except queue.Empty:
            return False
        if not chunk:
            self._closed = True
            return None
        self.data += chunk
        self.stream.feed(chunk)
        return True

    def read(self, seconds: float) -> int:
        """Read for ``seconds``; the bytes read."""
        start, end = len(self.data), time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            before = len(self.data)
            got = self.pump(min(left, 0.05))
            if got is None:
                break
            if got and self.connect_gone is None:
                shown = "Connect to" in "\n".join(self.screen.display)
                if shown:
                    self.connect_seen = True
                elif self.connect_seen:
                    self.connect_gone = before
        return len(self.data) - start

    def until_quiet(self, limit: float = 60.0, seen: str = "") -> int:
        """Read until the screen shows ``seen`` and nothing more comes for QUIET seconds."""
        start, deadline = len(self.data), time.monotonic() + limit
        while time.monotonic() < deadline:
            before = len(self.data)
            self.read(QUIET)
            if len(self.data) == before and seen in "\n".join(self.screen.display):
                return len(self.data) - start
        raise RuntimeError(f"no quiet screen within {limit:g} s (waiting for {seen!r})")

    def key(self, sequence: bytes, seen: str = "") -> int:
        os.write(self.fd, sequence)
        return self.until_quiet(seen=seen)

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        self._reader.join(5)  # it ends at the EIO of a pty nobody holds: then its fd may go
        os.close(self.fd)


def environment(raw: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XSTUI_")}
    env.update(TERM="linux", LANG="C.UTF-8", TEXTUAL_ANIMATIONS="none", COLORTERM="")
    env["XDG_CONFIG_HOME"] = env["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="xstui-bench-")
    if raw:
        env["XSTUI_RAW_OUTPUT"] = "1"
    return env


def console(raw: bool) -> dict[str, int]:
    """xstui demo: the first Status screen, F2, then F8 and Down arrows."""
    run = Pty([sys.executable, "-m", "xstui", "demo"], environment(raw))
    try:
        first = run.until_quiet(seen="Memory")
        status = first - run.connect_gone
        switch = run.key(b"\x1bOQ", seen="Interfaces")  # F2, the Network area
        run.key(b"\x1b[19~", seen="VMs")  # F8
        downs = sorted(run.key(b"\x1b[B") for _ in range(5))
    finally:
        run.close()
    return {
        "first_status": first,
        "status_frames": status,
        "area_switch": switch,
        "down_arrow": downs[len(downs) // 2],
    }


def start_sim() -> tuple[subprocess.Popen, str, str]:
    """The demo pool in another process: it, its master's URL and its control URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "xstui", "sim", "--scenario", "demo", "--password", "bench"]
        + ["--address", "127.0.0.1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    master = ""
    for line in proc.stdout:
        words = line.split()
        if words[:1] == ["master"]:
            master = words[1]
        if words[:1] == ["control"]:
            return proc, master, words[1]
    raise RuntimeError("the simulator did not start")


def churn(url: str, stop: threading.Event, per_second: int = 20) -> None:
    """Another client changing VM and host descriptions (not on the Status screen)."""
    import XenAPI

    session = XenAPI.Session(url)
    session.xenapi.login_with_password("root", "bench", "1.0", "bench-churn")
    targets = [("VM", r) for r in session.xenapi.VM.get_all()[:10]]
    targets += [("host", r) for r in session.xenapi.host.get_all()]
    i = 0
    while not stop.wait(1 / per_second):
        kind, ref = targets[i % len(targets)]
        getattr(session.xenapi, kind).set_name_description(ref, f"changed {i}")
        i += 1


def busy_hosts(control: str, stop: threading.Event, per_second: int = 5) -> None:
    """A busy pool: the hosts' free memory moving (their guests balloon),
    ``per_second`` changes a second, the hosts in turn (the console's own
    among them: its Memory line changes)."""
    import urllib.request

    hosts = ["xcp-a", "xcp-b", "xcp-c"]
    i = 0
    while not stop.wait(1 / per_second):
        body = json.dumps({"password": "bench", "action": "memory-step", "host": hosts[i % 3]})
        request = urllib.request.Request(control, data=body.encode())
        urllib.request.urlopen(request, timeout=10).read()
        i += 1


def with_changes(raw: bool, seconds: float, busy: bool = False, slow: bool = False) -> float:
    """Bytes per second on the Status screen while objects it does not show
    change (VM and host descriptions), or, ``busy``, while the hosts' free
    memory moves; ``slow``: on a slow link (--slow-link)."""
    sim, url, control = start_sim()
    env = environment(raw)
    env["XSTUI_PASSWORD"] = "bench"
    if slow:
        env["XSTUI_SLOW_LINK"] = "1"
    run = Pty([sys.executable, "-m", "xstui", "connect", url], env)
    stop = threading.Event()
    try:
        run.until_quiet(seen="Memory")
        worker = threading.Thread(
            target=busy_hosts if busy else churn,
            args=(control if busy else url, stop),
            daemon=True,
        )
        worker.start()
        run.read(2.0)  # the first changes arrive
        rate = run.read(seconds) / seconds
    finally:
        stop.set()
        run.close()
        sim.terminate()
        sim.wait(10)
    return round(rate, 1)


def hello_world() -> int:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(HELLO)
    run = Pty([sys.executable, f.name], environment(raw=True))
    try:
        return run.until_quiet(seen="Hello")
    finally:
        run.close()
        os.unlink(f.name)


def frame_cpu() -> dict[str, float]:
    """The output layer's CPU time per frame, replaying the console's frames
    (Status, F2, the VM list and Down arrows, recorded from Textual in this
    process) through it."""
    os.environ["TERM"] = "linux"
    from tests.unit.test_terminal_replay import record_session

    frames = record_session(COLS, ROWS)
    from xstui.terminal import Capabilities, MinimalOutput

    caps = Capabilities(bce=True, ech=True, sgr_off=True)
    samples = []
    for _ in range(5):
        layer = MinimalOutput(COLS, ROWS, caps)
        for frame in frames:
            start = time.process_time()
            for chunk in frame:
                layer.feed(chunk)
            layer.flush()
            samples.append(time.process_time() - start)
    samples.sort()
    return {
        "frames": len(frames),
        "median_ms": round(samples[len(samples) // 2] * 1000, 3),
        "max_ms": round(samples[-1] * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=float, default=10, help="seconds of changes to count over")
    args = parser.parse_args()
    floor = hello_world()
    raw, layered = console(raw=True), console(raw=False)
    for key, busy in (("idle_changes_per_s", False), ("busy_pool_per_s", True)):
        raw[key] = with_changes(True, args.idle, busy)
        layered[key] = with_changes(False, args.idle, busy)
    slow = with_changes(False, args.idle, busy=True, slow=True)
    goals = {
        "first_status": None,  # the connect screen's frames too
        "status_frames": 4096,
        "area_switch": 2048,
        "down_arrow": 614,
        "idle_changes_per_s": 50,
        "busy_pool_per_s": 200,
    }
    print(f"bytes on a {COLS}x{ROWS} TERM=linux pty; floor: a Textual hello-world's first frame")
    print(
        f"{'':22}{'floor':>8}{'raw':>10}{'layer':>8}{'goal':>7}{'layer/raw':>11}{'layer/floor':>13}"
    )
    for row, goal in goals.items():
        first = row in ("first_status", "status_frames")
        ratio = f"{layered[row] / raw[row]:.2f}" if raw[row] else "-"
        print(
            f"{row:22}{floor if first else '':>8}{raw[row]:>10}{layered[row]:>8}{goal or '':>7}"
            f"{ratio:>11}{f'{layered[row] / floor:.2f}' if first else '':>13}"
        )
    print(f"busy pool on a slow link (--slow-link: one update every 2 s at most): {slow} B/s")
    cpu = frame_cpu()
    print(
        f"layer CPU per frame ({cpu['frames']} frames: Status, F2, VMs, Down arrows): "
        f"median {cpu['median_ms']} ms, max {cpu['max_ms']} ms"
    )
    print(
        json.dumps(
            {"hello_world": floor, "raw": raw, "layer": layered, "slow_link": slow, "cpu": cpu}
        )
    )


if __name__ == "__main__":
    main()
