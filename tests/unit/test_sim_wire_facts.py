"""Wire facts of XAPI the simulator keeps, each from xen-api's source."""


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
