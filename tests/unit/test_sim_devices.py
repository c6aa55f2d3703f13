"""VBDs, VIFs, disks, VM copies and consoles in the simulator, end to end over
real HTTP with the stock XenAPI client: each message's effect, and its
refusals with XAPI's codes and parameters, nothing changed by a refused call.
Where a rule comes from is cited (files of xapi-project/xen-api)."""

from __future__ import annotations

import hashlib

import pytest
import XenAPI

NULL = "OpaqueRef:NULL"
GiB = 1 << 30


def fails(call, *args) -> list[str]:
    with pytest.raises(XenAPI.Failure) as err:
        call(*args)
    return err.value.details


def vm(x, name: str) -> str:
    return x.xenapi.VM.get_by_name_label(name)[0]


def sr(x, name: str, host: str | None = None) -> str:
    for ref in x.xenapi.SR.get_by_name_label(name):
        pbds = x.xenapi.SR.get_PBDs(ref)
        hosts = {x.xenapi.host.get_name_label(x.xenapi.PBD.get_host(p)) for p in pbds}
        if host is None or hosts == {host}:
            return ref
    raise LookupError(name)


def new_disk(x, where: str, gib: int = 1, **more) -> str:
    record = {"SR": where, "name_label": "scratch", "virtual_size": str(gib * GiB), **more}
    record.setdefault("type", "user")
    return x.xenapi.VDI.create(record)


def vbd_record(vm_ref: str, vdi: str, userdevice: str = "autodetect", **more) -> dict:
    record = {
        "VM": vm_ref,
        "VDI": vdi,
        "userdevice": userdevice,
        "bootable": False,
        "mode": "RW",
        "type": "Disk",
        "empty": False,
        "other_config": {},
        "qos_algorithm_type": "",
        "qos_algorithm_params": {},
    }
    return {**record, **more}


def iso(x) -> str:
    return new_disk(x, sr(x, "ISO library"), 1, name_label="debian.iso", type="user")


# VBD -----------------------------------------------------------------------------
def test_vbd_create_autodetects_a_free_position_and_refuses_a_taken_one(xapi):
    """Xapi_vbd.create: "autodetect" resolves to the first free disk number;
    a position is taken under any of its names (possible_VBD_devices_of_string)."""
    x = xapi.xenapi
    guest = vm(xapi, "test-ubuntu-24")
    disk = new_disk(xapi, sr(xapi, "NFS VM store"))
    vbd = x.VBD.create(vbd_record(guest, disk))
    rec = x.VBD.get_record(vbd)
    assert (rec["userdevice"], rec["device"], rec["currently_attached"]) == ("1", "", False)
    assert vbd in x.VM.get_VBDs(guest) and vbd in x.VDI.get_VBDs(disk)
    before = sorted(x.VM.get_VBDs(guest))
    for taken in ("1", "xvdb", "hdb", "0"):
        assert fails(x.VBD.create, vbd_record(guest, disk, taken)) == [
            "DEVICE_ALREADY_EXISTS",
            taken,
        ]
    for bad in ("nonsense", "xvd", ""):
        assert fails(x.VBD.create, vbd_record(guest, disk, bad)) == ["INVALID_DEVICE", bad]
    assert sorted(x.VM.get_VBDs(guest)) == before
    assert x.VBD.get_userdevice(x.VBD.create(vbd_record(guest, disk, "xvdd"))) == "xvdd"


