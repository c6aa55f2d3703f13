"""Input rules (networking fields, paths), checked before any XAPI call. Each
function returns the cleaned value or raises InvalidInput with the reason."""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path

from .actions import InvalidInput

MTU_MIN, MTU_MAX = 1280, 9216  # what XAPI and common NICs accept; 9000 is jumbo
VLAN_MIN, VLAN_MAX = 0, 4094
MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
LABEL_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")


def ipv4(text: str, what: str = "IP address") -> str:
    value = (text or "").strip()
    try:
        addr = ipaddress.IPv4Address(value)
    except ValueError:
        raise InvalidInput(
            [f"{what} {value!r} is not an IPv4 address (four numbers 0-255 separated by dots)"]
        ) from None
    if addr.is_multicast or addr.is_unspecified or str(addr) == "255.255.255.255":
        raise InvalidInput([f"{what} {value} cannot be used for a host"])
    return str(addr)


def netmask(text: str) -> str:
    value = (text or "").strip()
    try:
        ipaddress.IPv4Address(value)
        net = ipaddress.IPv4Network(f"0.0.0.0/{value}")
    except ValueError:
        raise InvalidInput([f"netmask {value!r} is not contiguous (e.g. 255.255.255.0)"]) from None
    if net.prefixlen == 0:
        raise InvalidInput(["netmask 0.0.0.0 leaves no network"])
    return value


def gateway(text: str, ip: str, mask: str) -> str:
    """Empty, or an address inside the subnet of ip/mask (not the IP itself)."""
    value = (text or "").strip()
    if not value:
        return ""
    gw = ipv4(value, "gateway")
    network = ipaddress.IPv4Interface(f"{ip}/{mask}").network
    if ipaddress.IPv4Address(gw) not in network:
        raise InvalidInput([f"gateway {gw} is outside the subnet {network}"])
    if gw == ip:
        raise InvalidInput(["gateway cannot be the interface's own address"])
    return gw


def dns_servers(text: str) -> list[str]:
    servers = [s.strip() for s in re.split(r"[,\s]+", text or "") if s.strip()]
    problems = []
    for s in servers:
        try:
            ipv4(s, "DNS server")
        except InvalidInput as exc:
            problems += exc.problems
    if len(servers) > 3:
        problems.append("at most 3 DNS servers (resolv.conf uses only the first 3)")
    if problems:
        raise InvalidInput(problems)
    return servers


def hostname(text: str, what: str = "hostname") -> str:
    """RECIPES: letters, digits, '.' and '-'; for Active Directory at most 63
    characters and not all digits. ``what``: the field's name in a refusal."""
    value = (text or "").strip()
    problems = []
    if not value:
        problems.append(f"give a {what}")
    elif len(value) > 63:
        problems.append(
            f"the {what} {value!r} is longer than 63 characters (Active Directory limit)"
        )
    elif value.replace(".", "").isdigit():
        problems.append(f"the {what} {value!r} cannot be all digits")
    elif not all(LABEL_RE.match(part) for part in value.split(".")):
        problems.append(
            f"the {what} {value!r} may contain only letters, digits, '.' and '-' (not at the "
            "start or end of a part)"
        )
    if problems:
        raise InvalidInput(problems)
    return value


def domain_name(text: str) -> str:
    """A DNS domain (an AD domain): two or more labels of letters, digits and '-'."""
    value = (text or "").strip().rstrip(".").lower()
    parts = value.split(".")
    if len(parts) < 2 or len(value) > 253 or not all(LABEL_RE.match(p) for p in parts):
        raise InvalidInput(
            [f"{text.strip()!r} is not a DNS domain (e.g. corp.example)"]
            if text.strip()
            else ["give a DNS domain (e.g. corp.example)"]
        )
    return value


def host_or_ip(text: str, what: str = "address") -> str:
    """A host name, an IPv4 address (digits and dots are read as one) or an
    IPv6 address."""
    value = (text or "").strip()
    if value and value.replace(".", "").isdigit():
        return ipv4(value, what)
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return hostname(value)


