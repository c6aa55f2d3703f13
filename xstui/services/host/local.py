"""The host's own system, seen from dom0: the commands and files that the
console uses where XAPI has no call (chronyd's state, the console keymap,
disks, the emergency network reset, the server status report).

Everything goes through :class:`LocalSystem`, rooted at ``/`` in dom0. Tests
root it at a temporary directory laid out like dom0 (scripts that behave
like the real tools), so this machine's own system is never touched."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ...areas import see
from ...files import write_atomic
from ...xapi import views
from ...xapi.cache import Cache
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import Field, host_list, optional, problem_of
from ..values import listing, size
from .hosts import host_or_refuse

# the tools, where dom0 has them (relative to the root)
COMMANDS = {
    "chronyc": "usr/bin/chronyc",
    "ntpq": "usr/sbin/ntpq",
    "systemctl": "usr/bin/systemctl",
    "service": "sbin/service",
    "chkconfig": "sbin/chkconfig",
    "timedatectl": "usr/bin/timedatectl",
    "df": "usr/bin/df",
    "localectl": "usr/bin/localectl",
    "loadkeys": "bin/loadkeys",
    "logrotate": "usr/sbin/logrotate",
    "lsblk": "usr/bin/lsblk",
    "xe-reset-networking": "opt/xensource/bin/xe-reset-networking",
    "xe-toolstack-restart": "opt/xensource/bin/xe-toolstack-restart",
    "xe-backup-metadata": "opt/xensource/bin/xe-backup-metadata",
    "xe-restore-metadata": "opt/xensource/bin/xe-restore-metadata",
    "xen-bugtool": "usr/sbin/xen-bugtool",
}
POOL_CONF = "etc/xensource/pool.conf"  # "master" or "slave:<master address>"
MANAGEMENT_CONF = "etc/firstboot.d/data/management.conf"  # LABEL='eth0' ...
VCONSOLE = "etc/vconsole.conf"  # KEYMAP="us"
KEYBOARD = "etc/sysconfig/keyboard"  # KEYTABLE="us" (before systemd: XenServer 6.x)
# the console keymaps (.map.gz), as localectl lists them; /lib/kbd before XenServer 7
KBD_KEYMAPS = ("usr/lib/kbd/keymaps", "lib/kbd/keymaps")
ZONEINFO = "usr/share/zoneinfo"  # the time zone database (TZif files)
LOCALTIME = "etc/localtime"  # a link into ZONEINFO (a copy before XenServer 7)
SYSCONFIG_CLOCK = "etc/sysconfig/clock"  # ZONE="Europe/Paris" (before XenServer 7)
# the NTP daemon and its file: chronyd from XenServer 8 / XCP-ng 8, ntpd before
NTP_DAEMONS = (("chronyd", "etc/chrony.conf"), ("ntpd", "etc/ntp.conf"))
XAPI_PEM = "etc/xensource/xapi-ssl.pem"  # the host's TLS key and certificate (before 8.2)
LOG_DIR = "var/log"
SSH_DIR = "etc/ssh"  # ssh_host_*_key.pub
LOADAVG = "proc/loadavg"


def child_environment() -> dict[str, str]:
    """The environment of a process the console starts (dom0's tools, the
    local shell, ping): the console's own without its secrets, XSTUI_PASSWORD
    and any XSTUI_PASSWORD_*."""
    return {
        name: value
        for name, value in os.environ.items()
        if name != "XSTUI_PASSWORD" and not name.startswith("XSTUI_PASSWORD_")
    }


class LocalError(Exception):
    """A dom0 tool that is missing or failed; the message says which and why."""


# ntpq -p's tally codes, as its manual names them (the space is said by _ntpd)
NTPQ_TALLY = {
    "*": "system peer",
    "o": "system peer (PPS)",
    "+": "candidate",
    "#": "backup",
    "-": "outlier",
    "x": "falseticker",
    ".": "excess",
}


@dataclass(frozen=True)
class NtpState:
    """What dom0's NTP daemon says (chronyc, or ntpq before XenServer 8)."""

    daemon: str  # chronyd or ntpd
    synchronised: bool
    sources: dict[str, str]  # server -> state in words
    offset: str  # the last offset, as the daemon prints it


