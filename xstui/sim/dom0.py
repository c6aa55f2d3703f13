"""A fake dom0: a folder laid out like a host's root filesystem, with small
shell scripts standing in for the tools xstui drives there (chronyc or ntpq,
df, localectl or loadkeys, logrotate, lsblk, xe-reset-networking,
xe-toolstack-restart, xen-bugtool, and the metadata backup scripts) and the
files it reads, as the release's dom0 has them (``init``, ``ntp``).
Tests and ``xstui demo --dom0`` point :class:`LocalSystem` at it, so nothing
ever runs against the machine's own system."""

from __future__ import annotations

import base64
import os
import shlex
import sys
from pathlib import Path

ZONES = ("UTC", "Europe/Paris", "Europe/London", "America/New_York", "posix/Europe/Paris")
KEYMAPS = ("us", "uk", "fr", "de", "de-latin1", "es", "it", "jp106", "be-latin1", "sv-latin1")

# the NTP tools print the servers of their daemon's file, as they would after a restart
_SERVERS = "grep -E '^(server|pool) ' \"$ROOT/{conf}\" | awk '{{print $2}}'"
_CHRONYC = """#!/bin/sh
ROOT={root}
state="$(cat "$ROOT/var/lib/chrony/fake-state" 2>/dev/null || echo synced)"
servers="$({servers})"
case "$*" in
  *tracking*)
    if [ "$state" = synced ]; then leap=Normal; else leap="Not synchronised"; fi
    echo "Reference ID    : 7F0A007B ($(echo "$servers" | head -1))"
    echo "Stratum         : 3"
    echo "Last offset     : +0.000012345 seconds"
    echo "Leap status     : $leap" ;;
  *sources*)
    echo "MS Name/IP address         Stratum Poll Reach LastRx Last sample"
    echo "==============================================================================="
    mark='*'; [ "$state" = synced ] || mark='?'
    for s in $servers; do
      printf '^%s %-27s 2   6   377    12   +12us[ +15us] +/- 20ms\\n' "$mark" "$s"
      if [ "$state" = synced ]; then mark='+'; fi
    done ;;
  *) echo "chronyc: unknown command" >&2; exit 1 ;;
esac
"""
_NTPQ = """#!/bin/sh
ROOT={root}
state="$(cat "$ROOT/var/lib/chrony/fake-state" 2>/dev/null || echo synced)"
echo "     remote           refid      st t when poll reach   delay   offset  jitter"
echo "=============================================================================="
mark='*'; [ "$state" = synced ] || mark=' '
for s in $({servers}); do
  if [ "$state" = synced ]; then reach=377; else reach=0; fi
  printf '%s%-15s .GPS.   1 u   12   64  %3s    0.412    0.013   0.002\\n' "$mark" "$s" "$reach"
  if [ "$state" = synced ]; then mark='+'; fi
done
"""
# services: systemctl (XenServer 7 and later) or service and chkconfig (6.5), on
# state files: run/fake-units/<unit> holds "active", etc/fake-enabled/<unit> exists
_SYSTEMCTL = """#!/bin/sh
ROOT={root}
mkdir -p "$ROOT/run/fake-units" "$ROOT/etc/fake-enabled"
unit="${{2%.service}}"
[ -n "$unit" ] || {{ echo "Too few arguments." >&2; exit 1; }}
case "$1" in
  is-active) if [ -f "$ROOT/run/fake-units/$unit" ]; then echo active; else echo inactive; exit 3; fi ;;
  start|restart) echo active > "$ROOT/run/fake-units/$unit" ;;
  stop) rm -f "$ROOT/run/fake-units/$unit" ;;
  enable) touch "$ROOT/etc/fake-enabled/$unit" ;;
  disable) rm -f "$ROOT/etc/fake-enabled/$unit" ;;
  *) echo "Unknown operation '$1'." >&2; exit 1 ;;
esac
"""
_SERVICE = """#!/bin/sh
ROOT={root}
mkdir -p "$ROOT/run/fake-units"
case "$2" in
  status) if [ -f "$ROOT/run/fake-units/$1" ]; then echo "$1 is running..."; else echo "$1 is stopped"; exit 3; fi ;;
  start|restart) echo active > "$ROOT/run/fake-units/$1"; echo "Starting $1: [  OK  ]" ;;
  stop) rm -f "$ROOT/run/fake-units/$1"; echo "Stopping $1: [  OK  ]" ;;
  *) echo "Usage: $1 {{start|stop|restart|status}}" >&2; exit 2 ;;
esac
"""
_CHKCONFIG = """#!/bin/sh
ROOT={root}
mkdir -p "$ROOT/etc/fake-enabled"
case "$2" in
  on) touch "$ROOT/etc/fake-enabled/$1" ;;
  off) rm -f "$ROOT/etc/fake-enabled/$1" ;;
  *) echo "chkconfig: unknown option $2" >&2; exit 1 ;;
esac
"""
_TIMEDATECTL = """#!/bin/sh
ROOT={root}
case "$1" in
  set-timezone)
    [ -f "$ROOT/usr/share/zoneinfo/$2" ] || {{ echo "Failed to set time zone: Invalid time zone '$2'" >&2; exit 1; }}
    ln -sfn "../usr/share/zoneinfo/$2" "$ROOT/etc/localtime" ;;
  *) echo "timedatectl: unknown command" >&2; exit 1 ;;
esac
"""