def test_vbd_create_checks_in_xapis_order(xapi, running_sim):
    """The constructor's own checks (xapi_vbd.ml, create), one at a time."""
    x = xapi.xenapi
    guest = vm(xapi, "test-ubuntu-24")
    nfs = sr(xapi, "NFS VM store")
    disk = new_disk(xapi, nfs)
    before = len(x.VBD.get_all())
    assert fails(x.VBD.create, vbd_record(guest, disk, type="CD", mode="RW")) == [
        "VBD_CDS_MUST_BE_READONLY"
    ]
    assert fails(x.VBD.create, vbd_record(guest, NULL, empty=True)) == [
        "VBD_NOT_REMOVABLE_MEDIA",
        "in constructor",
    ]
    assert fails(x.VBD.create, vbd_record(guest, NULL)) == ["HANDLE_INVALID", "VDI", NULL]
    locked = new_disk(xapi, nfs, read_only=True)
    assert fails(x.VBD.create, vbd_record(guest, locked)) == ["VDI_READONLY", locked]
    statefile = new_disk(xapi, nfs, type="ha_statefile")
    assert fails(x.VBD.create, vbd_record(guest, statefile)) == [
        "VDI_INCOMPATIBLE_TYPE",
        statefile,
        "ha_statefile",
    ]
    template = vm(xapi, "Debian Bookworm 12")  # not HVM: no emulated floppy
    assert fails(x.VBD.create, vbd_record(template, disk, type="Floppy")) == [
        "NOT_IMPLEMENTED",
        "VBD of type 'floppy' is not supported on PV domain",
    ]
    assert fails(x.VBD.create, vbd_record("OpaqueRef:gone", disk))[:2] == [
        "HANDLE_INVALID",
        "VM",
    ]
    running_sim.sim.store.set("VM", guest, current_operations={"OpaqueRef:t1": "pool_migrate"})
    assert fails(x.VBD.create, vbd_record(guest, disk)) == [
        "OTHER_OPERATION_IN_PROGRESS",
        "VM",
        guest,
        "pool_migrate",
        "OpaqueRef:t1",
    ]
    assert len(x.VBD.get_all()) == before
    running_sim.sim.store.set("VM", guest, current_operations={})
    cd = x.VBD.create(vbd_record(guest, NULL, type="CD", mode="RO", empty=True))
    assert x.VBD.get_empty(cd) and x.VBD.get_VDI(cd) == NULL


def test_vbd_create_takes_the_attachment_of_a_suspended_vm_only(xapi):
    """Device and currently_attached are taken for a suspended VM and
    ignored otherwise (Xapi_vbd.create)."""
    x = xapi.xenapi
    disk = new_disk(xapi, sr(xapi, "NFS VM store"))
    extra = {"device": "xvdc", "currently_attached": True}
    suspended = x.VBD.create(vbd_record(vm(xapi, "build-agent-3"), disk, "2", **extra))
    halted = x.VBD.create(vbd_record(vm(xapi, "legacy-erp"), disk, "2", **extra))
    assert x.VBD.get_currently_attached(suspended) and x.VBD.get_device(suspended) == "xvdc"
    assert not x.VBD.get_currently_attached(halted) and x.VBD.get_device(halted) == ""


def test_ha_protected_vm_gets_no_disk_on_an_unshared_sr(xapi, running_sim):
    """assert_doesnt_make_vm_non_agile (xapi_vbd_helpers.ml, agility.ml)."""
    x = xapi.xenapi
    guest = vm(xapi, "web-01")  # restart priority
    local = sr(xapi, "Local storage", "xcp-a")
    disk = new_disk(xapi, local)
    st = running_sim.sim.store
    st.set("pool", running_sim.sim.pool, ha_enabled=True)
    assert fails(x.VBD.create, vbd_record(guest, disk)) == [
        "HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED",
        local,
    ]
    x.VBD.create(vbd_record(guest, new_disk(xapi, sr(xapi, "NFS VM store"))))
    st.set("pool", running_sim.sim.pool, ha_enabled=False)
    x.VBD.create(vbd_record(guest, disk))


def test_vbd_plug_unplug_and_destroy_on_a_running_vm(xapi):
    """plug attaches at the guest's device name; destroy waits for an unplug
    (Xapi_vbd_helpers.destroy)."""
    x = xapi.xenapi
    guest = vm(xapi, "web-01")
    vbd = x.VBD.create(vbd_record(guest, new_disk(xapi, sr(xapi, "NFS VM store"))))
    assert not x.VBD.get_currently_attached(vbd)
    x.VBD.plug(vbd)
    assert x.VBD.get_currently_attached(vbd) and x.VBD.get_device(vbd) == "xvdb"
    uuid, vm_uuid = x.VBD.get_uuid(vbd), x.VM.get_uuid(guest)
    assert fails(x.VBD.destroy, vbd) == [
        "OPERATION_NOT_ALLOWED",
        f"VBD '{uuid}' still attached to '{vm_uuid}'",
    ]
    x.VBD.unplug(vbd)
    assert not x.VBD.get_currently_attached(vbd)
    x.VBD.plug(vbd)
    x.VBD.unplug_force(vbd)
    assert not x.VBD.get_currently_attached(vbd)
    x.VBD.destroy(vbd)
    assert vbd not in x.VM.get_VBDs(guest)


