"""XVA files: a tar whose first member is ``ova.xml`` (the VM's records, an
XML-RPC value), then each disk as ``Ref:N/%08d`` blocks of at most 1 MiB,
each followed by its ``.checksum`` (SHA-1, hex). Checked as a stream, as
its bytes go by (an export written, an import sent): memory stays flat
whatever the size. A member is read into memory only up to MEMBER_LIMIT,
and a metadata file (``.meta.xva``, possibly compressed) only up to that
much once decompressed."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import re
import tarfile
import xmlrpc.client
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..values import size

CHUNK_RE = re.compile(r"^(Ref:[^/]+)/(\d{8})$")
# ova.xml (a VM's records: tens of KiB, a few MiB with hundreds of snapshots)
# and each disk block (1 MiB) are far smaller
MEMBER_LIMIT = 32 * 1024 * 1024
TAR_BLOCK = 512
READ = 1 << 20


class BadXva(ValueError):
    """The file is not a complete, intact XVA; the message says where."""


@dataclass(frozen=True)
class XvaReport:
    size: int  # bytes on disk
    disks: int
    blocks: int
    vm_name: str


@dataclass(frozen=True)
class XvaDisk:
    xva_id: str  # Ref:N, the prefix of its blocks
    name: str
    virtual_size: int
    used: int  # physical_utilisation when exported


@dataclass(frozen=True)
class XvaHeader:
    """What ``ova.xml`` says of the VM, read before anything is sent."""

    vm_name: str
    vm_uuid: str
    template: bool
    macs: tuple[str, ...]
    disks: tuple[XvaDisk, ...]
    memory: int  # static max, bytes
    vcpus: int
    xapi: tuple[int, int]  # the toolstack that wrote it ((0, 0): not said)
    product: str  # "XCP-ng 8.2.1"


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def parse_ova(ova: bytes) -> XvaHeader:
    """``ova.xml`` read (an XML-RPC value of version and objects); BadXva
    when it is not a VM's records."""
    try:
        value = xmlrpc.client.loads(
            b"<methodResponse><params><param>" + ova + b"</param></params></methodResponse>"
        )[0][0]
    except Exception as exc:  # expat's and the unmarshaller's refusals
        raise BadXva(f"ova.xml is not VM metadata ({exc})") from None
    objects = value.get("objects") if isinstance(value, dict) else None
    if not isinstance(objects, list):
        raise BadXva("ova.xml lists no objects")
    records: dict[str, list[tuple[str, dict]]] = {}
    for o in objects:
        if isinstance(o, dict) and isinstance(o.get("snapshot"), dict):
            records.setdefault(str(o.get("class", "")), []).append(
                (str(o.get("id")), o["snapshot"])
            )
    vms = records.get("VM", [])
    if not vms:
        raise BadXva("ova.xml describes no VM")
    vm_id, vm = vms[0]
    disk_vdis = {
        str(b.get("VDI")) for _id, b in records.get("VBD", []) if b.get("type", "Disk") == "Disk"
    }
    disks = tuple(
        XvaDisk(
            str(v.get("xva_id", "")),
            str(v.get("name_label", "")),
            _int(v.get("virtual_size")),
            _int(v.get("physical_utilisation")),
        )
        for ref, v in records.get("VDI", [])
        if ref in disk_vdis
    )
    macs = tuple(
        str(v.get("MAC", "")) for _id, v in records.get("VIF", []) if str(v.get("VM")) == vm_id
    )
    version = value.get("version") if isinstance(value.get("version"), dict) else {}
    brand = f"{version.get('product_brand', '')} {version.get('product_version', '')}".strip()
    return XvaHeader(
        str(vm.get("name_label", "")),
        str(vm.get("uuid", "")),
        bool(vm.get("is_a_template")),
        tuple(m for m in macs if m),
        disks,
        _int(vm.get("memory_static_max")),
        _int(vm.get("VCPUs_at_startup")),
        (_int(version.get("xapi_major")), _int(version.get("xapi_minor"))),
        brand,
    )


