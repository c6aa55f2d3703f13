"""XAPI's HTTP handlers for bulk data, streamed both ways (nothing whole in
memory): ``GET /pool/xmldbdump`` and ``PUT /pool/xmldbdump[?dry_run=true]``,
``GET /host_backup``, ``GET /export?uuid=`` (an XVA: ``ova.xml`` then each
disk in 1 MiB chunks with their SHA-1, all-zero chunks left out as XAPI
does), ``GET /export_metadata?uuid=``, ``GET /system-status`` (the server
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
from .schema import NULL_REF, class_spec
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


def _ova(store: Store, vm: str, disks: dict[str, str]) -> bytes:
    """``ova.xml``: the VM, its VBDs and VDIs, as XAPI writes it (an XML-RPC value)."""
    rec = store.get("VM", vm)
    objects = [{"class": "VM", "id": vm, "snapshot": dict(rec)}]
    for vbd in rec["VBDs"]:
        objects.append({"class": "VBD", "id": vbd, "snapshot": dict(store.get("VBD", vbd))})
    for ref, xva_id in disks.items():
        snap = {**store.get("VDI", ref), "xva_id": xva_id}
        objects.append({"class": "VDI", "id": ref, "snapshot": snap})
    value = {
        "version": {"hostname": "xstui-sim", "product_version": "8.2.1", "xapi_major": "1"},
        "objects": objects,
    }
    return ("<value>" + xml_value(value) + "</value>").encode()


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
        ova = _ova(st, vm, disks)
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
                _add(tar, name, block)
                _add(tar, name + ".checksum", hashlib.sha1(block).hexdigest().encode())
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
        ova = _ova(st, vm, disks)
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
        fields = {k: v for k, v in vm.items() if k in known and k not in _NOT_IMPORTED}
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
_NOT_IMPORTED = {
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