def test_vbd_plug_refuses_a_read_only_disk_to_an_hvm_guest(xapi):
    """CA-83260 (xapi_vbd.ml, plug)."""
    x = xapi.xenapi
    guest = vm(xapi, "web-02")
    vbd = x.VBD.create(vbd_record(guest, new_disk(xapi, sr(xapi, "NFS VM store")), mode="RO"))
    assert fails(x.VBD.plug, vbd) == ["DISK_VBD_MUST_BE_READWRITE_FOR_HVM", vbd]
    assert not x.VBD.get_currently_attached(vbd)


def test_vbd_set_mode_only_while_halted(xapi):
    x = xapi.xenapi
    disk = new_disk(xapi, sr(xapi, "NFS VM store"))
    halted = x.VBD.create(vbd_record(vm(xapi, "legacy-erp"), disk))
    x.VBD.set_mode(halted, "RO")
    assert x.VBD.get_mode(halted) == "RO"
    running = x.VM.get_VBDs(vm(xapi, "web-01"))[0]
    assert fails(x.VBD.set_mode, running, "RO") == [
        "VM_BAD_POWER_STATE",
        vm(xapi, "web-01"),
        "halted",
        "running",
    ]


def test_cd_insert_and_eject(xapi):
    """assert_ok_to_insert and assert_ok_to_eject (xapi_vbd.ml), halted and running."""
    x = xapi.xenapi
    disc = iso(xapi)
    for name in ("legacy-erp", "web-03"):
        guest = vm(xapi, name)
        cd = x.VBD.create(vbd_record(guest, NULL, "3", type="CD", mode="RO", empty=True))
        assert fails(x.VBD.eject, cd) == ["VBD_IS_EMPTY", cd]
        x.VBD.insert(cd, disc)
        assert x.VBD.get_VDI(cd) == disc and not x.VBD.get_empty(cd)
        assert fails(x.VBD.insert, cd, disc) == ["VBD_NOT_EMPTY", cd]
        x.VBD.eject(cd)
        assert x.VBD.get_VDI(cd) == NULL and x.VBD.get_empty(cd)
    disk = x.VM.get_VBDs(vm(xapi, "legacy-erp"))[0]
    assert fails(x.VBD.insert, disk, disc) == ["VBD_NOT_REMOVABLE_MEDIA", disk]
    assert fails(x.VBD.eject, disk) == ["VBD_NOT_REMOVABLE_MEDIA", disk]


def test_cd_insert_refused_on_a_suspended_vm_or_an_unmanaged_disk(xapi, running_sim):
    x = xapi.xenapi
    suspended = vm(xapi, "build-agent-3")
    cd = x.VBD.create(vbd_record(suspended, NULL, "3", type="CD", mode="RO", empty=True))
    disc = iso(xapi)
    assert fails(x.VBD.insert, cd, disc) == [
        "VM_BAD_POWER_STATE",
        suspended,
        "halted, running",
        "suspended",
    ]
    halted_cd = x.VBD.create(
        vbd_record(vm(xapi, "legacy-erp"), NULL, "3", type="CD", mode="RO", empty=True)
    )
    running_sim.sim.store.set("VDI", disc, managed=False)
    assert fails(x.VBD.insert, halted_cd, disc) == ["VDI_NOT_MANAGED", disc]
    assert x.VBD.get_empty(halted_cd)


