"""Test network from dom0: ping the gateway, each DNS server and a custom host."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .. import validate as v
from ..actions import InvalidInput
from ..fields import Field, optional, problem_of
from ..host.local import child_environment


@dataclass
class PingResult:
    label: str
    address: str
    ok: bool
    detail: str


def ping(address: str, timeout: int = 2) -> tuple[bool, str]:
    """One ICMP echo with the system's ping; (reachable, what happened)."""
    if not shutil.which("ping"):
        return False, "ping is not installed on this machine"
    try:
        out = subprocess.run(
            ["ping", "-c", "1", "-W", str(timeout), address],
            capture_output=True,
            text=True,
            timeout=timeout + 3,
            env=child_environment(),
        )
    except subprocess.TimeoutExpired:
        return False, "no answer"
    return out.returncode == 0, summarise(out.stdout) if out.returncode == 0 else "no answer"


def summarise(output: str) -> str:
    match = re.search(r"time[=<]([\d.]+) ?ms", output)
    return f"answered in {match.group(1)} ms" if match else "answered"


def ping_target(text: str) -> str:
    """An IPv4 address or a host name to ping."""
    try:
        return v.ipv4(text)
    except InvalidInput:
        return v.hostname(text)


CUSTOM = Field(
    "custom", "Also ping (optional)", "", optional(problem_of(ping_target)), placeholder="address"
)


def targets(gateway: str, dns: list[str], custom: str = "") -> list[tuple[str, str]]:
    out = []
    if gateway:
        out.append(("gateway", gateway))
    out += [(f"DNS {i + 1}", d) for i, d in enumerate(dns)]
    if custom.strip():
        out.append(("custom", ping_target(custom)))
    return out


def run_tests(
    items: list[tuple[str, str]], pinger: Callable[[str], tuple[bool, str]] = ping
) -> Iterator[PingResult]:
    """Results one by one, as each probe finishes."""
    for label, address in items:
        ok, detail = pinger(address)
        yield PingResult(label, address, ok, detail)