def int_in_range(text: str | int, what: str, low: int, high: int, hint: str = "") -> int:
    if not str(text).strip():
        raise InvalidInput([f"give {what_a(what)} ({low} to {high}{hint})"])
    try:
        value = int(str(text).strip())
    except ValueError:
        raise InvalidInput([f"{what} {text!r} is not a number"]) from None
    if not low <= value <= high:
        raise InvalidInput([f"{what} must be between {low} and {high}{hint}"])
    return value


def what_a(what: str) -> str:
    """``what`` as the object of "give": "the order" stays, "VLAN tag" gets its article."""
    first = what.split()[0].lower()
    if first in ("the", "a", "an") or first.endswith("s"):
        return what
    return f"an {what}" if what[:1].lower() in "aeiou" else f"a {what}"


def mtu(text: str | int) -> int:
    return int_in_range(text, "MTU", MTU_MIN, MTU_MAX, " (1500 standard, 9000 jumbo)")


def vlan_tag(text: str | int) -> int:
    return int_in_range(text, "VLAN tag", VLAN_MIN, VLAN_MAX)


def mac(text: str) -> str:
    value = (text or "").strip().lower().replace("-", ":")
    if not MAC_RE.match(value):
        raise InvalidInput([f"MAC {text!r} is not six hex pairs like 00:1b:21:0a:ba:3c"])
    if int(value[:2], 16) & 1:
        raise InvalidInput([f"MAC {value} is a multicast address"])
    return value


# paths: each checked where the console runs (the transfer reads and writes
# there, not on the host), the same way in every form that takes one
NAME_MAX = 255  # what a name label sensibly holds (XAPI takes any string)


def object_name(text: str, what: str = "name") -> str:
    """A name for a new object of the pool (a snapshot, a template): some
    text, without control characters (they would drive a terminal that
    shows it), at most NAME_MAX characters. Stripped."""
    from .values import CONTROL

    value = (text or "").strip()
    if not value:
        raise InvalidInput([f"give a {what}"])
    if CONTROL.search(value):
        raise InvalidInput([f"the {what} holds a control character: type plain text"])
    if len(value) > NAME_MAX:
        raise InvalidInput([f"the {what} has {len(value)} characters; at most {NAME_MAX}"])
    return value


def _named(text: str, what: str = "file") -> Path:
    if not text.strip():
        raise InvalidInput([f"give a {what} name"])
    return Path(text.strip()).expanduser()