# VIF -----------------------------------------------------------------------------
def xapi_gen_mac(device: int, seed: str) -> str:
    """Xapi_vif_helpers.gen_mac, transcribed: MD5 chained 2*device+1 times,
    then bit 1 of the first octet set (local) and bit 0 cleared (unicast)."""
    data = seed.encode()
    for _ in range(2 * device + 1):
        data = hashlib.md5(data).digest()
    tail = hashlib.md5(data).digest()
    octets = [(data[0] | 2) & 0xFE, data[1], data[2], data[3], tail[1], tail[2]]
    return ":".join(f"{o:02x}" for o in octets)


def vif_record(vm_ref: str, network: str, device: str, mac: str = "", **more) -> dict:
    record = {
        "VM": vm_ref,
        "network": network,
        "device": device,
        "MAC": mac,
        "MTU": "1500",
        "other_config": {},
        "qos_algorithm_type": "",
        "qos_algorithm_params": {},
    }
    return {**record, **more}


def test_vif_create_makes_the_mac_from_the_vms_seed(xapi):
    x = xapi.xenapi
    guest = vm(xapi, "legacy-erp")
    backup = x.network.get_by_name_label("Backup")[0]
    seed = x.VM.get_other_config(guest)["mac_seed"]
    vif = x.VIF.create(vif_record(guest, backup, "3"))
    rec = x.VIF.get_record(vif)
    assert rec["MAC"] == xapi_gen_mac(3, seed) and rec["MAC_autogenerated"]
    assert vif in x.network.get_VIFs(backup) and not rec["currently_attached"]
    given = x.VIF.create(vif_record(guest, backup, "4", "02:00:00:00:00:04"))
    assert x.VIF.get_MAC(given) == "02:00:00:00:00:04"
    assert not x.VIF.get_MAC_autogenerated(given)


def test_vif_create_refusals(xapi):
    """Xapi_vif_helpers.create: device a number, unique as a number; MAC valid."""
    x = xapi.xenapi
    guest = vm(xapi, "legacy-erp")
    backup = x.network.get_by_name_label("Backup")[0]
    before = len(x.VIF.get_all())
    for taken in ("0", "00"):
        assert fails(x.VIF.create, vif_record(guest, backup, taken)) == [
            "DEVICE_ALREADY_EXISTS",
            taken,
        ]
    assert fails(x.VIF.create, vif_record(guest, backup, "eth1")) == ["INVALID_DEVICE", "eth1"]
    assert fails(x.VIF.create, vif_record(guest, backup, "5", "zz:00")) == [
        "MAC_INVALID",
        "zz:00",
    ]
    template = vm(xapi, "Rocky Linux 9")  # no mac_seed: nothing to make a MAC from
    assert fails(x.VIF.create, vif_record(template, backup, "0")) == ["MAC_INVALID", ""]
    assert fails(x.VIF.create, vif_record(guest, "OpaqueRef:gone", "5"))[:2] == [
        "HANDLE_INVALID",
        "network",
    ]
    assert len(x.VIF.get_all()) == before


def test_vif_plug_takes_the_networks_mtu_and_destroy_waits_for_unplug(xapi):
    """vif_plug syncs VIF.MTU from the device (xapi_xenops.ml); destroy of an
    attached VIF of a running VM is refused (xapi_vif_helpers.ml)."""
    x = xapi.xenapi
    guest = vm(xapi, "web-01")
    storage = x.network.get_by_name_label("Storage")[0]  # MTU 9000
    vif = x.VIF.create(vif_record(guest, storage, "1"))
    assert x.VIF.get_MTU(vif) == "1500"
    x.VIF.plug(vif)
    assert x.VIF.get_currently_attached(vif) and x.VIF.get_MTU(vif) == "9000"
    assert fails(x.VIF.destroy, vif) == [
        "OPERATION_NOT_ALLOWED",
        "VIF currently attached to a running VM",
    ]
    x.VIF.unplug(vif)
    assert not x.VIF.get_currently_attached(vif)
    x.VIF.plug(vif)
    x.VIF.unplug_force(vif)
    x.VIF.destroy(vif)
    assert vif not in x.VM.get_VIFs(guest)