@dataclass
class XvaCheck:
    """An XVA checked as its bytes go by, fed in order and in any slices
    (a tar read as a stream, headers and all): ``ova.xml`` first, then each
    block followed by its ``.checksum``, which must match. BadXva at the
    first fault; ``keep_going`` (a forced import) notes bad checksums in
    ``bad`` instead. ``finish`` once the last byte went: the report."""

    keep_going: bool = False
    header: XvaHeader | None = None
    blocks: int = 0
    bad: list[str] = field(default_factory=list)
    fed: int = 0
    _buf: bytearray = field(default_factory=bytearray)
    _state: str = "header"  # header, data, pad, meta (a pax or long-name record), end
    _left: int = 0  # bytes of the member (or its padding) still to come
    _pad: int = 0  # the member's padding to the next 512-byte block
    _member: str = ""
    _members: int = 0
    _override: str = ""  # the next member's name, from a pax or GNU long-name record
    _pax: bool = False
    _sha: object = None
    _keep: bytearray | None = None  # a small member's content (ova.xml, a checksum)
    _pending: tuple[str, str] | None = None  # a block awaiting its .checksum
    _last: dict = field(default_factory=dict)  # Ref:N -> the last block number seen
    _zeros: int = 0  # empty header blocks seen at the end

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        self.fed += len(view)
        while view:
            if self._state == "end":
                if any(view):
                    raise BadXva("there is data after the end of the archive")
                return
            if self._state == "header":
                take = view[: TAR_BLOCK - len(self._buf)]
                self._buf += take
                view = view[len(take) :]
                if len(self._buf) == TAR_BLOCK:
                    block = bytes(self._buf)
                    self._buf.clear()
                    self._header(block)
            elif self._state in ("data", "meta"):
                take = view[: self._left]
                if self._keep is not None:
                    self._keep += take
                else:
                    self._sha.update(take)
                self._left -= len(take)
                view = view[len(take) :]
                if self._left == 0:
                    self._member_end()
            else:  # the padding to the next 512-byte block
                take = min(self._left, len(view))
                self._left -= take
                view = view[take:]
                if self._left == 0:
                    self._state = "header"

    def _header(self, block: bytes) -> None:
        if not any(block):
            self._zeros += 1
            if self._members == 0:
                raise BadXva("the file is empty or holds no VM")
            if self._zeros == 2:
                self._state = "end"
            return
        if self._zeros:
            raise BadXva("an empty block in the middle of the archive")
        try:
            info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        except tarfile.HeaderError as exc:
            raise BadXva(f"not a tar archive at byte {self.fed} ({exc})") from None
        if info.type in (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.GNUTYPE_LONGNAME):
            self._pax = info.type != tarfile.GNUTYPE_LONGNAME
            self._start("", info.size, meta=True)
            return
        name, self._override = self._override or info.name, ""
        self._start(name, info.size if info.isfile() else 0)

    def _start(self, name: str, length: int, meta: bool = False) -> None:
        self._member, self._left = name, length
        self._pad = (-length) % TAR_BLOCK
        if meta:
            if length > MEMBER_LIMIT:
                raise BadXva(f"a tar record of {size(length)}")
            self._keep, self._state = bytearray(), "meta"
        else:
            self._begin_member(name, length)
            self._state = "data"
        if length == 0:
            self._member_end()

    def _begin_member(self, name: str, length: int) -> None:
        self._members += 1
        small = self._members == 1 or name.endswith(".checksum")
        if length > MEMBER_LIMIT:
            raise BadXva(f"{name} holds {size(length)}, more than {size(MEMBER_LIMIT)}")
        if self._members == 1 and name != "ova.xml":
            raise BadXva(f"the first member is {name!r}, not ova.xml")
        if small:
            self._keep, self._sha = bytearray(), None
            return
        match = CHUNK_RE.match(name)
        if match is None or self._pending is not None:
            raise BadXva(f"unexpected member {name!r}")
        disk, number = match.group(1), int(match.group(2))
        if self.header is not None and disk not in {d.xva_id for d in self.header.disks}:
            raise BadXva(f"{name} belongs to no disk that ova.xml lists")
        if disk in self._last and list(self._last)[-1] != disk:
            raise BadXva(f"{name}: the blocks of {disk} are not together")
        if number <= self._last.get(disk, -1):
            raise BadXva(f"{name} comes after block {self._last[disk]:08d}: out of order")
        self._last[disk] = number
        self._keep, self._sha = None, hashlib.sha1()
        self.blocks += 1

    def _member_end(self) -> None:
        name, data = self._member, self._keep
        self._keep = None
        if self._state == "meta":
            self._meta(bytes(data or b""))
        elif self._members == 1:
            self.header = parse_ova(bytes(data or b""))
        elif name.endswith(".checksum"):
            pending = self._pending
            if pending is None or name != pending[0] + ".checksum":
                raise BadXva(f"{name} has no block before it")
            if bytes(data or b"").decode(errors="replace").strip() != pending[1]:
                if not self.keep_going:
                    raise BadXva(f"{pending[0]}: the checksum does not match (corrupt data)")
                self.bad.append(pending[0])
            self._pending = None
        else:
            self._pending = (name, self._sha.hexdigest())
        self._state, self._left = ("pad", self._pad) if self._pad else ("header", 0)

    def _meta(self, data: bytes) -> None:
        """A pax record's path, or a GNU long name: the next member's name."""
        if not self._pax:
            self._override = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            return
        for line in data.decode("utf-8", "surrogateescape").splitlines():
            key, _, value = line.partition(" ")[2].partition("=")
            if key == "path":
                self._override = value

    def finish(self) -> XvaReport:
        """The file ended here: BadXva when it was cut (or holds no disk data)."""
        if self._members == 0:
            raise BadXva("the file is empty or holds no VM")
        if self._pending is not None:
            raise BadXva(f"the file ends after {self._pending[0]} without its checksum (truncated)")
        if self._state != "end":
            where = f"inside {self._member}" if self._state in ("data", "pad") else "early"
            raise BadXva(f"the file ends {where}: it is not complete (truncated)")
        header = self.header
        missing = [d.xva_id for d in header.disks if d.xva_id not in self._last] if header else []
        if missing:
            raise BadXva(f"no block of {', '.join(missing)}: the file is not complete")
        return XvaReport(self.fed, len(self._last), self.blocks, header.vm_name if header else "")


