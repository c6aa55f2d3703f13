"""The ``demo`` target: the simulator started in-process on loopback with a
random port and password, then reached like any remote host."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace

from .xapi.targets import Target, parse_target


@dataclass
class Demo:
    target: Target
    password: str
    running: object  # xstui.sim.runner.RunningSim
    folder: str = ""  # the demo's update files (removed on close)

    def close(self) -> None:
        self.running.close()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            if os.environ.get("XSTUI_UPDATE_DIR") == self.folder:
                del os.environ["XSTUI_UPDATE_DIR"]


# update files the demo offers to upload (Patching, u): one that asks for a
# reboot, and one whose prerequisite is that first one (its precheck fails
# until the first is applied)
DEMO_UPDATE_FILES = (
    ("XS82ECU1050.iso", {"guidance": ("restartHost",), "size": 96 << 20}),
    ("XS82ECU1052.iso", {"guidance": ("restartXAPI",), "requires": ("XS82ECU1050",)}),
)


def update_files(release: str = "") -> tuple[tuple[str, dict], ...]:
    """The demo's update files as ``release`` names them (6.5's are patches,
    ``.xsupdate``); none where hotfixes are not uploaded (yum, repositories)."""
    from .datamodel import absent_in
    from .sim.profiles import PROFILES, hotfix_name

    profile = PROFILES.get(release or "latest")
    if profile is None or profile.hotfixes in ("yum", "repository"):
        return ()
    suffix = ".xsupdate" if "pool_update" in absent_in(profile.api) else ".iso"
    return tuple(
        (
            hotfix_name(profile, name.split(".")[0]) + suffix,
            {**meta, "requires": tuple(hotfix_name(profile, r) for r in meta.get("requires", ()))},
        )
        for name, meta in DEMO_UPDATE_FILES
    )


# the demo's snapshot schedules run on a clock this many times as fast: a
# minute a second (an hourly schedule runs each minute, a daily one each 24)
DEMO_SCHEDULE_SPEED = 60


def start_demo(scenario: str = "demo", latency_ms: float = 0, release: str = "") -> Demo:
    from .sim.messages._updates import write_update_file
    from .sim.runner import start_simulator

    running = start_simulator(
        scenario, latency_ms=latency_ms, release=release, schedule_speed=DEMO_SCHEDULE_SPEED
    )
    folder = ""
    files = update_files(release)
    if files and not os.environ.get("XSTUI_UPDATE_DIR"):
        folder = tempfile.mkdtemp(prefix="xstui-updates-")
        for name, meta in reversed(files):  # the first is the newest
            write_update_file(os.path.join(folder, name), name.split(".")[0], 4 << 20, **meta)
        os.environ["XSTUI_UPDATE_DIR"] = folder
    return Demo(demo_target(running), running.password, running, folder)


def demo_target(running) -> Target:
    """Where a started simulator listens, named "demo" on screen: its port is
    random, and means nothing to whoever tries the console."""
    return replace(parse_target(running.url), label="demo")


@contextlib.contextmanager
def dom0_rehearsal(scenario: str = "demo", release: str = "") -> Iterator[None]:
    """The console as if in dom0 of the demo's master: the simulator listens on
    a unix socket (trusted, like /var/lib/xcp/xapi) and dom0's tools are the
    fake ones of a temporary folder. Nothing touches this machine's system."""
    from .sim.dom0 import make_dom0
    from .sim.profiles import PROFILES
    from .sim.runner import load_scenario, start_simulator

    with tempfile.TemporaryDirectory(prefix="xstui-dom0-") as folder:
        running = start_simulator(
            scenario, unix_socket=os.path.join(folder, "xapi"), release=release
        )
        profile = PROFILES.get(release or load_scenario(scenario).get("release", ""))
        ways = {"init": profile.init, "ntp": profile.ntp} if profile else {}
        make_dom0(os.path.join(folder, "root"), **ways)
        saved = {k: os.environ.get(k) for k in ("XSTUI_XAPI_SOCKET", "XSTUI_DOM0_ROOT")}
        os.environ["XSTUI_XAPI_SOCKET"] = running.unix_socket
        os.environ["XSTUI_DOM0_ROOT"] = os.path.join(folder, "root")
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            running.close()