def test_plug_needs_the_vm_on_a_host(xapi):
    """Xapi_xenops.assert_resident_on, behind the dispatcher's power-state check."""
    x = xapi.xenapi
    guest = vm(xapi, "legacy-erp")
    vif = x.VM.get_VIFs(guest)[0]
    assert fails(x.VIF.plug, vif)[0] in ("INTERNAL_ERROR", "VM_BAD_POWER_STATE")
    assert not x.VIF.get_currently_attached(vif)


# devices and consoles follow the VM's power -----------------------------------------
def test_start_attaches_devices_and_makes_consoles_shutdown_undoes_them(xapi):
    """VBDs and VIFs attached as the domain starts (Xapi_xenops.start),
    detached when halted (force_state_reset); consoles at the host's address
    (xapi_xenops.ml, update_vm), gone when it halts."""
    x = xapi.xenapi
    guest = vm(xapi, "test-ubuntu-24")
    vbd, vif = x.VM.get_VBDs(guest)[0], x.VM.get_VIFs(guest)[0]
    assert x.VM.get_consoles(guest) == [] and not x.VBD.get_currently_attached(vbd)
    x.VM.start(guest, False, False)
    host = x.VM.get_resident_on(guest)
    assert x.VBD.get_currently_attached(vbd) and x.VBD.get_device(vbd) == "xvda"
    assert x.VIF.get_currently_attached(vif)
    (console,) = x.VM.get_consoles(guest)  # HVM: the VNC console only
    rec = x.console.get_record(console)
    assert rec["protocol"] == "rfb" and rec["VM"] == guest
    address = x.host.get_address(host)
    assert rec["location"] == f"https://{address}/console?uuid={rec['uuid']}"
    x.VM.clean_shutdown(guest)
    assert x.VM.get_consoles(guest) == [] and console not in x.console.get_all()
    assert not x.VBD.get_currently_attached(vbd) and not x.VIF.get_currently_attached(vif)


def test_suspend_drops_consoles_keeps_devices_and_migration_moves_consoles(xapi):
    x = xapi.xenapi
    guest = vm(xapi, "web-03")  # on xcp-c
    vbd = x.VM.get_VBDs(guest)[0]
    x.VM.suspend(guest)
    assert x.VM.get_consoles(guest) == [] and x.VBD.get_currently_attached(vbd)
    x.VM.resume(guest, False, False)
    assert len(x.VM.get_consoles(guest)) == 1
    target = next(h for h in x.host.get_all() if h != x.VM.get_resident_on(guest))
    x.VM.pool_migrate(guest, target, {})
    (console,) = x.VM.get_consoles(guest)
    assert x.console.get_location(console).startswith(
        f"https://{x.host.get_address(target)}/console?"
    )


def test_a_scenarios_running_vms_and_control_domains_have_consoles(xapi):
    """As after the master's start: located by ref (dbsync_master.ml); a
    control domain has a VNC and a text console (create_misc.ml)."""
    x = xapi.xenapi
    records = x.console.get_all_records()
    vms = x.VM.get_all_records()
    for ref, c in records.items():
        host = vms[c["VM"]]["resident_on"]
        assert c["location"] == f"https://{x.host.get_address(host)}/console?ref={ref}"
    for v in vms.values():
        protocols = sorted(records[c]["protocol"] for c in v["consoles"])
        if v["is_control_domain"]:
            assert protocols == ["rfb", "vt100"], v["name_label"]
        elif v["power_state"] in ("Running", "Paused"):
            assert protocols == ["rfb"], v["name_label"]
        else:
            assert protocols == [], v["name_label"]
    assert fails(x.console.create, {"VM": vm(xapi, "web-01")})[0] == "NOT_IMPLEMENTED"