_LOCALECTL = """#!/bin/sh
ROOT={root}
case "$1" in
  list-keymaps) printf '%s\\n' {keymaps} ;;
  set-keymap)
    printf '%s\\n' {keymaps} | grep -qx "$2" || {{ echo "Invalid keymap $2" >&2; exit 1; }}
    echo "KEYMAP=\\"$2\\"" > "$ROOT/etc/vconsole.conf" ;;
  *) echo "localectl: unknown command" >&2; exit 1 ;;
esac
"""

# before systemd (XenServer 6.5): the keymap is KEYTABLE in /etc/sysconfig/keyboard,
# loaded by loadkeys, which finds it among the kbd keymaps
_LOADKEYS = """#!/bin/sh
ROOT={root}
ls "$ROOT"/lib/kbd/keymaps/i386/*/"$1".map.gz >/dev/null 2>&1 || {{ echo "cannot open file $1" >&2; exit 1; }}
mkdir -p "$ROOT/run"
echo "$1" > "$ROOT/run/fake-loadkeys"
"""
# logrotate names its version first (CentOS 5's 3.7.4 in XenServer 6.5, 3.8.6 after)
_LOGROTATE_TOOL = """#!/bin/sh
echo "logrotate {version} - Copyright (C) 1995-2001 Red Hat, Inc." >&2
echo "This may be freely redistributed under the terms of the GNU Public License" >&2
"""

_LSBLK = """#!/bin/sh
echo 'NAME="sda" SIZE="479559942144" MODEL="PERC H730P Mini" TYPE="disk"'
echo 'NAME="sdb" SIZE="1919850381312" MODEL="SSDSC2KG019T8R " TYPE="disk"'
echo 'NAME="sr0" SIZE="1073741312" MODEL="Virtual CDROM" TYPE="rom"'
"""

# an XCP-ng 8 layout: an 18 GiB root and a 4 GiB /var/log of their own
ROOT_FS = (19_327_352_832, 7_516_192_768, 10_825_940_992)  # df's size, used, avail
LOG_FS = (4_160_749_568, 1_234_567_168, 2_712_862_720)
_DF = """#!/bin/sh
for last; do :; done
echo " 1B-blocks       Used      Avail"
case "$last" in
  */var/log) echo "{log}" ;;
  *) echo "{root}" ;;
esac
"""


def _ssh_key(kind: str, size: int) -> str:
    """A host's public SSH key of ``kind`` (not a real key: only its fingerprint is shown)."""
    name = kind.encode()
    body = bytes(i % 256 for i in range(size))
    blob = len(name).to_bytes(4, "big") + name + size.to_bytes(4, "big") + body
    return f"{kind} {base64.b64encode(blob).decode()} root@xcp-a\n"


SSH_KEY = _ssh_key("ssh-ed25519", 32)
# OpenSSH 4.3 of XenServer 6.5's dom0 (CentOS 5) has RSA and DSA host keys, no Ed25519
OLD_SSH_KEYS = {"rsa": _ssh_key("ssh-rsa", 257), "dsa": _ssh_key("ssh-dss", 129)}

_RESET = """#!/bin/sh
ROOT={root}
echo "The management interface will be $(echo "$*" | sed -n 's/.*--device=\\([^ ]*\\).*/\\1/p')"
printf '%s' "!! WARNING !!

This command will reboot the host and reset its network configuration.
Type 'yes' to continue.
"
read answer
[ "$answer" = yes ] || exit 1
echo "Stopping xapi..."
echo "Reconfiguring..."
echo "Updating inventory file..."
mkdir -p "$ROOT/tmp"
echo "$*" > "$ROOT/tmp/network-reset"
echo "Rebooting..."
"""

