"""Wire facts of XAPI the simulator keeps, each from xen-api's source."""

import pytest
import XenAPI

from tests.waiting import wait_for


def test_event_from_counts_every_table_and_sends_strings(xapi):
    """ocaml/xapi/xapi_event.ml: event.from's valid_ref_counts fold the whole
    tableset (whatever classes were asked for), its events' id and timestamp
    are strings ("0.0" for event.from)."""
    x = xapi.xenapi
    batch = x.event_from(["host"], "", 1.0)
    counts = batch["valid_ref_counts"]
    assert counts["host"] == 3 and counts["vm"] == len(x.VM.get_all())
    assert "sr" in counts and "cluster" in counts  # not asked for, counted all the same
    assert batch["events"] and all(
        isinstance(e["id"], str) and e["timestamp"] == "0.0" for e in batch["events"]
    )
    assert x.event_from(["*"], "", 1.0)["valid_ref_counts"] == counts


def test_allowed_vif_devices_skip_the_used_ones(xapi):
    """ocaml/xapi/xapi_vm_helpers.ml allowed_VIF_devices: the VIF's own field
    is "device" (it raised KeyError 'userdevice' on any VM with VIFs)."""
    x = xapi.xenapi
    vm = next(
        ref
        for ref, rec in x.VM.get_all_records().items()
        if rec["VIFs"] and not rec["is_a_template"] and not rec["is_control_domain"]
    )
    used = {x.VIF.get_device(v) for v in x.VM.get_VIFs(vm)}
    free = x.VM.get_allowed_VIF_devices(vm)
    assert free and not used & set(free)
    assert set(free) | used == {str(n) for n in range(7)}


def test_explicit_field_messages_change_their_field(xapi):
    """SR/VDI.set_name_label and set_name_description, VM.add_to_other_config
    and remove_from_other_config are explicit in the datamodel (the fields are
    RO for the implicit setters) and answered NOT_IMPLEMENTED; what they do to
    the record is the implicit setters' (ocaml/xapi/xapi_sr.ml set_name_label:
    the SM is told, then the field set)."""
    x = xapi.xenapi
    sr = x.SR.get_all()[0]
    x.SR.set_name_label(sr, "renamed")
    x.SR.set_name_description(sr, "a new description")
    assert (x.SR.get_name_label(sr), x.SR.get_name_description(sr)) == (
        "renamed",
        "a new description",
    )
    vdi = x.VDI.get_all()[0]
    task = x.Async.VDI.set_name_label(vdi, "disk renamed")
    wait_for(lambda: x.task.get_status(task) != "pending", what="the task")
    assert x.VDI.get_name_label(vdi) == "disk renamed"
    vm = next(r for r, v in x.VM.get_all_records().items() if not v["is_control_domain"])
    x.VM.add_to_other_config(vm, "xstui-test", "1")
    assert x.VM.get_other_config(vm)["xstui-test"] == "1"
    with pytest.raises(XenAPI.Failure) as err:
        x.VM.add_to_other_config(vm, "xstui-test", "2")
    assert err.value.details[0] == "MAP_DUPLICATE_KEY"
    x.VM.remove_from_other_config(vm, "xstui-test")
    assert "xstui-test" not in x.VM.get_other_config(vm)
    with pytest.raises(XenAPI.Failure) as err:  # a setter XAPI checks more: not faked
        x.VM.set_memory_static_max(vm, "1")
    assert err.value.details[0] == "NOT_IMPLEMENTED"


def test_a_replugged_pif_takes_its_networks_mtu(xapi):
    """ocaml/xapi/nm.ml determine_mtu: a PIF comes up with its network's MTU,
    unless its other_config says mtu (an invalid value is ignored)."""
    x = xapi.xenapi
    pif = next(
        ref
        for ref, rec in x.PIF.get_all_records().items()
        if not rec["management"]
        and rec["bond_slave_of"] == "OpaqueRef:NULL"
        and rec["MTU"] == "1500"
    )
    network = x.PIF.get_network(pif)
    x.network.set_MTU(network, "9000")
    assert x.PIF.get_MTU(pif) != "9000"  # not before it is plugged again
    x.PIF.plug(pif)
    assert x.PIF.get_MTU(pif) == "9000"
    x.PIF.add_to_other_config(pif, "mtu", "1400")
    x.PIF.plug(pif)
    assert x.PIF.get_MTU(pif) == "1400"
    x.PIF.remove_from_other_config(pif, "mtu")
    x.PIF.add_to_other_config(pif, "mtu", "jumbo")
    x.PIF.plug(pif)
    assert x.PIF.get_MTU(pif) == "9000"


def test_storage_managers_and_host_capabilities(xapi):
    """An SM record for each SR type the simulator serves (Xapi_sm, from the
    drivers in /opt/xensource/sm), SR.get_supported_types from them; a host's
    capabilities are what its Xen offers guests."""
    x = xapi.xenapi
    sms = x.SM.get_all_records().values()
    types = sorted(sm["type"] for sm in sms)
    assert x.SR.get_supported_types() == types
    assert {"nfs", "lvmoiscsi", "lvm", "iso"} <= set(types)
    served = {sr["type"] for sr in x.SR.get_all_records().values()}
    assert served <= set(types)
    nfs = next(sm for sm in sms if sm["type"] == "nfs")
    assert nfs["features"]["VDI_RESET_ON_BOOT"] == "2" and "VDI_SNAPSHOT" in nfs["capabilities"]
    assert "hvm-3.0-x86_64" in x.host.get_capabilities(x.host.get_all()[0])


def test_a_real_dumps_pool_name_is_read(tmp_path):
    """The pool table's column is name_label (the real dumps show it): the
    restore's comparison named the pool "" for every real database."""
    from tests.conftest import shared_path
    from xstui.services import backup as bk

    summary = bk.summarize(shared_path("dumps", "boston-db.xml"))
    assert summary.pool == "New Pool"
