"""SR.*: probing an NFS server (the storage manager's answers and failures,
``SR_BACKEND_FAILURE_<n>`` as XE_SR_ERRORCODES numbers them), creating an
NFS SR plugged on every host, forgetting and destroying one (its PBDs
unplugged first: SR_HAS_PBD), and rescans. A host's disks as XCP-ng's
lsblk.py plugin lists them, and the SRs a local disk holds (the LVM and
ext storage managers' probe)."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from ..api import Ctx, message
from ..errors import XapiError

CLASS = "SR"
GiB = 1 << 30
NEW_EXPORT_BYTES = 4096 * GiB  # what a fresh export offers
LOCAL_DISK_BYTES = 1788 * GiB  # a free local disk (the fake dom0's sdb)
SYSTEM_DISK_BYTES = 960 * GiB  # sda: dom0's partitions and the install's local SR


def backend_failure(number: int, text: str, extra: str = "", opterr: str = "") -> XapiError:
    """The storage manager's failure, as XAPI passes it on; ``opterr`` is the
    detail its XenError appends to the text."""
    said = f"{text} [opterr={opterr}]" if opterr else text
    return XapiError(f"SR_BACKEND_FAILURE_{number}", "", said, extra)


def _nfs_target(ctx: Ctx, config: dict) -> tuple[str, str]:
    """(server, path) of a device-config the NFS storage manager accepts."""
    server = str(config.get("server", "")).strip()
    if not server:
        raise backend_failure(102, "The request is missing the server parameter")
    exports = ctx.store.nfs_exports.get(server)
    if exports is None:
        raise backend_failure(108, "Unable to detect an NFS service on this target.")
    path = str(config.get("serverpath", "")).strip()
    if not path:
        listing = "".join(
            f"<Export><Target>{server}</Target><Path>{p}</Path><Accesslist>*</Accesslist></Export>"
            for p in exports
        )
        raise backend_failure(
            101,
            "The request is missing the serverpath parameter",
            f'<?xml version="1.0" ?><nfs-exports>{listing}</nfs-exports>',
        )
    if path.rstrip("/") not in [p.rstrip("/") for p in exports]:
        raise backend_failure(73, "NFS mount error", f"mount {server}:{path} failed: not exported")
    return server, path


def _block_lun(ctx: Ctx, type: str, config: dict) -> dict:  # noqa: A002
    """The LUN an iSCSI or FC device-config names, refusing as the storage
    managers do, each answer carrying what the admin picks from next."""
    st = ctx.store
    if type == "lvmohba":
        luns = st.hba_luns
        if not config.get("SCSIid"):
            devices = "".join(
                f"<BlockDevice><path>/dev/sd{chr(99 + i)}</path><SCSIid>{lun['scsi_id']}</SCSIid>"
                f"<vendor>{lun['vendor']}</vendor><serial>{lun['serial']}</serial>"
                f"<size>{lun['size']}</size><adapter>{lun['adapter']}</adapter>"
                f"<lun>{lun['id']}</lun><hba>qlogic</hba></BlockDevice>"
                for i, lun in enumerate(luns)
            )
            raise backend_failure(
                107, "The SCSIid parameter is missing or incorrect", f"<Devlist>{devices}</Devlist>"
            )
    else:
        address = config.get("target", "").strip()
        if not address:
            raise backend_failure(95, "The request is missing the target parameter")
        target = st.iscsi_targets.get(address)
        if target is None:
            raise backend_failure(141, "Unable to connect to ISCSI service on target")
        chap = target.get("chap")
        if chap and (
            config.get("chapuser") != chap["user"] or config.get("chappassword") != chap["password"]
        ):
            raise backend_failure(
                68,
                "ISCSI login failed - check access settings for the initiator on the storage, "
                "if CHAP is used verify CHAP credentials",
            )
        if config.get("targetIQN") != target["iqn"]:
            iqns = (
                f"<TGT><Index>0</Index><IPAddress>{address}</IPAddress>"
                f"<TargetIQN>{target['iqn']}</TargetIQN></TGT>"
            )
            raise backend_failure(
                96,
                "The request is missing or has an incorrect target IQN parameter",
                f"<iscsi-target-iqns>{iqns}</iscsi-target-iqns>",
            )
        luns = target["luns"]
        if not config.get("SCSIid"):
            listed = "".join(
                f"<LUN><vendor>{lun['vendor']}</vendor><serial>{lun['serial']}</serial>"
                f"<LUNid>{lun['id']}</LUNid><size>{lun['size']}</size>"
                f"<SCSIid>{lun['scsi_id']}</SCSIid></LUN>"
                for lun in luns
            )
            raise backend_failure(
                107,
                "The SCSIid parameter is missing or incorrect",
                f"<iscsi-target>{listed}</iscsi-target>",
            )
    lun = next((lun for lun in luns if lun["scsi_id"] == config.get("SCSIid")), None)
    if lun is None:
        raise backend_failure(107, "The SCSIid parameter is missing or incorrect")
    return lun


def _using(ctx: Ctx, scsi_id: str) -> list[dict]:
    out = {}
    for pbd in ctx.store.table("PBD").values():
        if pbd["device_config"].get("SCSIid") == scsi_id:
            out[pbd["SR"]] = ctx.store.get("SR", pbd["SR"])
    return list(out.values())


def _existing(ctx: Ctx, server: str, path: str) -> list[dict]:
    """The SRs at that export: those this pool knows, and those it forgot
    (their data is still there)."""
    out, path = {}, path.rstrip("/")
    for pbd in ctx.store.table("PBD").values():
        cfg = pbd["device_config"]
        nfs = cfg.get("server") == server and cfg.get("serverpath", "").rstrip("/") == path
        iso = cfg.get("location", "").rstrip("/") == f"{server}:{path}"
        if nfs or iso:
            out[pbd["SR"]] = ctx.store.get("SR", pbd["SR"])
    for uuid, (sr, cfg, _vdis) in ctx.store.on_storage.items():
        if cfg.get("server") == server and cfg.get("serverpath", "").rstrip("/") == path:
            out[uuid] = sr
    return list(out.values())


@message(asyncable=False)
def probe(ctx: Ctx, host, device_config, type, sm_config):  # noqa: A002 (the API's name)
    """As the storage managers answer: NFS, the export list (in
    SR_BACKEND_FAILURE_101) without a path; iSCSI, the target's IQNs (96)
    then its LUNs (107); HBA, the LUNs (107); with everything given, the SRs
    already there (XML)."""
    config = {str(k): str(v) for k, v in dict(device_config).items()}
    if type == "nfs":
        server, path = _nfs_target(ctx, config)
        found = [sr["uuid"] for sr in _existing(ctx, server, path)]
    elif type in ("lvmoiscsi", "lvmohba"):
        lun = _block_lun(ctx, type, config)
        found = [sr["uuid"] for sr in _using(ctx, lun["scsi_id"])]
        found += [  # forgotten, or another pool's (a replicated LUN): still there
            uuid
            for uuid, (_sr, cfg, _vdis) in ctx.store.on_storage.items()
            if cfg.get("SCSIid") == lun["scsi_id"] and uuid not in found
        ]
    elif type in ("lvm", "ext"):
        return _probe_disk(ctx, host, config, type, dict(sm_config))
    else:
        raise XapiError(
            "NOT_IMPLEMENTED",
            f"SR.probe of type {type} (the simulator probes nfs, lvmoiscsi, lvmohba, lvm, ext)",
        )
    names = {}  # with sm-config metadata=true, the LVM managers add the SR's name
    if type in ("lvmoiscsi", "lvmohba") and dict(sm_config).get("metadata") == "true":
        known = {sr["uuid"]: sr["name_label"] for sr in ctx.store.table("SR").values()}
        gone = {u: sr["name_label"] for u, (sr, _cfg, _vdis) in ctx.store.on_storage.items()}
        names = {u: known.get(u, gone.get(u, "")) for u in found}
    items = "".join(
        f"<SR><UUID>{u}</UUID>"
        + (f"<name_label>{escape(names[u])}</name_label>" if names.get(u) else "")
        + "</SR>"
        for u in sorted(found)
    )
    return f'<?xml version="1.0" ?><SRlist>{items}</SRlist>'


def _on_disk(ctx: Ctx, host: str, device: str) -> list[dict]:
    """The SRs whose volume group is on ``device`` of ``host``: the pool's
    (a PBD of that host names the disk) and those it forgot."""
    st = ctx.store
    out = {}
    for pbd in st.table("PBD").values():
        if pbd["host"] == host and pbd["device_config"].get("device") == device:
            sr = st.get("SR", pbd["SR"])
            out[sr["uuid"]] = sr
    for uuid, (h, d) in st.on_disk.items():
        if (h, d) == (host, device) and uuid in st.on_storage:
            out.setdefault(uuid, st.on_storage[uuid][0])
    return list(out.values())


def _probe_disk(ctx: Ctx, host: str, config: dict, type: str, sm_config: dict) -> str:  # noqa: A002
    """As LVHDSR.probe and EXTSR.probe answer (lvutil.srlist_toxml): the SRs
    of that type on the device, whatever the pool knows; with sm-config
    metadata=true, the LVM one adds the name its metadata volume keeps. A
    device that does not exist holds nothing (lvutil.scan_srlist)."""
    device = config.get("device", "").strip()
    if not device:
        raise backend_failure(90, "The request is missing the device parameter")
    items = []
    for sr in _on_disk(ctx, host, device):
        if sr["type"] != type:
            continue  # another prefix: VG_XenStorage- (lvm) or XSLocalEXT- (ext)
        item = f"<UUID>{sr['uuid']}</UUID><Devlist>{escape(device)}</Devlist>"
        item += f"<size>{sr['physical_size']}</size>"
        if type == "lvm" and sm_config.get("metadata") == "true":
            item += (
                f"<name_label>{escape(sr['name_label'])}</name_label>"
                f"<name_description>{escape(sr['name_description'])}</name_description>"
                "<pool_metadata_detected>false</pool_metadata_detected>"
            )
        items.append(f"<SR>{item}</SR>")
    return f'<?xml version="1.0" ?><SRlist>{"".join(items)}</SRlist>'


def lsblk_plugin(ctx: Ctx, host: str, fn: str) -> str:
    """XCP-ng's lsblk.py: ``list_block_devices``, what lsblk -P says, as a
    tree (a disk's partitions and volumes are its children): the system
    disk sda, then the scenario's free local disks."""
    if fn != "list_block_devices":
        raise XapiError("XENAPI_PLUGIN_FAILURE", "failure", "UnknownFunction", f"no function {fn}")

    def dev(name, size, kind="disk", mountpoint="", parent="", children=()):
        out = {"name": name, "kname": name, "pkname": parent, "size": str(size)}
        out |= {"type": kind, "ro": "0", "mountpoint": mountpoint}
        return out | ({"children": list(children)} if children else {})

    parts = [("sda1", 18, "/"), ("sda2", 18, ""), ("sda3", 917, ""), ("sda5", 4, "/var/log")]
    sda = dev(
        "sda",
        SYSTEM_DISK_BYTES,
        children=[dev(n, gb * GiB, "part", m, "sda") for n, gb, m in parts]
        + [dev("sda6", GiB, "part", "[SWAP]", "sda")],
    )
    disks = [sda] + [
        dev(path.removeprefix("/dev/"), LOCAL_DISK_BYTES) for path in ctx.store.local_disks
    ]
    return json.dumps({"blockdevices": disks})


@message()
def create(
    ctx: Ctx,
    host,
    device_config,
    physical_size,
    name_label,
    name_description,
    type,  # noqa: A002
    content_type,
    shared,
    sm_config,
):
    """An SR and its PBDs, plugged: NFS (a folder of its own on the export)
    and iSCSI / HBA LUNs (LVM, shared) on every host; a local LVM or ext SR
    on a free disk of ``host`` only."""
    st = ctx.store
    config = {str(k): str(v) for k, v in dict(device_config).items()}
    if not str(name_label).strip():
        raise XapiError("INVALID_VALUE", "name_label", str(name_label))
    if type == "nfs":
        _nfs_target(ctx, config)
        size, hosts, is_shared, alloc = NEW_EXPORT_BYTES, list(st.table("host")), True, "thin"
    elif type in ("lvmoiscsi", "lvmohba"):
        lun = _block_lun(ctx, type, config)
        if _using(ctx, lun["scsi_id"]):
            raise backend_failure(16, "The SR device is currently in use")
        size, hosts, is_shared, alloc = lun["size"], list(st.table("host")), True, "thick"
    elif type in ("lvm", "ext"):
        device = config.get("device", "").strip()
        if not device:
            raise backend_failure(90, "The request is missing the device parameter")
        if device in ("/dev/sda", "/dev/sda1", "/dev/sda2", "/dev/sda3"):
            raise backend_failure(105, "Root system device, cannot be used for VM storage")
        if device not in st.local_disks:
            raise backend_failure(91, "The device is not a valid path")
        if any(
            p["host"] == host and p["device_config"].get("device") == device
            for p in st.table("PBD").values()
        ):
            raise backend_failure(16, "The SR device is currently in use")
        for uuid, (h, d) in list(st.on_disk.items()):  # a forgotten SR there is erased
            if (h, d) == (host, device):
                st.on_disk.pop(uuid)
                st.on_storage.pop(uuid, None)
        size, hosts, is_shared = LOCAL_DISK_BYTES, [host], False
        alloc = "thin" if type == "ext" else "thick"
    else:
        raise XapiError("NOT_IMPLEMENTED", f"SR.create of type {type} in the simulator")
    ctx.work(1.0, progress=0.5)
    sr = st.create(
        "SR",
        {
            "name_label": str(name_label),
            "name_description": str(name_description),
            "type": type,
            "content_type": str(content_type or "user"),
            "shared": is_shared,
            "physical_size": size,
            "physical_utilisation": 0,
            "sm_config": {"allocation": alloc, **{str(k): str(v) for k, v in sm_config.items()}},
            "other_config": {},
        },
    )
    for h in hosts:
        st.create("PBD", {"host": h, "SR": sr, "device_config": config, "currently_attached": True})
    return sr


def _refuse_attached(ctx: Ctx, sr: str) -> None:
    for pbd in ctx.store.get("SR", sr)["PBDs"]:
        if ctx.store.get("PBD", pbd)["currently_attached"]:
            raise XapiError("SR_HAS_PBD", sr)


def _remove(ctx: Ctx, sr: str) -> None:
    st = ctx.store
    rec = st.get("SR", sr)
    for vdi in list(rec["VDIs"]):
        for vbd in list(st.get("VDI", vdi)["VBDs"]):
            st.destroy("VBD", vbd)
        st.destroy("VDI", vdi)
    for pbd in list(rec["PBDs"]):
        st.destroy("PBD", pbd)
    pool = ctx.sim.pool
    for field in ("default_SR", "suspend_image_SR", "crash_dump_SR"):
        if st.get("pool", pool)[field] == sr:
            st.set("pool", pool, **{field: "OpaqueRef:NULL"})
    st.destroy("SR", sr)


@message()
def forget(ctx: Ctx, sr):
    """The pool forgets the SR (its data stays on the storage, where a probe
    finds it and SR.introduce brings it back)."""
    _refuse_attached(ctx, sr)
    st = ctx.store
    rec = st.get("SR", sr)
    pbds = [st.get("PBD", p) for p in rec["PBDs"]]
    if pbds and (rec["shared"] or pbds[0]["device_config"].get("device")):
        vdis = [dict(st.get("VDI", v)) for v in rec["VDIs"]]
        st.on_storage[rec["uuid"]] = (dict(rec), dict(pbds[0]["device_config"]), vdis)
        if not rec["shared"]:  # a local SR stays on its host's disk
            st.on_disk[rec["uuid"]] = (pbds[0]["host"], pbds[0]["device_config"]["device"])
    _remove(ctx, sr)
    return ""


@message()
def introduce(ctx: Ctx, uuid, name_label, name_description, type, content_type, shared, sm_config):  # noqa: A002
    """An SR record for storage that holds one (found by a probe); no PBD
    yet: PBD.create and PBD.plug attach it, SR.scan finds its disks."""
    st = ctx.store
    if str(uuid) in st.by_uuid["SR"]:
        raise XapiError("SR_UUID_EXISTS", str(uuid))
    return st.create(
        "SR",
        {
            "uuid": str(uuid),
            "name_label": str(name_label),
            "name_description": str(name_description),
            "type": str(type),
            "content_type": str(content_type),
            "shared": bool(shared),
            "sm_config": {str(k): str(v) for k, v in dict(sm_config).items()},
            "physical_size": (st.on_storage.get(str(uuid), ({},))[0]).get("physical_size", 0),
        },
    )


@message()
def destroy(ctx: Ctx, sr):
    """The SR and every disk on it are deleted from the storage."""
    _refuse_attached(ctx, sr)
    ctx.work(0.5)
    _remove(ctx, sr)
    return ""


@message()
def scan(ctx: Ctx, sr):
    """A scan finds the disks of an SR introduced again (the ones it had when
    it was forgotten); it needs the SR attached somewhere."""
    st = ctx.store
    rec = st.get("SR", sr)
    if not any(st.get("PBD", p)["currently_attached"] for p in rec["PBDs"]):
        raise XapiError("SR_HAS_NO_PBDS", sr)
    ctx.work(0.2)
    _sr, _cfg, vdis = st.on_storage.pop(rec["uuid"], ({}, {}, []))
    for vdi in vdis:
        if vdi.get("uuid") not in st.by_uuid["VDI"]:
            fields = {k: v for k, v in vdi.items() if k not in ("VBDs", "snapshots", "SR")}
            st.create("VDI", {**fields, "SR": sr})
    used = sum(st.get("VDI", v)["physical_utilisation"] for v in st.get("SR", sr)["VDIs"])
    if vdis:
        st.set("SR", sr, physical_utilisation=max(used, _sr.get("physical_utilisation", 0)))
    return ""


@message(asyncable=False)
def get_supported_types(ctx: Ctx):
    """The SR types of the storage managers installed (one SM record each)."""
    return sorted({rec["type"] for rec in ctx.store.table("SM").values()})