# VDI -----------------------------------------------------------------------------
def test_vdi_resize_grows_and_never_shrinks(xapi):
    """Shrinking is refused by the storage manager (VDISize, opterr as
    XenError words it); resize_online takes the same storage path."""
    x = xapi.xenapi
    nfs = sr(xapi, "NFS VM store")
    disk = new_disk(xapi, nfs, 4)
    allocated = int(x.SR.get_virtual_allocation(nfs))
    x.VDI.resize(disk, str(6 * GiB))
    assert x.VDI.get_virtual_size(disk) == str(6 * GiB)
    assert int(x.SR.get_virtual_allocation(nfs)) == allocated + 2 * GiB
    assert fails(x.VDI.resize, disk, str(5 * GiB)) == [
        "SR_BACKEND_FAILURE_79",
        "",
        "VDI Invalid size [opterr=shrinking not allowed]",
        "",
    ]
    # the NFS driver cannot resize a disk in use (no VDI_RESIZE_ONLINE): the
    # SR refuses before the storage is asked (xapi_sr_operations.ml)
    assert fails(x.VDI.resize_online, disk, str(8 * GiB)) == ["SR_OPERATION_NOT_SUPPORTED", nfs]
    assert x.VDI.get_virtual_size(disk) == str(6 * GiB)


def test_a_thick_sr_refuses_what_does_not_fit(xapi):
    """Local LVM allocates whole disks: SRNoSpace (44) when they do not fit."""
    x = xapi.xenapi
    local = sr(xapi, "Local storage", "xcp-b")  # 46 GiB free
    used = x.SR.get_physical_utilisation(local)
    disk = new_disk(xapi, local, 10)
    assert int(x.SR.get_physical_utilisation(local)) == int(used) + 10 * GiB
    assert fails(x.VDI.resize, disk, str(100 * GiB))[:3] == [
        "SR_BACKEND_FAILURE_44",
        "",
        "There is insufficient space",
    ]
    assert x.VDI.get_virtual_size(disk) == str(10 * GiB)
    x.VDI.destroy(disk)
    assert x.SR.get_physical_utilisation(local) == used


def test_vdi_needs_its_sr_plugged_and_managed(xapi, running_sim):
    """Sm.assert_pbd_is_plugged and Xapi_vdi_helpers.assert_managed."""
    x = xapi.xenapi
    local = sr(xapi, "Local storage", "xcp-c")
    disk = new_disk(xapi, local)
    st = running_sim.sim.store
    (pbd,) = x.SR.get_PBDs(local)
    st.set("PBD", pbd, currently_attached=False)
    assert fails(x.VDI.resize, disk, str(2 * GiB)) == ["SR_HAS_NO_PBDS", local]
    assert fails(x.VDI.snapshot, disk, {}) == ["SR_HAS_NO_PBDS", local]
    st.set("PBD", pbd, currently_attached=True)
    st.set("VDI", disk, managed=False)
    for call in (x.VDI.snapshot, x.VDI.clone):
        assert fails(call, disk, {}) == ["VDI_NOT_MANAGED", disk]
    assert fails(x.VDI.copy, disk, local, NULL, NULL) == ["VDI_NOT_MANAGED", disk]


def test_vdi_snapshot_and_clone(xapi):
    x = xapi.xenapi
    nfs = sr(xapi, "NFS VM store")
    disk = new_disk(xapi, nfs, 3, name_label="data", other_config={"content_id": "c1"})
    snap = x.VDI.snapshot(disk, {})
    s = x.VDI.get_record(snap)
    assert s["is_a_snapshot"] and s["snapshot_of"] == disk and s["SR"] == nfs
    assert (s["name_label"], s["virtual_size"]) == ("data", str(3 * GiB))
    assert snap in x.VDI.get_snapshots(disk)
    clone = x.VDI.clone(disk, {})
    c = x.VDI.get_record(clone)
    assert not c["is_a_snapshot"] and c["snapshot_of"] == NULL and c["SR"] == nfs
    # same bytes, same content_id (storage_smapiv1.ml); a disk without one gets new ones
    assert c["other_config"]["content_id"] == s["other_config"]["content_id"] == "c1"
    plain = new_disk(xapi, nfs)
    ids = {x.VDI.get_other_config(x.VDI.clone(plain, {}))["content_id"] for _ in range(2)}
    assert len(ids) == 2