@dataclass(frozen=True)
class Space:
    """A file system's size, in bytes, as df says."""

    total: int
    used: int
    free: int  # what may still be written (less than total - used: reserved blocks)


@dataclass(frozen=True)
class Disk:
    name: str
    size: int
    model: str


class LocalSystem:
    def __init__(self, root: str | os.PathLike | None = None):
        # XSTUI_DOM0_ROOT: a folder laid out like dom0 (tests, rehearsals)
        self.root = Path(root or os.environ.get("XSTUI_DOM0_ROOT") or "/")

    # plumbing ---------------------------------------------------------------
    def path(self, relative: str) -> Path:
        return self.root / relative

    def has(self, name: str) -> bool:
        """dom0 has the tool ``name`` (one of COMMANDS)."""
        return os.access(self.path(COMMANDS[name]), os.X_OK)

    def command(self, name: str, *args: str) -> list[str]:
        tool = self.path(COMMANDS[name])
        if not os.access(tool, os.X_OK):
            raise LocalError(f"{name} is not on this host ({tool})")
        return [str(tool), *args]

    def run(self, name: str, *args: str, stdin: str = "", timeout: float = 60) -> str:
        try:
            done = subprocess.run(
                self.command(name, *args),
                input=stdin,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=child_environment(),
            )
        except subprocess.TimeoutExpired:
            raise LocalError(f"{name} did not answer within {int(timeout)} s") from None
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise LocalError(f"{name} failed (exit {done.returncode}): {last[0]}")
        return done.stdout

    def status(self, name: str, *args: str, timeout: float = 60) -> tuple[int, str]:
        """(exit code, output) for tools whose exit code is an answer
        (``xe-backup-metadata -n`` exits 3 when there is no backup VDI)."""
        try:
            done = subprocess.run(
                self.command(name, *args),
                capture_output=True,
                text=True,
                timeout=timeout,
                env=child_environment(),
            )
        except subprocess.TimeoutExpired:
            raise LocalError(f"{name} did not answer within {int(timeout)} s") from None
        return done.returncode, (done.stdout + done.stderr).strip()

    def stream(self, name: str, *args: str, stdin: str = "") -> Iterator[str]:
        """The tool's output, line by line, as it comes; LocalError on failure."""
        proc = subprocess.Popen(
            self.command(name, *args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=child_environment(),
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(stdin)
        proc.stdin.close()
        last = ""
        for line in proc.stdout:
            last = line.rstrip("\n")
            yield last
        if proc.wait() != 0:
            raise LocalError(f"{name} failed (exit {proc.returncode}): {last or 'no output'}")

    def read(self, relative: str) -> str:
        try:
            return self.path(relative).read_text(errors="replace")
        except OSError:
            return ""

    def files(self, relative: str) -> list[tuple[str, int]]:
        """Every file under the folder ``relative`` (its path there, its size)."""
        top = self.path(relative)
        out = []
        for folder, _dirs, names in os.walk(top):
            for name in names:
                path = Path(folder) / name
                try:
                    out.append((str(path.relative_to(top)), path.lstat().st_size))
                except OSError:
                    continue
        return out

    def space(self, relative: str) -> Space:
        """The size of the file system holding ``relative``; LocalError when df fails."""
        lines = self.run("df", "-B1", "--output=size,used,avail", str(self.path(relative)))
        try:
            total, used, free = (int(n) for n in lines.splitlines()[-1].split())
        except ValueError:
            raise LocalError(f"df answered {lines.strip()[-80:]!r}") from None
        return Space(total, used, free)

    # facts --------------------------------------------------------------------
    def pool_role(self) -> tuple[str, str]:
        """("master", "") or ("member", master address), from pool.conf."""
        text = self.read(POOL_CONF).strip()
        if text.startswith("slave:"):
            return "member", text[6:].strip()
        return "master", ""

    def management_device(self) -> str:
        """The management NIC the installer set up (LABEL in management.conf)."""
        m = re.search(r"^LABEL=['\"]?([\w.-]+)", self.read(MANAGEMENT_CONF), re.M)
        return m.group(1) if m else ""

    def management_vlan(self) -> str:
        """The installer's VLAN tag of the management interface ('' for none):
        xe-reset-networking takes it again unless told --vlan or --novlan."""
        m = re.search(r"^VLAN=['\"]?(\d+)", self.read(MANAGEMENT_CONF), re.M)
        return m.group(1) if m else ""

    # NTP ----------------------------------------------------------------------
    def ntp_daemon(self) -> tuple[str, str]:
        """(daemon, its configuration file): chronyd where dom0 has its file or
        its tool (XenServer 8, XCP-ng 8), ntpd before."""
        chronyd, ntpd = NTP_DAEMONS
        if self.path(chronyd[1]).exists() or self.has("chronyc"):
            return chronyd
        return ntpd

    def ntp_servers(self) -> list[str]:
        """The servers (and pools) the daemon's file names, in its order."""
        _daemon, conf = self.ntp_daemon()
        return re.findall(r"^\s*(?:server|pool)\s+(\S+)", self.read(conf), re.M)

    def ntp_config(self, servers: list[str]) -> str:
        """The daemon's file with ``servers`` in place of its server and pool
        lines (where the first one was; every other line kept)."""
        _daemon, conf = self.ntp_daemon()
        lines, out, placed = self.read(conf).splitlines(), [], False
        new = [f"server {s} iburst" for s in servers]
        for line in lines:
            if re.match(r"^\s*(?:server|pool)\s", line):
                if not placed:
                    out.extend(new)
                    placed = True
                continue
            out.append(line)
        if not placed:
            out.extend(new)
        return "\n".join(out) + "\n"

    def write(self, relative: str, text: str, mode: int = 0o644) -> None:
        """Replace a dom0 file (atomically; system files are world-readable)."""
        write_atomic(self.path(relative), text, mode)

    def ntp_state(self) -> NtpState:
        daemon, _conf = self.ntp_daemon()
        return self._chrony() if daemon == "chronyd" else self._ntpd()

    def _chrony(self) -> NtpState:
        tracking = self.run("chronyc", "-n", "tracking")
        leap = re.search(r"^Leap status\s*:\s*(.+)$", tracking, re.M)
        offset = re.search(r"^Last offset\s*:\s*(.+)$", tracking, re.M)
        states = {
            "*": "synced",
            "+": "combined",
            "-": "not combined",
            "?": "unreachable",
            "x": "may be wrong",
            "~": "too variable",
        }
        sources = {}
        for line in self.run("chronyc", "-n", "sources").splitlines():
            m = re.match(r"^\^(.)\s+(\S+)", line)
            if m:
                sources[m.group(2)] = states.get(m.group(1), m.group(1))
        return NtpState(
            "chronyd",
            bool(leap) and leap.group(1).strip() != "Not synchronised",
            sources,
            offset.group(1).strip() if offset else "",
        )

    def _ntpd(self) -> NtpState:
        """ntpq -pn: a tally code and the peer, then refid, st, t, when,
        poll, reach, delay, offset (ms), jitter. The tally codes in ntpq's
        own words (a space: rejected, or unreachable when never reached)."""
        sources, offset, synced = {}, "", False
        for line in self.run("ntpq", "-pn").splitlines()[2:]:
            m = re.match(r"^(.)(\S+)\s", line)
            if not m:
                continue
            code, peer = m.groups()
            fields = line.split()
            if code == " ":
                reach = fields[-4] if len(fields) >= 4 else ""
                sources[peer] = "unreachable" if reach == "0" else "rejected"
            else:
                sources[peer] = NTPQ_TALLY.get(code, f"tally code {code}")
            if code in ("*", "o"):
                synced, offset = True, f"{fields[-2]} ms"
        return NtpState("ntpd", synced, sources, offset)

    # services: systemd from XenServer 7, SysV init before --------------------------
    def service_running(self, unit: str) -> bool:
        if self.has("systemctl"):
            code, _out = self.status("systemctl", "is-active", unit)
        else:
            code, _out = self.status("service", unit, "status")
        return code == 0

    def service_commands(self, unit: str, verb: str) -> list[tuple[str, ...]]:
        """The commands that turn a daemon on (now and at boot), off, or
        restart it, as this dom0 does it."""
        if self.has("systemctl"):
            return {
                "on": [("systemctl", "enable", unit), ("systemctl", "start", unit)],
                "off": [("systemctl", "stop", unit), ("systemctl", "disable", unit)],
                "restart": [("systemctl", "restart", unit)],
            }[verb]
        return {
            "on": [("chkconfig", unit, "on"), ("service", unit, "start")],
            "off": [("service", unit, "stop"), ("chkconfig", unit, "off")],
            "restart": [("service", unit, "restart")],
        }[verb]

    def switch_service(self, unit: str, verb: str) -> None:
        for name, *args in self.service_commands(unit, verb):
            self.run(name, *args)

    # the time zone --------------------------------------------------------------
    def timezone(self) -> str:
        """dom0's zone: ZONE in /etc/sysconfig/clock (before XenServer 7), else
        where /etc/localtime links to ('' when neither says)."""
        m = re.search(r"^ZONE=['\"]?([^'\"\n]+)", self.read(SYSCONFIG_CLOCK), re.M)
        if m:
            return m.group(1).strip()
        try:
            target = os.readlink(self.path(LOCALTIME))
        except OSError:
            return ""
        return target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""

    def timezone_commands(self, zone: str) -> list[str]:
        """What setting ``zone`` does here, as an admin would type it."""
        if self.has("timedatectl"):
            return [f"timedatectl set-timezone {shlex.quote(zone)}"]
        return [
            f"cp /usr/share/zoneinfo/{shlex.quote(zone)} /etc/localtime",
            f"sed -i 's|^ZONE=.*|ZONE=\"{zone}\"|' /etc/sysconfig/clock",
        ]

    def set_timezone(self, zone: str) -> None:
        if self.has("timedatectl"):
            self.run("timedatectl", "set-timezone", zone)
            return
        try:
            data = self.path(f"{ZONEINFO}/{zone}").read_bytes()
        except OSError as exc:
            raise LocalError(f"{zone} is not in dom0's zone database ({exc.strerror})") from None
        clock = re.sub(r"^ZONE=.*\n?", "", self.read(SYSCONFIG_CLOCK), flags=re.M)
        write_atomic(self.path(LOCALTIME), data, 0o644)
        self.write(SYSCONFIG_CLOCK, f'ZONE="{zone}"\n{clock}')

    def load(self) -> tuple[float, float, float]:
        """The load averages over 1, 5 and 15 minutes (zeros when unknown)."""
        try:
            one, five, fifteen = (float(n) for n in self.read(LOADAVG).split()[:3])
        except ValueError:
            return 0.0, 0.0, 0.0
        return one, five, fifteen

    # the console keymap: localectl (systemd), or KEYTABLE and loadkeys before ------
    def keymap(self) -> str:
        m = re.search(r"^KEYMAP=['\"]?([\w.-]+)", self.read(VCONSOLE), re.M) or re.search(
            r"^KEYTABLE=['\"]?([\w.-]+)", self.read(KEYBOARD), re.M
        )
        return m.group(1) if m else "us"

    def keymaps(self) -> list[str]:
        """The console keymaps dom0 has: localectl's list, or without
        localectl the files of the kbd keymaps folder it would list."""
        try:
            listed = self.run("localectl", "list-keymaps").splitlines()
        except LocalError as exc:
            listed = [
                name.split("/")[-1].removesuffix(".gz").removesuffix(".map")
                for folder in KBD_KEYMAPS
                for name, _size in self.files(folder)
                if re.search(r"\.map(\.gz)?$", name) and "/include/" not in f"/{name}"
            ]
            if not listed:
                where = " nor ".join(str(self.path(f)) for f in KBD_KEYMAPS)
                raise LocalError(f"{exc}, and neither {where} holds keymaps") from None
        return sorted({k.strip() for k in listed if k.strip()})

    def keymap_commands(self, keymap: str) -> list[str]:
        """What setting ``keymap`` does here, as an admin would type it."""
        if self.has("localectl"):
            return [f"localectl set-keymap {shlex.quote(keymap)}"]
        return [
            f"sed -i 's|^KEYTABLE=.*|KEYTABLE=\"{keymap}\"|' /{KEYBOARD}",
            f"loadkeys {shlex.quote(keymap)}",
        ]

    def set_keymap(self, keymap: str) -> None:
        """The console keymap, now and at boot."""
        if self.has("localectl"):
            self.run("localectl", "set-keymap", keymap)
            return
        old = self.read(KEYBOARD)
        rest = re.sub(r"^KEYTABLE=.*\n?", "", old, flags=re.M)
        self.write(KEYBOARD, f'KEYTABLE="{keymap}"\n{rest}')
        try:
            self.run("loadkeys", keymap)
        except LocalError:
            self.write(KEYBOARD, old)  # as it was: nothing half done
            raise

    def logrotate_version(self) -> tuple[int, ...] | None:
        """logrotate's version (3.7.4 in XenServer 6.x's dom0), None when it
        does not say."""
        try:
            _code, said = self.status("logrotate", "--version", timeout=15)
        except LocalError:
            return None
        m = re.search(r"logrotate\s+(\d+(?:\.\d+)*)", said)
        return tuple(int(n) for n in m.group(1).split(".")) if m else None

    def timezones(self) -> list[str]:
        """The zones of dom0's time zone database (Region/City, UTC...), read
        from /usr/share/zoneinfo: its TZif files, not the posix/ and right/ copies."""
        zones = []
        for name, _size in self.files(ZONEINFO):
            if name.split("/")[0] in ("posix", "right") or not name[:1].isupper():
                continue
            try:
                with self.path(f"{ZONEINFO}/{name}").open("rb") as f:
                    if f.read(4) == b"TZif":
                        zones.append(name)
            except OSError:
                continue
        return sorted(zones)

    def disks(self) -> list[Disk]:
        out = []
        for line in self.run(
            "lsblk", "-d", "-b", "-n", "-P", "-o", "NAME,SIZE,MODEL,TYPE"
        ).splitlines():
            fields = dict(re.findall(r'(\w+)="([^"]*)"', line))
            if fields.get("TYPE") == "disk":
                out.append(
                    Disk(
                        fields.get("NAME", "?"),
                        int(fields.get("SIZE") or 0),
                        fields.get("MODEL", "").strip(),
                    )
                )
        return out


# actions ----------------------------------------------------------------------------
class SetKeymap(Action):
    """The console keyboard layout of dom0 (what the iLO/DRAC console types)."""

    @staticmethod
    def fields(system: LocalSystem, keymaps: list[str]) -> list[Field]:
        """Picked from dom0's own list (type the first letters to jump there)."""
        return [host_list("keymap", "Keyboard layout", system.keymap(), keymaps, "layouts")]

    def __init__(self, system: LocalSystem, keymap: str, keymaps: list[str]):
        if keymap not in keymaps:
            raise InvalidInput([f"{keymap!r} is not a keyboard layout of this host"])
        self.system, self.keymap, self.old = system, keymap, system.keymap()

    def plan(self) -> Plan:
        return Plan(
            "Keyboard layout",
            f"The console keyboard layout becomes {self.keymap} (it was {self.old}).",
            self.system.keymap_commands(self.keymap),
            impact=[
                "The layout of the host's own console changes now; SSH sessions are not affected."
            ],
        )

    def run(self, ctx: RunContext) -> str:
        self.system.set_keymap(self.keymap)
        ctx.on_undo("restore the keyboard layout", lambda: self.system.set_keymap(self.old))
        return f"Keyboard layout: {self.keymap}."


class ResetNetworking(Action):
    """The emergency network reset (``xe-reset-networking``): the host forgets
    its network configuration, sets up one management interface (on a VLAN
    if given), and reboots at once: the VMs still running here are
    force-stopped (in a network emergency nothing can migrate)."""

    @staticmethod
    def nics(cache: Cache, system: LocalSystem, host: str) -> list[str]:
        """The host's NICs, by name (eth0, eth1, ... eth10): its physical PIFs,
        and the installer's management NIC."""
        with cache.lock:
            names = {p.device for p in cache.table("pif").values() if p.host == host and p.physical}
        names.add(system.management_device())
        return sorted(
            (n for n in names if n),
            key=lambda n: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", n)],
        )

    @staticmethod
    def addressing(cache: Cache, host: str) -> dict[str, str]:
        """The management interface's addressing as the pool has it now (the
        form starts from it: a reset rarely means a new address)."""
        with cache.lock:
            pif = views.management_pif(cache, host)
        if pif is None or pif.ip_configuration_mode != "Static":
            return {"mode": "dhcp", "ip": "", "netmask": "", "gateway": "", "dns": ""}
        return {
            "mode": "static",
            "ip": pif.IP,
            "netmask": pif.netmask,
            "gateway": pif.gateway,
            "dns": pif.DNS.split(",")[0].strip(),
        }

    @staticmethod
    def fields(cache: Cache, system: LocalSystem, host: str) -> list[Field]:
        role, master = system.pool_role()
        nics = ResetNetworking.nics(cache, system, host)
        now = ResetNetworking.addressing(cache, host)
        fields = [
            Field(
                "device",
                "Management NIC",
                system.management_device() or (nics[0] if nics else "eth0"),
                problem_of(_device),
                choices=nics,
            ),
            Field(
                "vlan",
                "VLAN tag (empty: none)",
                system.management_vlan(),
                optional(problem_of(v.vlan_tag)),
            ),
            Field("mode", "Address", now["mode"], choices=("dhcp", "static")),
            Field("ip", "IP (static)", now["ip"], optional(problem_of(v.ipv4))),
            Field("netmask", "Netmask (static)", now["netmask"], optional(problem_of(v.netmask))),
            Field(
                "gateway",
                "Gateway (static)",
                now["gateway"],
                optional(problem_of(v.ipv4, "gateway")),
            ),
            Field(
                "dns", "DNS server (static)", now["dns"], optional(problem_of(v.ipv4, "DNS server"))
            ),
        ]
        if role == "member":
            fields.insert(
                0,
                Field(
                    "master", "Pool master's address", master, problem_of(v.ipv4, "master address")
                ),
            )
        return fields

    def __init__(self, cache: Cache, system: LocalSystem, this_host: str, values: dict[str, str]):
        self.system = system
        self.role, current_master = system.pool_role()
        device = _device(values.get("device", ""))
        mode = values.get("mode", "dhcp")
        problems = []
        if mode not in ("dhcp", "static"):
            problems.append("the address is dhcp or static")
        args = [f"--device={device}"]
        vlan = values.get("vlan", "").strip()
        self.vlan = v.vlan_tag(vlan) if vlan else None
        if self.vlan is not None:
            args.append(f"--vlan={self.vlan}")
        elif system.management_vlan():  # or the tool takes the installer's VLAN again
            args.append("--novlan")
        args.append(f"--mode={mode}")
        if mode == "static":
            ip, mask = values.get("ip", "").strip(), values.get("netmask", "").strip()
            if not ip or not mask:
                problems.append("a static address needs an IP and a netmask")
            else:
                args += [f"--ip={v.ipv4(ip)}", f"--netmask={v.netmask(mask)}"]
                if values.get("gateway", "").strip():
                    args.append(f"--gateway={v.gateway(values['gateway'], ip, mask)}")
                if values.get("dns", "").strip():
                    args.append(f"--dns={v.ipv4(values['dns'], 'DNS server')}")
        self.master = ""
        if self.role == "member":
            self.master = v.ipv4(values.get("master", "") or current_master, "master address")
            args.insert(0, f"--master={self.master}")
        if problems:
            raise InvalidInput(problems)
        with cache.lock:
            # what the reboot force-stops (xe-reset-networking warns the same)
            self.stopped = sorted(
                vm.name_label
                for vm in views.user_vms(cache)
                if vm.power_state in ("Running", "Paused") and vm.resident_on == this_host
            )
            ha = views.ha_enabled(cache)
        if ha:
            raise InvalidInput(
                ["HA is on: disable it first (a host that drops off the network would be fenced)"]
            )
        self.device, self.mode, self.args = device, mode, args

    def plan(self) -> Plan:
        on = f"{self.device}, VLAN {self.vlan}" if self.vlan is not None else self.device
        impact = []
        if self.stopped:
            impact.append(
                f"FORCE-STOPS the {len(self.stopped)} VM(s) running here, as a power cut "
                f"would (unsaved data in them is lost): {listing(self.stopped, limit=24)}."
            )
        impact += [
            "Every bond, VLAN and tunnel of this host is forgotten; the NICs come back as "
            "they were at installation, named in the installer's order.",
            f"{on} becomes the management interface ({self.mode}).",
            "The host REBOOTS at once.",
        ]
        if self.role == "member":
            impact.append(
                f"After the reboot it contacts the master at {self.master} and takes the pool's "
                "networks again; check its NICs against the others in "
                f"{see('network', 'c', tab='Pool check')}."
            )
        else:
            impact.append(
                "This is the master: after the reboot, re-create its bonds and VLANs "
                "(the members keep theirs); members reach it at its new address only if "
                "each is told (xe-reset-networking --master on each)."
            )
        stops = f", force-stop {len(self.stopped)} VM(s)" if self.stopped else ""
        return Plan(
            "Emergency network reset",
            f"Reset the network configuration of this host, management on {on}{stops}, and reboot.",
            ["xe-reset-networking " + " ".join(shlex.quote(a) for a in self.args)],
            impact=impact,
            risk="high",
            confirm_word="reset",
        )

    def run(self, ctx: RunContext) -> str:
        ctx.commit()  # the tool reboots the host when it is done: nothing to take back
        lines = []
        for line in self.system.stream("xe-reset-networking", *self.args, stdin="yes\n"):
            lines.append(line)
            ctx.note(line[-70:])
        return "Network reset done; the host is rebooting. " + (lines[-1] if lines else "")


def _device(text: str) -> str:
    text = text.strip()
    if not re.fullmatch(r"[A-Za-z][\w.-]{0,14}", text):
        raise InvalidInput([f"{text!r} is not a NIC name (e.g. eth0)"])
    return text


OVERWRITE = ("keep it", "overwrite")  # what to do with a file already there


class StatusReport(Action):
    """A server status report: in dom0 ``xen-bugtool`` writes it here;
    remotely ``host.bugreport_upload`` sends it to a support URL; either way
    it can be saved to a file instead (``GET /system-status``: the same
    report, made by that host)."""

    calls = ("host.bugreport_upload", "http/get_system_status")

    @staticmethod
    def fields(local: bool) -> list[Field]:
        save = [
            Field(
                "path",
                "Or save to file" if not local else "Save to file",
                "",
                optional(problem_of(v.file_to_save)),
                placeholder="/var/opt/xen/bug-report" if local else "~/status-report.tar.bz2",
            ),
            Field("overwrite", "If the file exists", OVERWRITE[0], choices=OVERWRITE),
        ]
        if local:
            return save
        url = Field(
            "url",
            "Upload to (URL)",
            "",
            optional(problem_of(_upload_url)),
            placeholder="https://...",
        )
        return [url, *save]

    def __init__(
        self,
        cache: Cache,
        host: str,
        *,
        system: LocalSystem | None = None,
        url: str = "",
        path: str = "",
        overwrite: bool = False,
    ):
        self.system, self.host = system, host
        with cache.lock:
            rec = host_or_refuse(cache, host)
            self.name, self.uuid = rec.name_label, rec.uuid
        self.path = v.file_to_save(path, overwrite) if path.strip() else None
        self.replaces = self.path is not None and self.path.exists()
        if system is not None or self.path is not None:
            if url.strip():
                raise InvalidInput(["upload or save to a file, not both"])
            self.url = ""
        elif not url.strip():
            raise InvalidInput(["give the URL to upload to, or a file to save to"])
        else:
            self.url = _upload_url(url)

    def plan(self) -> Plan:
        if self.path is not None:
            return Plan(
                "Server status report",
                f"Collect the status report of {self.name} (logs, configuration, hardware) "
                f"and save it to {self.path}.",
                [],
                steps=[
                    "GET /system-status from the host: it runs xen-bugtool and sends the "
                    "report (streamed to a temporary file, renamed when complete)"
                ],
                impact=[
                    "Takes a few minutes; nothing is sent anywhere else.",
                    *([f"{self.path} is replaced."] if self.replaces else []),
                    "The report holds logs and configuration (no passwords): keep it private.",
                ],
            )
        if self.system is not None:
            return Plan(
                "Server status report",
                f"Collect the status report of {self.name} (logs, configuration, hardware) into /var/opt/xen/bug-report.",
                ["xen-bugtool --yestoall"],
                impact=[
                    "Takes a few minutes and some disk space in dom0; nothing is sent anywhere."
                ],
            )
        return Plan(
            "Server status report",
            f"Collect the status report of {self.name} and upload it to {self.url}.",
            [f"xe host-bugreport-upload host={self.uuid} url={shlex.quote(self.url)}"],
            impact=[
                "The report holds logs and configuration (no passwords): send it only where you trust."
            ],
        )

    def run(self, ctx: RunContext) -> str:
        if self.path is not None:
            from ..backup.transfers import fetch  # here: backup imports this module

            query = {"output": "tar.bz2"}
            written = fetch(
                ctx, "xstui: status report", "/system-status", query, self.path, host=self.host
            )
            return f"The status report of {self.name} ({size(written)}) is saved to {self.path}."
        if self.system is None:
            ctx.task("host.bugreport_upload", self.host, self.url, {})
            return f"The status report of {self.name} was uploaded to {self.url}."
        written = ""
        for line in self.system.stream("xen-bugtool", "--yestoall"):
            ctx.note(line[-70:])
            m = re.search(r"(/\S+\.(?:tar\.bz2|tar\.gz|tgz|zip))", line)
            if m:
                written = m.group(1)
        return f"Status report written: {written or 'see /var/opt/xen/bug-report'}."


def _upload_url(text: str) -> str:
    text = text.strip()
    if not re.match(r"^(https?|ftp)://[^\s/]+", text):
        raise InvalidInput(["give the URL to upload to (http://, https:// or ftp://)"])
    return text
