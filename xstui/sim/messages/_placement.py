"""Where a VM may run: the checks XAPI makes before a start, a resume, a
migration or an evacuation (host live and enabled, the VM's SRs plugged on
the host, free memory), and the evacuation plan built from them."""

from __future__ import annotations

from .. import consoles
from ..api import Ctx
from ..errors import XapiError
from ..schema import NULL_REF


def live(ctx: Ctx, host: str) -> bool:
    st = ctx.store
    metrics = st.table("host_metrics").get(st.get("host", host)["metrics"], {})
    return bool(metrics.get("live", True)) and host not in ctx.sim.down


def require_live(ctx: Ctx, host: str) -> None:
    """Calls that the host itself must carry out fail while it is away."""
    if not live(ctx, host):
        raise XapiError("HOST_OFFLINE", host)


def free_memory(ctx: Ctx, host: str) -> int:
    st = ctx.store
    return int(
        st.table("host_metrics").get(st.get("host", host)["metrics"], {}).get("memory_free", 0)
    )


def claim(ctx: Ctx, host: str, amount: int) -> None:
    """Take (or, negative, give back) ``amount`` bytes of the host's free memory."""
    st = ctx.store
    metrics = st.get("host", host)["metrics"]
    if st.exists("host_metrics", metrics):
        st.set("host_metrics", metrics, memory_free=max(0, free_memory(ctx, host) - amount))


def srs_of(ctx: Ctx, vm: str) -> list[str]:
    st = ctx.store
    out = []
    for vbd in st.get("VM", vm)["VBDs"]:
        rec = st.table("VBD").get(vbd)
        if rec and rec["type"] == "Disk" and st.exists("VDI", rec["VDI"]):
            sr = st.get("VDI", rec["VDI"])["SR"]
            if sr not in out:
                out.append(sr)
    return out


def sees(ctx: Ctx, host: str, sr: str) -> bool:
    st = ctx.store
    return any(
        st.get("PBD", pbd)["host"] == host and st.get("PBD", pbd)["currently_attached"]
        for pbd in st.get("SR", sr)["PBDs"]
        if st.exists("PBD", pbd)
    )


def boot_check(ctx: Ctx, vm: str, host: str, *, memory: bool = True) -> None:
    """``VM.assert_can_boot_here``: raises what XAPI raises."""
    st = ctx.store
    if not live(ctx, host):
        raise XapiError("HOST_OFFLINE", host)
    if not st.get("host", host)["enabled"]:
        raise XapiError("HOST_DISABLED", host)
    for sr in srs_of(ctx, vm):
        if not sees(ctx, host, sr):
            raise XapiError("VM_REQUIRES_SR", vm, sr)
    needed = st.get("VM", vm)["memory_static_max"]
    if memory and st.get("VM", vm)["resident_on"] != host and free_memory(ctx, host) < needed:
        raise XapiError("HOST_NOT_ENOUGH_FREE_MEMORY", needed, free_memory(ctx, host))


def resident_guests(ctx: Ctx, host: str) -> list[str]:
    """The running or paused VMs on a host, dom0 excepted, biggest first."""
    st = ctx.store
    vms = [
        ref
        for ref in st.get("host", host)["resident_VMs"]
        if st.exists("VM", ref)
        and not st.get("VM", ref)["is_control_domain"]
        and st.get("VM", ref)["power_state"] in ("Running", "Paused")
    ]
    return sorted(vms, key=lambda v: -st.get("VM", v)["memory_static_max"])


def evacuation_plan(ctx: Ctx, host: str) -> dict[str, str | list[str]]:
    """VM -> the host it moves to, or the error (code and parameters) that
    keeps it: XAPI's plan, biggest VMs placed first on the host with the
    most memory left."""
    st = ctx.store
    others = [h for h in st.table("host") if h != host]
    room = {h: free_memory(ctx, h) for h in others}
    plan: dict[str, str | list[str]] = {}
    for vm in resident_guests(ctx, host):
        needed = st.get("VM", vm)["memory_static_max"]
        error: list[str] | None = None
        fits = []
        for target in others:
            try:
                boot_check(ctx, vm, target, memory=False)
            except XapiError as err:
                error = error or err.description
                continue
            fits.append(target)
        if not fits:
            plan[vm] = error or ["NO_HOSTS_AVAILABLE"]
            continue
        best = max(fits, key=lambda h: room[h])
        if room[best] < needed:
            plan[vm] = ["HOST_NOT_ENOUGH_FREE_MEMORY", str(needed), str(room[best])]
            continue
        room[best] -= needed
        plan[vm] = best
    return plan


def move(ctx: Ctx, vm: str, target: str) -> None:
    """A live migration's effect: memory and consoles follow the VM to ``target``."""
    st = ctx.store
    rec = st.get("VM", vm)
    source = rec["resident_on"]
    if source == target:
        return
    if source != NULL_REF and st.exists("host", source):
        claim(ctx, source, -rec["memory_static_max"])
    claim(ctx, target, rec["memory_static_max"])
    st.set("VM", vm, resident_on=target)
    consoles.sync(st, vm)  # its consoles are now at the target's address
