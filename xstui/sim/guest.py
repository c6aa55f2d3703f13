"""What a guest's agent (the guest tools) reports once its VM runs: its OS,
its drivers and its addresses (VM_guest_metrics). XAPI keeps the record
when the VM halts (xapi_vm_lifecycle.ml, force_state_reset) and the agent
updates it at the next boot."""

from __future__ import annotations

from .store import Store, now_xdate

DEBIAN = {"name": "Debian GNU/Linux 12", "distro": "debian", "major": "12"}


def address(index: int) -> dict[str, str]:
    """The guest's addresses: on loopback, like every address of a scenario."""
    ip = f"127.30.{index // 250}.{index % 250 + 1}"
    return {"0/ip": ip, "0/ipv4/0": ip}


def report(st: Store, when=None) -> str:
    """A new VM_guest_metrics of a guest with up-to-date tools."""
    return st.create(
        "VM_guest_metrics",
        {
            "os_version": dict(DEBIAN),
            "PV_drivers_detected": True,
            "PV_drivers_up_to_date": True,
            "PV_drivers_version": {"major": "8", "minor": "2"},
            "networks": address(len(st.table("VM_guest_metrics"))),
            "last_updated": when if when is not None else now_xdate(),
            "live": True,
        },
    )
