"""Checking an XVA file after an export: a tar whose first member is
``ova.xml`` (the VM's metadata), then each disk as ``Ref:N/%08d`` blocks of
at most 1 MiB, each followed by its ``.checksum`` (SHA-1, hex). Read as a
stream: memory stays flat whatever the size."""

from __future__ import annotations

import hashlib
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

CHUNK_RE = re.compile(r"^(Ref:[^/]+)/(\d{8})$")


class BadXva(ValueError):
    """The file is not a complete, intact XVA; the message says where."""


@dataclass(frozen=True)
class XvaReport:
    size: int  # bytes on disk
    disks: int
    blocks: int
    vm_name: str


def check_xva(path: Path) -> XvaReport:
    disks: set[str] = set()
    blocks, name, pending = 0, "", None  # pending: (name, sha1) awaiting its .checksum
    try:
        with tarfile.open(path, mode="r|") as tar:
            for i, member in enumerate(tar):
                data = tar.extractfile(member).read() if member.isfile() else b""
                if i == 0:
                    if member.name != "ova.xml":
                        raise BadXva(f"the first member is {member.name!r}, not ova.xml")
                    name = vm_name(data)
                    continue
                if member.name.endswith(".checksum"):
                    if pending is None or member.name != pending[0] + ".checksum":
                        raise BadXva(f"{member.name} has no block before it")
                    if data.decode(errors="replace").strip() != pending[1]:
                        raise BadXva(f"{pending[0]}: the checksum does not match (corrupt data)")
                    pending = None
                    continue
                match = CHUNK_RE.match(member.name)
                if match is None or pending is not None:
                    raise BadXva(f"unexpected member {member.name!r}")
                disks.add(match.group(1))
                blocks += 1
                pending = (member.name, hashlib.sha1(data).hexdigest())
    except tarfile.TarError as exc:
        raise BadXva(f"not a complete tar archive ({exc})") from None
    except OSError as exc:
        raise BadXva(f"cannot read it ({exc})") from None
    if not name and blocks == 0:
        raise BadXva("the file is empty or holds no VM")
    if pending is not None:
        raise BadXva(f"the file ends after {pending[0]} without its checksum (truncated)")
    return XvaReport(path.stat().st_size, len(disks), blocks, name)


def vm_name(ova: bytes) -> str:
    """The exported VM's name from ova.xml (its first name_label)."""
    match = re.search(rb"<name>name_label</name>\s*<value>(?:<string>)?([^<]*)", ova)
    return match.group(1).decode(errors="replace") if match else ""