_BUGTOOL = """#!/bin/sh
ROOT={root}
mkdir -p "$ROOT/var/opt/xen/bug-report"
for part in system-logs xapi-db network-config hardware-info; do
  echo "Collecting $part..."
done
out="$ROOT/var/opt/xen/bug-report/bug-report-20261126.tar.bz2"
echo "report" > "$out"
echo "Writing tarball $out successful."
"""

_TOOLSTACK = """#!/bin/sh
ROOT={root}
echo "Stopping xapi: [  OK  ]"
echo "Starting xapi: [  OK  ]"
mkdir -p "$ROOT/tmp"
date +%s >> "$ROOT/tmp/toolstack-restarts"
"""
# the metadata scripts: Python, on the simulator's data (see dom0_metadata.py)
_METADATA = """#!{python}
import os, sys
os.environ.setdefault("XSTUI_DOM0_ROOT", {root!r})
from xstui.sim.dom0_metadata import {main}
sys.exit({main}())
"""
# a few hours of the host's logs, with the errors an admin looks for
_XENSOURCE = "".join(
    f"Nov 26 0{h}:{m:02d}:0{m % 10} xcp-a xapi: [ info||{100 + m} |dispatch:host.get_record D:{m}|"
    f"api_effect] host.get_record\n"
    + (
        f"Nov 26 0{h}:{m:02d}:30 xcp-a xapi: [error||{200 + m} |SR.scan R:{m}|backtrace] "
        f"SR_BACKEND_FAILURE_73: NFS mount error\n"
        if m % 17 == 0
        else ""
    )
    for h in range(1, 5)
    for m in range(60)
)
_LOGS = {
    "xensource.log": _XENSOURCE,
    "SMlog": "Nov 26 03:12:01 xcp-a SM: [1234] lock: opening lock file /var/lock/sm/sr\n"
    "Nov 26 03:12:02 xcp-a SM: [1234] FAILED in util.pread: (rc 32) mount.nfs: "
    "Connection timed out\n",
    "xha.log": "Nov 26 02:00:00 CET 2026 [info] HA not enabled\n",
    "audit.log": "Nov 26 04:00:01 xcp-a xapi: [20261126T04:00:01Z|audit] ('trackid' "
    "'root' 'ALLOWED' 'OK' 'API' 'host.get_record')\n",
    "daemon.log": "Nov 26 04:10:00 xcp-a chronyd[812]: Selected source 127.10.0.123\n",
    "messages": "Nov 26 04:11:00 xcp-a kernel: eth1: link up, 10000 Mbps, full duplex\n",
    "xensource.log.1.gz": "x" * 200_000,
}
_LOGROTATE = """# see "man logrotate" for details
# rotate log files weekly
weekly

# keep 4 weeks worth of backlogs
rotate 4

# create new (empty) log files after rotating old ones
create

# packages drop log rotation information into this directory
include /etc/logrotate.d
"""
# what xapi-ssl.pem holds before anyone replaces it (not a real key: only read back)
_OLD_PEM = "-----BEGIN PRIVATE KEY-----\nold\n-----END PRIVATE KEY-----\n"