def missing_folders(folder: Path) -> list[Path]:
    """The folders on the way to ``folder`` (itself included) that are not
    there yet, outermost first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing[::-1]


# the kernel's own file systems: their "files" are its settings and counters,
# never a place to save or read a file (a root console may write /proc and /sys)
SPECIAL_FS = frozenset(
    "proc sysfs devtmpfs devpts cgroup cgroup2 debugfs tracefs securityfs configfs pstore "
    "bpf efivarfs fusectl mqueue hugetlbfs binfmt_misc autofs rpc_pipefs nsfs".split()
)
MOUNTS = Path("/proc/self/mounts")


def special_fs(path: Path) -> str:
    """The kernel file system ``path`` is on (``proc``, ``sysfs``...), or ''
    for a disk's (or a tmpfs). The mount table says; without one (not Linux),
    /proc, /sys and /dev are taken for what they are on Linux."""
    real = os.path.realpath(path)
    try:
        lines = MOUNTS.read_text().splitlines()
    except OSError:
        lines = ["proc /proc proc", "sysfs /sys sysfs", "devtmpfs /dev devtmpfs"]
    best, kind = "", ""
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, parts[2]
    return kind if kind in SPECIAL_FS else ""


def _not_special(path: Path, given: Path) -> None:
    """Refuse ``given`` when ``path`` (it, or its folder) is on a kernel file system."""
    kind = special_fs(path)
    if kind:
        raise InvalidInput(
            [f"{given} is on the kernel's {kind} file system, not a disk: choose another place"]
        )


def _writable(folder: Path, what: str = "directory", made_in: Path | None = None) -> None:
    """``folder`` may be written in. With ``made_in`` (the console's own
    folder for such files), a folder there that is missing is fine: it is made
    once the admin confirms, in the nearest folder that is there."""
    missing = missing_folders(folder) if made_in is not None else []
    if missing:
        made_in = made_in.expanduser().absolute()
        if folder == made_in or made_in in folder.parents:
            folder = missing[0].parent
    if not folder.is_dir():
        raise InvalidInput([f"there is no {what} {folder}"])
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput([f"the {what} {folder} may not be written to"])


def file_to_save(
    text: str,
    overwrite: bool = True,
    *,
    instead: str = "choose another name, or overwrite it",
    made_in: Path | None = None,
) -> Path:
    """A file the console may write: named, in a directory that exists (or
    is to be made in ``made_in``) and it may write to, and (unless
    ``overwrite``) not there yet (``instead``: what the admin may do then).
    Its full path."""
    path = _named(text).absolute()
    _not_special(path.parent, path)
    try:
        _writable(path.parent, made_in=made_in)
    except InvalidInput as exc:  # the path given, then why
        raise InvalidInput([f"{path} cannot be saved: {p}" for p in exc.problems]) from None
    if path.is_dir():
        raise InvalidInput([f"{path} is a directory: give a file name"])
    if path.exists() and not overwrite:
        raise InvalidInput([f"{path} exists already: {instead}"])
    return path


def folder_to_write(text: str, made_in: Path | None = None) -> Path:
    """A folder the console may write files in: there (or to be made in
    ``made_in``), and writable. Its full path."""
    folder = _named(text, "folder").absolute()
    _not_special(folder, folder)
    _writable(folder, "folder", made_in)
    return folder


HEAD = 64 << 10  # how much of a file is read to tell what it is (PEM may follow text)
# what a file to read must look like, told from its start: (pattern, what it is)
LOOKS = {
    "pool database": (
        # XAPI's dump: XML whose root element is <database>
        re.compile(
            rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<database[\s/>]", re.S
        ),
        "XML whose root element is <database>, as xe pool-dump-database writes",
    ),
    "certificate": (
        re.compile(rb"-----BEGIN CERTIFICATE-----"),
        "PEM (-----BEGIN CERTIFICATE-----)",
    ),
    "private key": (
        re.compile(rb"-----BEGIN (?:RSA |EC )?PRIVATE KEY-----"),
        "an unencrypted PEM key (-----BEGIN PRIVATE KEY-----)",
    ),
}


def file_to_read(text: str, kind: str = "") -> Path:
    """A file the console may read: there, a file, readable, and with
    ``kind`` (one of LOOKS) its start looks like one."""
    path = _named(text)
    if not path.parent.is_dir():
        raise InvalidInput([f"there is no directory {path.parent}"])
    if not path.exists():
        raise InvalidInput([f"there is no file {path}"])
    if path.is_dir():
        raise InvalidInput([f"{path} is a directory: give a file name"])
    _not_special(path, path)
    if not path.is_file():
        raise InvalidInput([f"{path} is not a regular file (a device, a pipe or a socket)"])
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD if kind else 1)
    except OSError as exc:
        raise InvalidInput([f"{path} cannot be read: {exc.strerror or exc}"]) from None
    if kind:
        looks, what = LOOKS[kind]
        if not looks.search(head):
            raise InvalidInput([f"{path} is not a {kind}: expected {what}"])
    return path


def folder_to_read(text: str, pattern: str = "*") -> list[Path]:
    """The files matching ``pattern`` in a folder the console may read (at least one)."""
    folder = _named(text, "folder")
    if not folder.is_dir():
        raise InvalidInput([f"there is no folder {folder}"])
    _not_special(folder, folder)
    if not os.access(folder, os.R_OK | os.X_OK):
        raise InvalidInput([f"the folder {folder} may not be read"])
    files = sorted(p for p in folder.glob(pattern) if p.is_file())
    if not files:
        raise InvalidInput([f"no {pattern.lstrip('*')} file in {folder}"])
    return files


def problem(check, *args) -> str | None:
    """For forms: the reason a value is refused, or None."""
    try:
        check(*args)
    except InvalidInput as exc:
        return "; ".join(exc.problems)
    return None
