"""Disaster recovery in the simulator: another pool's SR left on this pool's
storage (a replicated iSCSI LUN, an NFS export, an FC LUN), holding that
pool's disks and a metadata VDI (type ``metadata``) with its database.

``VDI.open_database`` gives a session whose calls read that database (see
api.foreign_database); ``VM.recover`` / ``VM_appliance.recover``, called
with it, bring its VMs into ``session_to``'s pool as XAPI's xapi_dr does: a
metadata-only full restore (same uuids, disks found by uuid on the SRs
attached), refused as a restore is when the VM exists (unless forced), and
``session_to`` must be allowed ``VDI.open_database`` (RBAC_PERMISSION_DENIED,
naming the action). Snapshots are not brought back here."""

from __future__ import annotations

from .errors import XapiError
from .schema import NULL_REF
from .store import Store
from .transfers import NOT_IMPORTED, known_fields

METADATA_VDI_NAME = "Metadata for DR"
METADATA_VDI_BYTES = 256 << 20


def assert_session_allows_dr(sim, session_to: str, action: str) -> None:
    """``Xapi_dr.assert_session_allows_dr``: session_to is a live session of
    this pool that could have called VDI.open_database itself."""
    sim.check_session(str(session_to))
    try:
        sim.check_permission(str(session_to), "VDI.open_database")
    except XapiError:
        raise XapiError(
            "RBAC_PERMISSION_DENIED",
            action,
            "The supplied session does not have the required permissions for VM recovery.",
        ) from None


def _attached_srs(own: Store) -> set[str]:
    """The uuids of the SRs plugged somewhere in the pool."""
    return {
        sr["uuid"]
        for sr in own.table("SR").values()
        if any(own.exists("PBD", p) and own.get("PBD", p)["currently_attached"] for p in sr["PBDs"])
    }


def _disks(db: Store, vm: str) -> list[tuple[str, dict]]:
    """(VBD ref, its VDI record) of each disk of the VM in the database."""
    out = []
    for vbd in db.get("VM", vm)["VBDs"]:
        b = db.get("VBD", vbd)
        if b["type"] == "Disk" and db.exists("VDI", b["VDI"]):
            out.append((vbd, db.get("VDI", b["VDI"])))
    return out


def assert_can_be_recovered(sim, db: Store, vm: str) -> None:
    """Each SR the VM's disks are on is attached in this pool (VM_REQUIRES_SR)."""
    attached = _attached_srs(sim.store)
    for _vbd, vdi in _disks(db, vm):
        if db.exists("SR", vdi["SR"]) and db.get("SR", vdi["SR"])["uuid"] not in attached:
            raise XapiError("VM_REQUIRES_SR", vm, vdi["SR"])


# what a recovered VM does not take from the database: what an import does
# not take from its file (links to the old pool), nor where it ran there
_VM_LINKS = NOT_IMPORTED | {"resident_on", "scheduled_to_be_resident_on", "version"}
_DEVICE_LINKS = {"uuid", "VM", "VDI", "network", "metrics", "current_operations"}
_DEVICE_LINKS |= {"allowed_operations", "currently_attached"}


def recover_vms(sim, db: Store, vms: list[str], force: bool, appliance: str = NULL_REF) -> list:
    """The VMs ``vms`` of the database made in this pool (checked first, made
    after: nothing is left half made); the new refs."""
    from .transfers import _precheck

    own = sim.store
    plans = []
    for vm in vms:
        rec = db.get("VM", vm)
        disks = {}
        for vbd, vdi in _disks(db, vm):
            ref = own.by_uuid["VDI"].get(vdi["uuid"])
            if ref is None:
                raise XapiError("IMPORT_ERROR_ATTACHED_DISKS_NOT_FOUND")
            disks[vbd] = ref
        plans.append((rec, disks, _precheck(sim, rec, True, force)))
    made = []
    for rec, disks, action in plans:
        if action == "skip":  # running here already, and forced: left as it is
            continue
        if action is not None:  # an older halted copy: replaced (its disks stay)
            old = own.get("VM", action)
            for dev in ("VBDs", "VIFs"):
                for r in list(old[dev]):
                    own.destroy(dev[:-1], r)
            own.destroy("VM", action)
        fields = known_fields("VM", rec, _VM_LINKS)
        fields.update(
            power_state="Halted",
            resident_on=NULL_REF,
            domid=-1,
            appliance=appliance,
            version=int(rec.get("version", 0) or 0) + 1,
        )
        new = own.create("VM", fields)
        made.append(new)
        for vbd in rec["VBDs"]:
            b = db.get("VBD", vbd)
            vdi = disks.get(vbd, NULL_REF)
            own.create(
                "VBD",
                {
                    **known_fields("VBD", b, _DEVICE_LINKS),
                    "VM": new,
                    "VDI": vdi,
                    "empty": vdi == NULL_REF,
                    "currently_attached": False,
                },
            )
        for vif in rec["VIFs"]:
            v = db.get("VIF", vif)
            network = _network(own, db, v["network"])
            own.create(
                "VIF",
                {**known_fields("VIF", v, _DEVICE_LINKS), "VM": new, "network": network},
            )
    return made


