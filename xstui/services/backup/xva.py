"""Checking an XVA file after an export: a tar whose first member is
``ova.xml`` (the VM's metadata), then each disk as ``Ref:N/%08d`` blocks of
at most 1 MiB, each followed by its ``.checksum`` (SHA-1, hex). Read as a
stream: memory stays flat whatever the size. A member is read into memory
only up to MEMBER_LIMIT, and a metadata file (``.meta.xva``, possibly
compressed) only up to that much once decompressed."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import re
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..values import size

CHUNK_RE = re.compile(r"^(Ref:[^/]+)/(\d{8})$")
# ova.xml (a VM's records: tens of KiB, a few MiB with hundreds of snapshots)
# and each disk block (1 MiB) are far smaller
MEMBER_LIMIT = 32 * 1024 * 1024


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
                data = member_bytes(tar, member)
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


def member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    """A member's content; BadXva, before anything is read, when its header
    says it holds more than MEMBER_LIMIT."""
    if member.size > MEMBER_LIMIT:
        raise BadXva(f"{member.name} holds {size(member.size)}, more than {size(MEMBER_LIMIT)}")
    return tar.extractfile(member).read() if member.isfile() else b""


def metadata_xml(path: Path) -> bytes:
    """The ``ova.xml`` of a VM metadata file (a tar, possibly gzip, bzip2 or
    xz compressed), decompressed as a stream that stops at MEMBER_LIMIT:
    a small file that decompresses to gigabytes is refused, never held in
    memory. BadXva says what is wrong."""
    try:
        with open(path, "rb") as raw, _decompressed(raw) as plain:
            bounded = _Bounded(plain, MEMBER_LIMIT + 64 * 1024)  # + the tar headers
            with tarfile.open(fileobj=bounded, mode="r|") as tar:
                member = tar.next()
                if member is None or member.name != "ova.xml":
                    raise BadXva("it does not start with ova.xml")
                return member_bytes(tar, member)
    except (OSError, EOFError, zlib.error, lzma.LZMAError, tarfile.TarError) as exc:
        raise BadXva(str(exc) or type(exc).__name__) from None


def _decompressed(raw):
    magic = raw.read(6)
    raw.seek(0)
    if magic.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw)
    if magic.startswith(b"BZh"):
        return bz2.BZ2File(raw)
    if magic == b"\xfd7zXZ\x00":
        return lzma.LZMAFile(raw)
    return raw


class _Bounded:
    """A file read as a stream, refused (BadXva) past ``limit`` bytes."""

    def __init__(self, file, limit: int):
        self.file, self.limit, self.done = file, limit, 0

    def read(self, n: int = -1) -> bytes:
        want = self.limit + 1 - self.done if n is None or n < 0 else n
        data = self.file.read(min(want, self.limit + 1 - self.done))
        self.done += len(data)
        if self.done > self.limit:
            raise BadXva(f"more than {size(self.limit)} once decompressed")
        return data


def vm_name(ova: bytes) -> str:
    """The exported VM's name from ova.xml (its first name_label)."""
    match = re.search(rb"<name>name_label</name>\s*<value>(?:<string>)?([^<]*)", ova)
    return match.group(1).decode(errors="replace") if match else ""