def _script(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


def make_dom0(
    root: str | os.PathLike,
    *,
    ntp_servers: tuple[str, ...] = ("127.10.0.123", "127.10.0.124"),
    synchronised: bool = True,
    master: str = "",
    keymap: str = "us",
    init: str = "systemd",
    ntp: str = "chronyd",
) -> Path:
    """Lay out a fake dom0 under ``root``; ``master`` set makes it a member's.
    ``init`` and ``ntp`` follow the release (see sim.profiles): ``systemd``
    or ``sysv`` (XenServer 6.5: CentOS 5, with no localectl, RSA and DSA
    host keys, logrotate 3.7.4), ``chronyd`` or ``ntpd`` (before XenServer 8)."""
    root = Path(root)
    keymaps = " ".join(KEYMAPS)
    here = shlex.quote(str(root.resolve()))
    conf = "etc/chrony.conf" if ntp == "chronyd" else "etc/ntp.conf"
    servers = _SERVERS.format(conf=conf)
    (root / conf).parent.mkdir(parents=True, exist_ok=True)
    (root / conf).write_text(
        f"# {ntp}'s configuration, as the installer wrote it\n"
        + "".join(f"server {s} iburst\n" for s in ntp_servers)
        + (
            "driftfile /var/lib/chrony/drift\n"
            if ntp == "chronyd"
            else "driftfile /var/lib/ntp/drift\n"
        )
    )
    if ntp == "chronyd":
        _script(root / "usr/bin/chronyc", _CHRONYC.format(root=here, servers=servers))
    else:
        _script(root / "usr/sbin/ntpq", _NTPQ.format(root=here, servers=servers))
    if init == "systemd":
        _script(root / "usr/bin/systemctl", _SYSTEMCTL.format(root=here))
        _script(root / "usr/bin/timedatectl", _TIMEDATECTL.format(root=here))
        (root / "etc").mkdir(parents=True, exist_ok=True)
        os.symlink("../usr/share/zoneinfo/UTC", root / "etc/localtime")
    else:
        _script(root / "sbin/service", _SERVICE.format(root=here))
        _script(root / "sbin/chkconfig", _CHKCONFIG.format(root=here))
        (root / "etc/sysconfig").mkdir(parents=True, exist_ok=True)
        (root / "etc/sysconfig/clock").write_text('ZONE="UTC"\nUTC=true\n')
    for unit in ("sshd", ntp):  # running and enabled, as installed
        for folder in ("run/fake-units", "etc/fake-enabled"):
            (root / folder).mkdir(parents=True, exist_ok=True)
            (root / folder / unit).write_text("active\n")
    if init == "systemd":
        _script(root / "usr/bin/localectl", _LOCALECTL.format(root=here, keymaps=keymaps))
        (root / "etc/vconsole.conf").write_text(f'KEYMAP="{keymap}"\n')
        (root / "etc/ssh").mkdir(parents=True, exist_ok=True)
        (root / "etc/ssh/ssh_host_ed25519_key.pub").write_text(SSH_KEY)
        logrotate = "3.8.6"
    else:
        _script(root / "bin/loadkeys", _LOADKEYS.format(root=here))
        (root / "etc/sysconfig/keyboard").write_text(f'KEYTABLE="{keymap}"\nMODEL="pc105"\n')
        for name in KEYMAPS:  # where loadkeys finds them (only their names are read)
            layout = "qwertz" if name.startswith("de") else "qwerty"
            folder = root / "lib/kbd/keymaps/i386" / layout
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.map.gz").write_bytes(b"")
        (root / "etc/ssh").mkdir(parents=True, exist_ok=True)
        for kind, key in OLD_SSH_KEYS.items():
            (root / f"etc/ssh/ssh_host_{kind}_key.pub").write_text(key)
        logrotate = "3.7.4"
    _script(root / "usr/sbin/logrotate", _LOGROTATE_TOOL.format(version=logrotate))
    _script(root / "usr/bin/lsblk", _LSBLK)
    _script(
        root / "usr/bin/df",
        _DF.format(root=" ".join(map(str, ROOT_FS)), log=" ".join(map(str, LOG_FS))),
    )
    _script(root / "opt/xensource/bin/xe-reset-networking", _RESET.format(root=here))
    _script(root / "usr/sbin/xen-bugtool", _BUGTOOL.format(root=here))
    _script(root / "opt/xensource/bin/xe-toolstack-restart", _TOOLSTACK.format(root=here))
    for name, main in (("xe-backup-metadata", "backup"), ("xe-restore-metadata", "restore")):
        text = _METADATA.format(python=sys.executable, root=str(root.resolve()), main=main)
        _script(root / "opt/xensource/bin" / name, text)
    _script(root / "opt/xensource/libexec/backup-metadata-cron", "#!/bin/sh\nexit 0\n")
    for period in ("daily", "weekly", "monthly"):
        (root / f"etc/cron.{period}").mkdir(parents=True, exist_ok=True)
    for name, text in _LOGS.items():
        (root / "var/log" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "var/log" / name).write_text(text)
    for zone in ZONES:  # a few of the zone database's files (only their magic is read)
        (root / "usr/share/zoneinfo" / zone).parent.mkdir(parents=True, exist_ok=True)
        (root / "usr/share/zoneinfo" / zone).write_bytes(b"TZif2" + bytes(40))
    (root / "usr/share/zoneinfo/zone.tab").write_text("# not a zone\n")
    for relative, text in (
        ("etc/logrotate.conf", _LOGROTATE),
        ("etc/xensource/xapi-ssl.pem", _OLD_PEM),
        ("var/lib/chrony/fake-state", "synced" if synchronised else "unsynced"),
        ("proc/loadavg", "0.42 0.37 0.30 2/311 4242\n"),
        ("etc/xensource/pool.conf", f"slave:{master}" if master else "master"),
        ("etc/firstboot.d/data/management.conf", "LABEL='eth0'\nMODE='static'\n"),
    ):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root