def _network(own: Store, db: Store, net: str) -> str:
    """The pool's network of the same name (or bridge), else one made like it."""
    rec = db.get("network", net) if db.exists("network", net) else {"name_label": "DR network"}
    found = own.find("network", name_label=rec["name_label"]) or [
        r
        for r, n in own.table("network").items()
        if rec.get("bridge") and n["bridge"] == rec["bridge"]
    ]
    if found:
        return found[0]
    return own.create("network", known_fields("network", rec, {"uuid", "VIFs", "PIFs"}))


def recover_appliance(sim, db: Store, appliance: str, force: bool) -> None:
    """The vApp's record (same uuid: the pool's own when it has it already),
    then its VMs in it (each refused, as a VM's recovery is, when it exists)."""
    own = sim.store
    rec = db.get("VM_appliance", appliance)
    for vm in rec["VMs"]:
        assert_can_be_recovered(sim, db, vm)
    old = own.by_uuid["VM_appliance"].get(rec["uuid"])
    new = old or own.create(
        "VM_appliance",
        {
            "uuid": rec["uuid"],
            "name_label": rec["name_label"],
            "name_description": rec["name_description"],
        },
    )
    try:
        recover_vms(sim, db, list(rec["VMs"]), force, new)
    except XapiError:
        if old is None:
            own.destroy("VM_appliance", new)
        raise


def portable_sr(own: Store, spec: dict, build, load) -> None:
    """The scenario's ``portable_sr``: the SR ``spec['sr']`` of the pool the
    scenario ``spec['from']`` describes, on this pool's iSCSI target
    ``spec['target']`` (LUN ``spec['lun']``), with a metadata VDI holding
    that pool's database. Nothing of it is in this pool until introduced."""
    db = build(load(spec["from"]))
    sr = next((r for r, s in db.table("SR").items() if s["name_label"] == spec["sr"]), None)
    if sr is None:
        raise ValueError(f"portable_sr: {spec['from']} has no SR named {spec['sr']!r}")
    address = spec["target"]
    target = own.iscsi_targets.get(address)
    if target is None:
        raise ValueError(f"portable_sr: no iSCSI target {address!r} in this scenario")
    lun = next((x for x in target["luns"] if x["id"] == int(spec.get("lun", 0))), None)
    if lun is None:
        raise ValueError(f"portable_sr: the target {address} has no LUN {spec.get('lun', 0)}")
    meta = db.create(
        "VDI",
        {
            "name_label": METADATA_VDI_NAME,
            "SR": sr,
            "type": "metadata",
            "virtual_size": METADATA_VDI_BYTES,
            "physical_utilisation": METADATA_VDI_BYTES,
            "managed": True,
        },
    )
    pool = next(iter(db.table("pool")))
    db.set("pool", pool, metadata_VDIs=[meta])
    db.set("SR", sr, type="lvmoiscsi", shared=True, physical_size=lun["size"])
    config = {"target": address, "port": "3260", "targetIQN": target["iqn"]}
    if target.get("chap"):
        config |= {"chapuser": target["chap"]["user"], "chappassword": target["chap"]["password"]}
    config["SCSIid"] = lun["scsi_id"]
    vdis = [dict(db.get("VDI", v)) for v in db.get("SR", sr)["VDIs"]]
    own.on_storage[db.get("SR", sr)["uuid"]] = (dict(db.get("SR", sr)), config, vdis)
    own.databases[db.get("VDI", meta)["uuid"]] = db