def test_vdi_copy_to_another_sr_or_into_a_disk(xapi):
    """Xapi_vdi.copy: a new writable disk on the SR, or into one that is
    writable and big enough."""
    x = xapi.xenapi
    nfs, local = sr(xapi, "NFS VM store"), sr(xapi, "Local storage", "xcp-a")
    disk = new_disk(xapi, nfs, 2, read_only=True, name_label="golden")
    copied = x.VDI.copy(disk, local, NULL, NULL)
    rec = x.VDI.get_record(copied)
    assert rec["SR"] == local and rec["virtual_size"] == str(2 * GiB)
    assert rec["name_label"] == "golden" and not rec["read_only"]
    small = new_disk(xapi, nfs, 1)
    assert fails(x.VDI.copy, disk, NULL, NULL, small) == [
        "VDI_TOO_SMALL",
        small,
        str(2 * GiB),
    ]
    assert x.VDI.copy(disk, NULL, NULL, copied) == copied
    assert fails(x.VDI.copy, copied, NULL, NULL, disk) == ["VDI_READONLY", disk]


def test_vdi_copy_leaves_nothing_when_refused(xapi, running_sim):
    x = xapi.xenapi
    nfs, full = sr(xapi, "NFS VM store"), sr(xapi, "Local storage", "xcp-b")
    big = new_disk(xapi, nfs, 100)
    before = set(x.VDI.get_all())
    assert fails(x.VDI.copy, big, full, NULL, NULL)[0] == "SR_BACKEND_FAILURE_44"
    # a storage manager that cannot create disks (the nested VDI.create's SR check)
    st = running_sim.sim.store
    sm = st.find_one("SM", type="nfs")
    caps = st.get("SM", sm)["capabilities"]
    st.set("SM", sm, capabilities=[c for c in caps if c != "VDI_CREATE"])
    assert fails(x.VDI.copy, big, nfs, NULL, NULL) == ["SR_OPERATION_NOT_SUPPORTED", nfs]
    assert set(x.VDI.get_all()) == before


# VM.copy, VM.clone, VM.provision -----------------------------------------------------
def test_vm_copy_to_an_sr_or_to_the_disks_own(xapi):
    """Xapi_vm.copy: every disk copied (to the SR, or each to its own); new
    MACs from a new mac_seed (xapi_vm_clone.ml)."""
    x = xapi.xenapi
    source = vm(xapi, "test-ubuntu-24")
    nfs, local = sr(xapi, "NFS VM store"), sr(xapi, "Local storage", "xcp-a")
    for target, where in ((local, local), (NULL, nfs)):
        copy = x.VM.copy(source, "ubuntu copy", target)
        rec = x.VM.get_record(copy)
        assert rec["power_state"] == "Halted" and not rec["is_a_template"]
        (vbd,) = rec["VBDs"]
        disk = x.VBD.get_VDI(vbd)
        assert x.VDI.get_SR(disk) == where
        assert disk not in [x.VBD.get_VDI(b) for b in x.VM.get_VBDs(source)]
        assert rec["other_config"]["mac_seed"] != x.VM.get_other_config(source)["mac_seed"]
        (vif,) = rec["VIFs"]
        assert x.VIF.get_MAC(vif) == xapi_gen_mac(0, rec["other_config"]["mac_seed"])
    assert fails(x.VM.copy, source, "to iso", sr(xapi, "ISO library")) == [
        "OPERATION_NOT_ALLOWED",
        "Cannot copy a VM's disks to an ISO SR",
    ]


def test_vm_copy_that_does_not_fit_leaves_nothing(xapi):
    x = xapi.xenapi
    vms, vdis = set(x.VM.get_all()), set(x.VDI.get_all())
    full = sr(xapi, "Local storage", "xcp-b")
    assert fails(x.VM.copy, vm(xapi, "legacy-erp"), "too big", full)[0] == ("SR_BACKEND_FAILURE_44")
    assert set(x.VM.get_all()) == vms and set(x.VDI.get_all()) == vdis


def test_snapshot_keeps_macs_and_clone_makes_new_ones(xapi):
    x = xapi.xenapi
    source = vm(xapi, "web-01")
    mac = x.VIF.get_MAC(x.VM.get_VIFs(source)[0])
    snap = x.VM.snapshot(source, "before upgrade")
    assert [x.VIF.get_MAC(v) for v in x.VM.get_VIFs(snap)] == [mac]
    assert x.VM.get_consoles(snap) == []
    clone = x.VM.clone(vm(xapi, "legacy-erp"), "erp clone")
    (vif,) = x.VM.get_VIFs(clone)
    assert x.VIF.get_MAC(vif) != x.VIF.get_MAC(x.VM.get_VIFs(vm(xapi, "legacy-erp"))[0])