def check_xva(path: Path) -> XvaReport:
    """The whole file read and checked (after an export)."""
    check = XvaCheck()
    try:
        with open(path, "rb") as f:
            while block := f.read(READ):
                check.feed(block)
    except OSError as exc:
        raise BadXva(f"cannot read it ({exc})") from None
    return check.finish()


def read_xva(path: Path) -> tuple[XvaHeader, bool]:
    """What a file to import holds, from its start: its ``ova.xml`` read,
    and whether disk blocks follow (a full XVA) or not (metadata only).
    BadXva when it is neither; a compressed full XVA is refused (the
    stream must be checked as it goes)."""
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(6)[:2] in (b"\x1f\x8b", b"BZ", b"\xfd7")
            raw.seek(0)
            with _decompressed(raw) as plain:
                bounded = _Bounded(plain, MEMBER_LIMIT + 64 * 1024)
                with tarfile.open(fileobj=bounded, mode="r|") as tar:
                    first = tar.next()
                    if first is None or first.name != "ova.xml":
                        raise BadXva("it does not start with ova.xml")
                    header = parse_ova(member_bytes(tar, first))
                    full = tar.next() is not None
    except (OSError, EOFError, zlib.error, lzma.LZMAError, tarfile.TarError) as exc:
        raise BadXva(str(exc) or type(exc).__name__) from None
    if full and compressed:
        raise BadXva("it is compressed: decompress it first (gunzip, bunzip2 or xz -d)")
    return header, full


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
