"""XAPI's HTTP handlers for bulk data, streamed both ways (nothing whole in
memory): ``GET /pool/xmldbdump`` and ``PUT /pool/xmldbdump[?dry_run=true]``,
``GET /host_backup``, ``GET /export?uuid=`` (an XVA: ``ova.xml`` then each
disk in 1 MiB chunks with their SHA-1, all-zero chunks left out as XAPI
does) and ``PUT /import?sr_id=`` (one, checked as it streams), ``GET
/export_metadata?uuid=``, ``GET /system-status`` (the server
status report of the host asked), and for hotfixes ``PUT
/import_raw_vdi?vdi=``, ``PUT /pool_patch_upload`` and ``GET /updates``. Each takes ``session_id`` and an
optional ``task_id``, whose progress, result or error it sets as XAPI does.

Disk contents are generated: ``Simulator.data_scale`` bytes per byte a VDI
uses (1/1024 by default, so a demo VM's 30 GiB export is 30 MiB; 1 for
benchmarks)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
import time
from collections.abc import Callable

from .dump import dump_xml, load_dump
from .errors import XapiError
from .messages import _updates as updates
from .operations import rolling_upgrade
from .schema import NULL_REF, XDate, class_spec
from .simulator import Simulator
from .store import Store, now_xdate
from .wire import xml_value

CHUNK = 1 << 20
MAX_DATABASE_BYTES = 1 << 30  # a pool database beyond this is not one


class Transfer:
    """One request: its session checked, its task (if any) kept up to date."""

    def __init__(self, sim: Simulator, query: dict[str, str], permission: str):
        """``permission``: the handler's (``http/get_pool_xml_db_sync``), which
        the session's role must have, as XAPI's xapi_http.ml checks it."""
        self.sim, self.query = sim, query
        session = query.get("session_id", "")
        sim.check_session(session)
        self.task = query.get("task_id", "")
        if self.task and not sim.store.exists("task", self.task):
            raise XapiError("HANDLE_INVALID", "task", self.task)
        try:
            sim.check_permission(session, permission)
        except XapiError as err:
            self.done(err.description)  # XAPI fails the request's task too
            raise

    def progress(self, value: float) -> None:
        if self.task:
            with self.sim.store.lock:
                if self.sim.store.exists("task", self.task):
                    self.sim.store.set("task", self.task, progress=round(value, 3))

    def done(self, error: list[str] | None = None, result: str = "") -> None:
        if not self.task:
            return
        with self.sim.store.lock:
            if self.sim.store.exists("task", self.task):
                self.sim.store.set(
                    "task",
                    self.task,
                    status="failure" if error else "success",
                    progress=1.0,
                    finished=now_xdate(),
                    error_info=error or [],
                    result=xml_value(result) if result and not error else "",
                )


# the pool database -------------------------------------------------------------------
def database(sim: Simulator) -> bytes:
    with sim.store.lock:
        return dump_xml(sim.store).encode()


def restore_database(sim: Simulator, body: io.IOBase, length: int, dry_run: bool) -> None:
    """Check the uploaded database against this pool (what XAPI checks before
    it restores: the file is a database of a compatible schema, and this
    master's management NIC and physical NICs are in it); unless ``dry_run``,
    the pool becomes the file's and the master's toolstack restarts."""
    if not 0 < length <= MAX_DATABASE_BYTES:
        raise XapiError("INTERNAL_ERROR", "the upload is empty or larger than a pool database")
    with tempfile.SpooledTemporaryFile(max_size=16 * CHUNK) as spool:
        left = length
        while left:
            block = body.read(min(CHUNK, left))
            if not block:
                raise XapiError("INTERNAL_ERROR", "the upload ended early: the file is incomplete")
            spool.write(block)
            left -= len(block)
        spool.seek(0)
        try:
            backup = load_dump(spool.read())
        except Exception as exc:  # ElementTree's and the loader's refusals
            raise XapiError("INTERNAL_ERROR", f"not a pool database: {exc}") from None
    with sim.store.lock:
        _check_restore(sim, backup)
        if dry_run:
            return
        for ref in list(backup.tables["session"]):  # sessions do not survive a restart
            del backup.tables["session"][ref]
        sim.store.replace_contents(backup, keep=("task", "session"))
        master = sim.master
        for ref in list(sim.store.table("session")):
            sim.store.destroy("session", ref)
    sim.go_down(master, seconds=sim.agent_restart_seconds, reboot=False)


def _check_restore(sim: Simulator, backup: Store) -> None:
    major = sim.store.manifest.get("schema_major_vsn", "5")
    if backup.manifest.get("schema_major_vsn", major) != major:
        raise XapiError("RESTORE_INCOMPATIBLE_VERSION")
    hosts = backup.tables["host"]
    pools = list(backup.tables["pool"].values())
    if not hosts or not pools:
        raise XapiError("INTERNAL_ERROR", "not a pool database: it has no pool or no host")
    me = sim.store.get("host", sim.master)
    # the master restores onto itself: the backup's host of that uuid, or its master
    mine = next((r for r, h in hosts.items() if h["uuid"] == me["uuid"]), pools[0]["master"])
    pifs = [p for p in backup.tables["PIF"].values() if p["host"] == mine]
    devices_here = {
        sim.store.get("PIF", p)["device"]
        for p in sim.store.find("PIF", host=sim.master)
        if sim.store.get("PIF", p)["physical"]
    }
    if not any(p["management"] for p in pifs):
        raise XapiError("RESTORE_TARGET_MGMT_IF_NOT_IN_BACKUP")
    for p in pifs:
        if p["physical"] and p["device"] not in devices_here:
            raise XapiError("RESTORE_TARGET_MISSING_DEVICE", p["device"])


# host backup ------------------------------------------------------------------------
def host_backup(sim: Simulator, transfer: Transfer, out) -> None:
    """A gzipped tar of the host's control domain: its configuration files,
    the pool database, and the rest of dom0 (generated, 4 GiB x data_scale)."""
    size = max(CHUNK, int(4 * (1 << 30) * sim.data_scale))
    with tarfile.open(fileobj=out, mode="w|gz") as tar:
        _add(tar, "etc/xensource/pool.conf", b"master\n")
        _add(tar, "var/lib/xcp/state.db", database(sim))
        block = hashlib.sha256(b"dom0").digest() * (CHUNK // 32)
        info = tarfile.TarInfo("var/dom0-filesystem.img")
        info.size, info.mtime = size, int(time.time())
        tar.addfile(info, _Generated(size, lambda i: block, transfer.progress))


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: float | None = None) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(data), int(time.time() if mtime is None else mtime)
    tar.addfile(info, io.BytesIO(data))


# server status report ----------------------------------------------------------------
REPORT_TIME = 1795651200  # 2026-11-26, as the fake dom0's report is named


def status_report(sim: Simulator, host: str) -> bytes:
    """The host's server status report as xen-bugtool makes it (tar.bz2): the
    bytes ``host.bugreport_upload`` sends and ``GET /system-status`` returns,
    the same for the same host."""
    with sim.store.lock:
        rec = sim.store.get("host", host)
        inventory = "".join(
            f"{key}={rec[key]}\n" for key in ("uuid", "name_label", "hostname", "address")
        )
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:bz2") as tar:
        top = f"bug-report-{rec['uuid']}"
        _add(tar, f"{top}/inventory", inventory.encode(), REPORT_TIME)
        _add(tar, f"{top}/xensource.log", b"xapi: started\n" * 64, REPORT_TIME)
    return out.getvalue()


class _Generated(io.RawIOBase):
    """``size`` bytes made chunk by chunk (``make(index)`` -> 1 MiB)."""

    def __init__(self, size: int, make: Callable[[int], bytes], progress):
        self.size, self.make, self.progress, self.pos = size, make, progress, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.pos >= self.size:
            return b""
        index, offset = divmod(self.pos, CHUNK)
        data = self.make(index)[offset : offset + (n if n > 0 else CHUNK)]
        data = data[: self.size - self.pos]
        self.pos += len(data)
        self.progress(self.pos / self.size)
        return data


# VM export (XVA) ----------------------------------------------------------------------
def vm_disks(store: Store, vm: str) -> list[str]:
    refs = []
    for vbd in store.get("VM", vm)["VBDs"]:
        b = store.get("VBD", vbd)
        if b["type"] == "Disk" and b["VDI"] != NULL_REF and store.exists("VDI", b["VDI"]):
            refs.append(b["VDI"])
    return refs


def export_size(sim: Simulator, vdi: dict) -> int:
    """The bytes of a disk an export carries (its used data, scaled)."""
    return int(vdi["physical_utilisation"] * sim.data_scale) // CHUNK * CHUNK


def _ova(sim: Simulator, vm: str, disks: dict[str, str]) -> bytes:
    """``ova.xml``: the VM, its VBDs, VDIs, VIFs and their networks, as XAPI
    writes it (an XML-RPC value). As ``Export.make_vm`` without snapshot
    metadata: no snapshot links (a snapshot exported is a template), halted,
    no memory image."""
    store = sim.store
    rec = store.get("VM", vm)
    exported = {
        **rec,
        "is_a_snapshot": False,
        "snapshot_of": NULL_REF,
        "snapshots": [],
        "snapshot_time": blank_time(),
        "snapshot_metadata": "",
        "parent": NULL_REF,
        "children": [],
        "power_state": "Halted",
        "suspend_VDI": NULL_REF,
        "resident_on": NULL_REF,
        "current_operations": {},
        "allowed_operations": [],
    }
    objects = [{"class": "VM", "id": vm, "snapshot": exported}]
    for vbd in rec["VBDs"]:
        objects.append({"class": "VBD", "id": vbd, "snapshot": dict(store.get("VBD", vbd))})
    for ref, xva_id in disks.items():
        snap = {**store.get("VDI", ref), "xva_id": xva_id}
        objects.append({"class": "VDI", "id": ref, "snapshot": snap})
    networks = []
    for vif in rec["VIFs"]:
        v = store.get("VIF", vif)
        objects.append({"class": "VIF", "id": vif, "snapshot": dict(v)})
        if v["network"] not in networks and store.exists("network", v["network"]):
            networks.append(v["network"])
    for net in networks:
        objects.append({"class": "network", "id": net, "snapshot": dict(store.get("network", net))})
    major, minor = xapi_version(sim)
    host = store.get("host", sim.master)["software_version"]
    value = {
        "version": {
            "hostname": host.get("hostname", "xstui-sim"),
            "date": time.strftime("%Y-%m-%d"),
            "product_version": host.get("product_version", ""),
            "product_brand": host.get("product_brand", ""),
            "build_number": host.get("build_number", ""),
            "xapi_major": major,
            "xapi_minor": minor,
            "export_vsn": EXPORT_VSN,
        },
        "objects": objects,
    }
    return xml_value(value).encode()


EXPORT_VSN = 2  # Xapi_globs.export_vsn: inline checksums


def xapi_version(sim: Simulator) -> tuple[int, int]:
    """The toolstack's version (``Xapi_version``): what an export is stamped
    with and an import compares, from the master's software_version."""
    text = sim.store.get("host", sim.master)["software_version"].get("xapi", "1.0")
    parts = [int(p) if p.isdigit() else 0 for p in (text.split(".") + ["0"])[:2]]
    return parts[0], parts[1]


def blank_time() -> XDate:
    return XDate("19700101T00:00:00Z")


def export_vm(sim: Simulator, transfer: Transfer, uuid: str, out) -> None:
    st = sim.store
    with st.lock:
        vm = st.ref_by_uuid("VM", uuid)
        if st.get("VM", vm)["power_state"] not in ("Halted", "Suspended"):
            raise XapiError(
                "VM_BAD_POWER_STATE", vm, "halted", st.get("VM", vm)["power_state"].lower()
            )
        refs = vm_disks(st, vm)
        disks = {ref: f"Ref:{i + 1}" for i, ref in enumerate(refs)}
        sizes = {ref: export_size(sim, st.get("VDI", ref)) for ref in refs}
        seeds = {ref: st.get("VDI", ref)["uuid"].encode() for ref in refs}
        ova = _ova(sim, vm, disks)
    total = sum(sizes.values()) or 1
    sent = 0
    with tarfile.open(fileobj=out, mode="w|") as tar:
        _add(tar, "ova.xml", ova)
        for ref, xva_id in disks.items():
            base = bytearray(hashlib.sha256(seeds[ref]).digest() * (CHUNK // 32))
            for index in range(sizes[ref] // CHUNK):
                base[:8] = index.to_bytes(8, "little")
                block = bytes(base)
                name = f"{xva_id}/{index:08d}"
                checksum = hashlib.sha1(block).hexdigest().encode()
                if index == sim.garbled_block:  # a fault on the way: the data is not its sum
                    block = bytes(b ^ 0xFF for b in block[:64]) + block[64:]
                _add(tar, name, block)
                _add(tar, name + ".checksum", checksum)
                sent += CHUNK
                if index % 16 == 0:
                    transfer.progress(sent / total)
                if sim.chunk_delay:  # a slow link
                    time.sleep(sim.chunk_delay)
            # the last chunk is always there, even when empty (XAPI's end marker)
            if not sizes[ref]:
                _add(tar, f"{xva_id}/00000000", b"")
                _add(tar, f"{xva_id}/00000000.checksum", hashlib.sha1(b"").hexdigest().encode())


def export_metadata(sim: Simulator, uuid: str) -> bytes:
    """The VM's metadata only (``ova.xml`` in a tar), as ``/export_metadata`` sends it."""
    st = sim.store
    with st.lock:
        vm = st.ref_by_uuid("VM", uuid)
        disks = {ref: f"Ref:{i + 1}" for i, ref in enumerate(vm_disks(st, vm))}
        ova = _ova(sim, vm, disks)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        _add(tar, "ova.xml", ova)
    return buf.getvalue()


# VM metadata import -----------------------------------------------------------------
def import_metadata(sim: Simulator, body: io.IOBase, length: int, dry_run: bool) -> list[str]:
    """``PUT /import_metadata``: a tar whose ova.xml describes one VM; the VM
    record comes back (same uuid) with VBDs onto its disks, which must exist
    already (they live on the SR). Refused when the VM exists. The new refs."""
    import xmlrpc.client

    if not 0 < length <= 64 * CHUNK:
        raise XapiError("IMPORT_ERROR", "the upload is empty or too large for VM metadata")
    data = body.read(length)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
            ova = tar.extractfile("ova.xml").read()
        value = xmlrpc.client.loads(
            b"<methodResponse><params><param>" + ova + b"</param></params></methodResponse>"
        )[0][0]
    except Exception as exc:
        raise XapiError("IMPORT_ERROR", f"not VM metadata: {exc}") from None
    objects = value.get("objects", [])
    vm = next((o["snapshot"] for o in objects if o.get("class") == "VM"), None)
    if vm is None:
        raise XapiError("IMPORT_ERROR", "the file describes no VM")
    st = sim.store
    with st.lock:
        if vm.get("uuid") in st.by_uuid["VM"]:
            raise XapiError(
                "IMPORT_ERROR", f"VM {vm.get('name_label')} ({vm['uuid']}) exists already"
            )
        disks = {}
        for o in objects:
            if o.get("class") == "VDI":
                ref = st.by_uuid["VDI"].get(o["snapshot"].get("uuid", ""))
                if ref is None:
                    raise XapiError("IMPORT_ERROR_ATTACHED_DISKS_NOT_FOUND")
                disks[o["id"]] = ref
        if dry_run:
            return []
        known = class_spec("VM").fields
        fields = {k: v for k, v in vm.items() if k in known and k not in NOT_IMPORTED}
        fields.update(power_state="Halted", resident_on=NULL_REF, domid=-1)
        new = st.create("VM", fields)
        for o in objects:
            if o.get("class") == "VBD" and o["snapshot"].get("VDI") in disks:
                b = o["snapshot"]
                st.create(
                    "VBD",
                    {
                        "VM": new,
                        "VDI": disks[b["VDI"]],
                        "device": b.get("device", ""),
                        "userdevice": b.get("userdevice", "0"),
                        "bootable": bool(b.get("bootable", False)),
                        "mode": b.get("mode", "RW"),
                        "type": b.get("type", "Disk"),
                    },
                )
        return [new]


# what an import does not take from the file: links to objects of the old pool
NOT_IMPORTED = {
    "VBDs",
    "VIFs",
    "snapshots",
    "snapshot_of",
    "parent",
    "children",
    "metrics",
    "guest_metrics",
    "current_operations",
    "allowed_operations",
    "affinity",
    "suspend_VDI",
    "suspend_SR",
    "appliance",
    "protection_policy",
    "snapshot_schedule",
    "VGPUs",
    "VUSBs",
    "PCIs",
    "crash_dumps",
    "VTPMs",
    "attached_PCIs",
    "consoles",
    "groups",
}


# VM import (XVA) -------------------------------------------------------------------
CHECKSUM_BYTES = 128  # a .checksum member: 40 hex digits (SHA-1), or 16 (xxhash)


class _TarStream:
    """The request's body (``length`` bytes at most) read as a tar as it
    comes, as XAPI's own reader does: each header parsed by tarfile's
    parser, each member's data read straight from the body, nothing held
    (tarfile's stream mode copies every byte several times over: it held
    an import to ~200 MB/s)."""

    def __init__(self, raw, length: int):
        self.raw, self.left = raw, length
        self.data = self.pad = 0  # of the current member: its data still unread, its padding

    def next(self) -> tarfile.TarInfo | None:
        """The next member (the rest of the one before skipped); None at the
        archive's end. EOFError when the body ends first; tarfile's
        HeaderError when it is not a tar header."""
        self._skip(self.data + self.pad)
        header = self._exact(tarfile.BLOCKSIZE)
        if not any(header):
            return None
        info = tarfile.TarInfo.frombuf(header, "utf-8", "surrogateescape")
        self.data, self.pad = info.size, -info.size % tarfile.BLOCKSIZE
        return info

    def read(self, n: int) -> bytes:
        """At most ``n`` bytes of the current member's data; b"" at its end."""
        data = self._exact(min(n, self.data))
        self.data -= len(data)
        return data

    def _exact(self, n: int) -> bytes:
        data = self.raw.read(min(n, self.left)) if n > 0 else b""
        self.left -= len(data)
        if len(data) < n:
            raise EOFError("the body ends too soon")
        return data

    def _skip(self, n: int) -> None:
        while n > 0:
            n -= len(self._exact(min(CHUNK, n)))

    def drain(self) -> None:
        """What is left of the body (the tar's last padding), read and dropped."""
        while self.left > 0 and (data := self.raw.read(min(CHUNK, self.left))):
            self.left -= len(data)


def import_vm(sim: Simulator, transfer: Transfer, raw, length: int) -> list[str]:
    """``PUT /import?sr_id=&restore=&force=`` (``Import.handler``): an XVA
    streamed in, as ``xe vm-import`` sends it. ``ova.xml`` first: the
    version checked, each VM prechecked (``restore`` keeps its uuid and MACs:
    refused while a VM of that uuid runs, or is not older; and when another
    VM has its MAC seed), then the VMs made halted with new disks on the SR,
    their VBDs and VIFs (networks found by name, else by bridge, else made).
    Then each disk's blocks, each checked against its ``.checksum`` as it
    comes. A failure removes what was made, unless ``force`` (which also
    lets bad checksums pass). The new VMs' refs."""
    query = transfer.query
    restore, force = query.get("restore") == "true", query.get("force") == "true"
    st = sim.store
    with st.lock:
        sr = _import_sr(sim, query)
        if rolling_upgrade(st):
            raise XapiError("NOT_SUPPORTED_DURING_UPGRADE")
    tar = _TarStream(raw, length)
    try:
        first = tar.next()
        if first is None or first.name != "ova.xml":
            raise XapiError("IMPORT_ERROR_UNEXPECTED_FILE", "ova.xml", first.name if first else "")
        if first.size > 64 * CHUNK:
            raise XapiError("IMPORT_ERROR", "ova.xml is larger than VM metadata can be")
        header = _header(tar.read(first.size))
    except (tarfile.TarError, EOFError) as exc:
        raise _tar_error(exc) from None
    _assert_compatible(sim, header.get("version") or {})
    objects = [o for o in header.get("objects") or [] if isinstance(o, dict)]
    with st.lock:
        made = _Made()
        try:
            vms, disks = _create(sim, objects, sr, restore, force, made, transfer.task)
        except XapiError:
            made.remove(sim)
            raise
    try:
        _receive(tar, disks, force, transfer)
        tar.drain()
    except (tarfile.TarError, EOFError, OSError) as exc:
        if not force:
            with st.lock:
                made.remove(sim)
        raise _tar_error(exc) from None
    except XapiError:
        if not force:
            with st.lock:
                made.remove(sim)
        raise
    with st.lock:
        for vm in vms:  # no longer importing: the VM is the admin's
            if st.exists("VM", vm):
                left = {k: v for k, v in st.get("VM", vm)["current_operations"].items()}
                left.pop(transfer.task or "import", None)
                st.set("VM", vm, current_operations=left)
    return vms


def _tar_error(exc: Exception) -> XapiError:
    """The stream stopped being a tar: cut short (XAPI's End_of_file), or
    not a tar at all (its reader's own failure, IMPORT_ERROR)."""
    text = str(exc)
    if isinstance(exc, EOFError | OSError) or "end of data" in text or "empty file" in text:
        return XapiError("IMPORT_ERROR_PREMATURE_EOF")
    return XapiError("IMPORT_ERROR", f"not an XVA: {text}")


def _import_sr(sim: Simulator, query: dict[str, str]) -> str:
    """The SR the disks go to: ``sr_id``, else ``sr_uuid``, else the pool's
    default SR; an ISO library cannot take them."""
    st = sim.store
    if query.get("sr_id"):
        sr = query["sr_id"]
        if not st.exists("SR", sr):
            raise XapiError("HANDLE_INVALID", "SR", sr)
    elif query.get("sr_uuid"):
        sr = st.ref_by_uuid("SR", query["sr_uuid"])
    else:
        sr = st.get("pool", sim.pool)["default_SR"]
        if not st.exists("SR", sr):
            raise XapiError("DEFAULT_SR_NOT_FOUND", sr)
    if st.get("SR", sr)["content_type"] == "iso":
        raise XapiError("SR_OPERATION_NOT_SUPPORTED", sr)
    return sr


def _header(ova: bytes) -> dict:
    import xmlrpc.client

    try:
        value = xmlrpc.client.loads(
            b"<methodResponse><params><param>" + ova + b"</param></params></methodResponse>"
        )[0][0]
    except Exception as exc:  # expat's and the unmarshaller's refusals
        raise XapiError("IMPORT_ERROR", f"ova.xml is not VM metadata: {exc}") from None
    if not isinstance(value, dict):
        raise XapiError("IMPORT_ERROR", "ova.xml is not VM metadata")
    return value


def _assert_compatible(sim: Simulator, version: dict) -> None:
    """``Importexport.assert_compatible``: an export from a newer toolstack is refused."""
    try:
        theirs = (int(version.get("xapi_major", 0)), int(version.get("xapi_minor", 0)))
    except (TypeError, ValueError):
        raise XapiError("IMPORT_ERROR", "the export's version is unreadable") from None
    if theirs > xapi_version(sim):
        raise XapiError("IMPORT_INCOMPATIBLE_VERSION")


class _Made:
    """What an import made so far, removed (newest first) when it fails."""

    def __init__(self):
        self.items: list[tuple[str, str]] = []

    def add(self, cls: str, ref: str) -> str:
        self.items.append((cls, ref))
        return ref

    def remove(self, sim: Simulator) -> None:
        from .api import Caller, Ctx
        from .messages import vdi as vdis

        st = sim.store
        for cls, ref in reversed(self.items):
            if not st.exists(cls, ref):
                continue
            if cls == "VDI":
                vdis.forget(Ctx(sim, Caller()), ref)
            elif cls == "VM":
                for dev in ("VBDs", "VIFs"):
                    for r in list(st.get("VM", ref)[dev]):
                        st.destroy(dev[:-1], r)
                st.destroy("VM", ref)
            else:
                st.destroy(cls, ref)
        self.items.clear()


def known_fields(cls: str, record: dict, drop=frozenset()) -> dict:
    fields = class_spec(cls).fields
    return {k: v for k, v in record.items() if k in fields and k not in drop}


def _precheck(sim: Simulator, vm: dict, restore: bool, force: bool) -> str | None:
    """``VM.precheck``: None to import it anew; "skip"; or the existing VM to
    replace (a restore of a halted VM of that uuid, older, or forced)."""
    st = sim.store
    existing = st.by_uuid["VM"].get(str(vm.get("uuid", "")))
    if not restore or existing is None:
        return None
    state = st.get("VM", existing)["power_state"]
    if state != "Halted":
        if force:
            return "skip"
        raise XapiError("VM_BAD_POWER_STATE", existing, "halted", state.lower())
    have, theirs = st.get("VM", existing)["version"], int(vm.get("version", 0) or 0)
    if have >= theirs and not force:
        raise XapiError("VM_TO_IMPORT_IS_NOT_NEWER_VERSION", existing, str(have), str(theirs))
    return existing


def _assert_can_restore(sim: Simulator, vms: list[dict]) -> None:
    """``assert_can_restore_backup``: no other VM of the pool has the MAC
    seed of a VM restored (its MACs would be another's)."""
    st = sim.store
    for vm in vms:
        seed = (vm.get("other_config") or {}).get("mac_seed")
        if not seed:
            continue
        for other in st.table("VM").values():
            if other["other_config"].get("mac_seed") != seed:
                continue
            if other["is_a_snapshot"] and st.exists("VM", other["snapshot_of"]):
                kin = st.get("VM", other["snapshot_of"])["uuid"]
            else:
                kin = other["uuid"]
            if kin != vm.get("uuid"):
                raise XapiError("DUPLICATE_MAC_SEED", seed)


# what a VBD or VIF does not take from the file: identity, links, runtime state
_DEVICE_LINKS = frozenset(
    "uuid VM VDI network metrics current_operations allowed_operations currently_attached"
    " empty MAC".split()
)
# nor a VDI: it is new, on the SR chosen, and holds what the stream brings
_VDI_LINKS = frozenset(
    "uuid SR VBDs snapshots snapshot_of crash_dumps current_operations allowed_operations"
    " physical_utilisation is_a_snapshot sm_config location managed missing".split()
)


def _create(sim, objects, sr, restore, force, made, task):
    """The objects of ``ova.xml`` made in the pool; (the new VMs, each disk
    to stream: xva_id -> (VDI ref, bytes expected))."""
    from .api import Caller, Ctx
    from .messages import vdi as vdis
    from .messages import vif as vifs

    st = sim.store
    ctx = Ctx(sim, Caller())
    by_class: dict[str, list[dict]] = {}
    for o in objects:
        by_class.setdefault(str(o.get("class", "")), []).append(o)
    vm_objects = [o for o in by_class.get("VM", []) if isinstance(o.get("snapshot"), dict)]
    if not vm_objects:
        raise XapiError("IMPORT_ERROR", "the file describes no VM")
    if restore:
        _assert_can_restore(sim, [o["snapshot"] for o in vm_objects])
    table: dict[str, str] = {}  # the file's ids -> the pool's refs
    vms = []
    for o in vm_objects:
        rec = o["snapshot"]
        action = _precheck(sim, rec, restore, force)
        if action == "skip":
            continue
        if action is not None:  # replaced: its devices and record go, its disks stay
            old = st.get("VM", action)
            for dev in ("VBDs", "VIFs"):
                for r in list(old[dev]):
                    st.destroy(dev[:-1], r)
            st.destroy("VM", action)
        other_config = {str(k): str(v) for k, v in (rec.get("other_config") or {}).items()}
        if not restore:
            other_config["mac_seed"] = st.new_uuid()
        if not force:
            other_config.pop("default_template", None)
        fields = {
            **known_fields("VM", rec, NOT_IMPORTED | {"uuid", "version"}),
            "other_config": other_config,
            "is_a_snapshot": False,
            "is_default_template": False if not force else bool(rec.get("is_default_template")),
            "power_state": "Halted",
            "resident_on": NULL_REF,
            "domid": -1,
            "version": int(rec.get("version", 0) or 0) + 1 if restore else 0,
            "current_operations": {task or "import": "import"} if not force else {},
        }
        if restore and rec.get("uuid"):
            fields["uuid"] = str(rec["uuid"])
        vm = made.add("VM", st.create("VM", fields))
        table[str(o.get("id"))] = vm
        vms.append(vm)
    disks: dict[str, tuple[str, int]] = {}
    vdi_objects = {str(o.get("id")): o.get("snapshot") or {} for o in by_class.get("VDI", [])}
    for o in by_class.get("network", []):
        net = o.get("snapshot") or {}
        found = st.find("network", name_label=str(net.get("name_label", ""))) or [
            r for r, n in st.table("network").items() if n["bridge"] == net.get("bridge")
        ]
        if found:
            table[str(o.get("id"))] = found[0]
        else:
            made_net = st.create("network", known_fields("network", net, {"uuid", "VIFs", "PIFs"}))
            table[str(o.get("id"))] = made.add("network", made_net)
    for o in by_class.get("VBD", []):
        b = o.get("snapshot") or {}
        vm = table.get(str(b.get("VM")))
        if vm is None:
            continue  # of a VM skipped
        vdi, kind = NULL_REF, str(b.get("type", "Disk"))
        source = vdi_objects.get(str(b.get("VDI")))
        if kind == "Disk" and source is not None:
            key = str(b.get("VDI"))
            if key not in table:
                new = vdis.new_vdi(
                    ctx,
                    sr,
                    {
                        **known_fields("VDI", source, _VDI_LINKS),
                        "virtual_size": int(source.get("virtual_size", 0) or 0),
                    },
                )
                table[key] = made.add("VDI", new)
                used = int(source.get("physical_utilisation", 0) or 0)
                st.set("VDI", new, physical_utilisation=used)
                disks[str(source.get("xva_id", ""))] = (
                    new,
                    export_size(sim, {"physical_utilisation": used}),
                )
            vdi = table[key]
        elif kind == "Disk":
            raise XapiError("IMPORT_ERROR_FAILED_TO_FIND_OBJECT", str(b.get("VDI")))
        st.create(
            "VBD",
            {
                **known_fields("VBD", b, _DEVICE_LINKS),
                "VM": vm,
                "VDI": vdi,
                "empty": vdi == NULL_REF,
                "currently_attached": False,
            },
        )
    for o in by_class.get("VIF", []):
        v = o.get("snapshot") or {}
        vm = table.get(str(v.get("VM")))
        network = table.get(str(v.get("network")))
        if vm is None or network is None:
            continue
        seed = st.get("VM", vm)["other_config"].get("mac_seed", st.new_uuid())
        device = str(v.get("device", "0"))
        mac = str(v.get("MAC", "")) if restore else ""
        st.create(
            "VIF",
            {
                **known_fields("VIF", v, _DEVICE_LINKS),
                "VM": vm,
                "network": network,
                "MAC": mac or vifs.gen_mac(int(device) if device.isdigit() else 0, seed),
                "MAC_autogenerated": not mac or bool(v.get("MAC_autogenerated")),
                "currently_attached": False,
            },
        )
    return vms, disks


def _receive(tar: _TarStream, disks: dict[str, tuple[str, int]], force: bool, transfer) -> None:
    """Each disk's blocks as they come (``Stream_vdi.recv_all``): ``Ref:N/
    %08d`` in increasing order (skipped numbers are blocks of zeros), each
    followed by its ``.checksum``, checked at once; the stream ends too soon
    when a disk has fewer bytes than the file's records say it holds."""
    got = {xva_id: 0 for xva_id in disks}
    total = sum(n for _vdi, n in disks.values()) or 1
    last: dict[str, int] = {}
    pending = None  # (block name, its SHA-1) awaiting its .checksum
    order = list(disks)
    current = 0  # the disk being received (index in order)
    while (member := tar.next()) is not None:
        name = member.name
        if name.endswith(".checksum"):
            if pending is None or name != pending[0] + ".checksum":
                expected = pending[0] + ".checksum" if pending else "a block"
                raise XapiError("IMPORT_ERROR_UNEXPECTED_FILE", expected, name)
            written = tar.read(CHECKSUM_BYTES).decode(errors="replace").strip()
            if written != pending[1] and not force:
                raise XapiError(
                    "IMPORT_ERROR",
                    f"Block {pending[0]} checksum failed: original = {written}; "
                    f"recomputed = {pending[1]}",
                )
            pending = None
            continue
        if pending is not None:
            raise XapiError("IMPORT_ERROR_UNEXPECTED_FILE", pending[0] + ".checksum", name)
        prefix, _, suffix = name.partition("/")
        if prefix not in got or not suffix.isdigit():
            raise XapiError("IMPORT_ERROR", f"Invalid XVA file: unexpected member {name}")
        while order[current] != prefix:  # on to the next disk: the one before is complete
            done = order[current]
            if got[done] < disks[done][1] or order.index(prefix) < current:
                raise XapiError(
                    "IMPORT_ERROR", f"Invalid XVA file: expected a block of {done}, found {name}"
                )
            current += 1
        index = int(suffix)
        if index <= last.get(prefix, -1):
            raise XapiError("IMPORT_ERROR", f"Invalid XVA file: {name} out of order")
        skipped = (index - last.get(prefix, -1) - 1) * CHUNK  # blocks of zeros left out
        last[prefix] = index
        digest = hashlib.sha1()
        while block := tar.read(CHUNK):
            digest.update(block)
        got[prefix] += skipped + member.size
        pending = (name, digest.hexdigest())
        transfer.progress(min(0.99, sum(got.values()) / total))
    if pending is not None or any(got[x] < n for x, (_vdi, n) in disks.items()):
        raise XapiError("IMPORT_ERROR_PREMATURE_EOF")


# hotfixes (sim/updates.py) ------------------------------------------------------------
def import_raw_vdi(sim: Simulator, transfer: Transfer, body: io.IOBase, length: int) -> None:
    """``PUT /import_raw_vdi?vdi=``: the bytes written into an existing VDI
    no larger than it (streamed; the simulator keeps what an update file's
    header says, its size and its SHA-256)."""
    st = sim.store
    vdi = transfer.query.get("vdi", "")
    with st.lock:
        size = st.get("VDI", vdi)["virtual_size"]
    if not 0 < length <= size:
        raise XapiError("VDI_TOO_SMALL", vdi, str(size), str(length))
    upload = updates.receive(body, length, transfer.progress)
    with st.lock:
        st.uploads[vdi] = upload
        st.set("VDI", vdi, physical_utilisation=length)


def upload_patch(sim: Simulator, transfer: Transfer, body: io.IOBase, length: int) -> str:
    """``PUT /pool_patch_upload``: a 6.x patch file; the new pool_patch."""
    from .api import Caller, Ctx

    if length <= 0:
        raise XapiError("INVALID_PATCH")
    upload = updates.receive(body, length, transfer.progress)
    with sim.store.lock:
        return updates.introduce(Ctx(sim, Caller()), updates.PATCHES, upload)


def updates_json(sim: Simulator) -> bytes:
    from .api import Caller, Ctx

    with sim.store.lock:
        return json.dumps(updates.updates_document(Ctx(sim, Caller()))).encode()