def provision_spec(*disks: tuple[str, int, str]) -> str:
    rows = "".join(
        f'<disk device="{d}" size="{size}" sr="{where}" bootable="{str(i == 0).lower()}" '
        'type="system"/>'
        for i, (d, size, where) in enumerate(disks)
    )
    return f"<provision>{rows}</provision>"


def test_vm_provision_makes_the_templates_disks(xapi):
    """xapi_templates.ml: a VDI and a VBD per <disk>, the VDI named after the
    device; the spec removed and the VM no longer a template."""
    x = xapi.xenapi
    nfs_uuid = x.SR.get_uuid(sr(xapi, "NFS VM store"))
    new = x.VM.clone(vm(xapi, "Debian Bookworm 12"), "web-04")
    x.VM.add_to_other_config(new, "disks", provision_spec(("0", 8 * GiB, nfs_uuid)))
    x.VM.add_to_other_config(new, "postinstall", "/bin/true")
    x.VM.provision(new)
    rec = x.VM.get_record(new)
    assert not rec["is_a_template"]
    assert "disks" not in rec["other_config"] and "postinstall" not in rec["other_config"]
    (vbd,) = rec["VBDs"]
    b = x.VBD.get_record(vbd)
    assert (b["userdevice"], b["bootable"], b["mode"], b["type"]) == ("0", True, "RW", "Disk")
    assert b["other_config"] == {"owner": ""} and not b["unpluggable"]
    d = x.VDI.get_record(b["VDI"])
    assert (d["name_label"], d["virtual_size"], d["type"]) == ("0", str(8 * GiB), "system")
    assert d["name_description"] == "Created by template provisioner"


def test_vm_provision_refusals_leave_the_vm_as_it_was(xapi):
    x = xapi.xenapi
    nfs_uuid = x.SR.get_uuid(sr(xapi, "NFS VM store"))
    full_uuid = x.SR.get_uuid(sr(xapi, "Local storage", "xcp-b"))
    new = x.VM.clone(vm(xapi, "Rocky Linux 9"), "rocky")
    vdis = set(x.VDI.get_all())
    for spec, error in (
        ("<provision><disk/></provision>", ["INTERNAL_ERROR", "Xapi_templates.Parse_failure"]),
        ("not xml", ["INTERNAL_ERROR", "Xapi_templates.Parse_failure"]),
        (provision_spec(("0", GiB, "no-such-sr")), ["UUID_INVALID", "sr", "no-such-sr"]),
        (
            provision_spec(("0", GiB, nfs_uuid), ("0", GiB, nfs_uuid)),
            ["DEVICE_ALREADY_EXISTS", "0"],
        ),
    ):
        x.VM.remove_from_other_config(new, "disks")
        x.VM.add_to_other_config(new, "disks", spec)
        assert fails(x.VM.provision, new) == error
        assert x.VM.get_is_a_template(new) and x.VM.get_VBDs(new) == []
        assert set(x.VDI.get_all()) == vdis
    x.VM.remove_from_other_config(new, "disks")
    x.VM.add_to_other_config(
        new, "disks", provision_spec(("0", GiB, nfs_uuid), ("1", 200 * GiB, full_uuid))
    )
    assert fails(x.VM.provision, new)[0] == "SR_BACKEND_FAILURE_44"
    assert x.VM.get_VBDs(new) == [] and set(x.VDI.get_all()) == vdis


def test_every_mac_of_the_demo_is_six_pairs():
    """An import's plan showed "its MACs (aa:00:000017)": the scenario's VIF
    MACs were not MACs at all."""
    import re

    from xstui.sim.scenario import build, load_scenario

    store = build(load_scenario("demo"))
    macs = [r["MAC"] for cls in ("VIF", "PIF") for r in store.table(cls).values()]
    assert macs and all(re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", m) for m in macs), macs
