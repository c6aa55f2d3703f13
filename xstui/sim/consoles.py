"""A running domain's console records, as XAPI keeps them: xenopsd reports
a VNC console (rfb: qemu's for HVM guests, vncterm's otherwise) and, for PV
guests, a text one (vt100); XAPI makes a record for each as the domain
appears on a host and drops them when it goes or moves (xapi_xenops.ml,
update_vm "consoles"), at ``?uuid=<console>``. A control domain has both,
at ``?ref=<console>`` (create_misc.ml), where every location is once the
master has started (dbsync_master.ml, refresh_console_urls)."""

from __future__ import annotations

from .store import Store

LIVE = ("Running", "Paused")


def _protocols(rec: dict) -> list[str]:
    if rec["power_state"] not in LIVE:
        return []
    if rec["domain_type"] == "hvm" and not rec["is_control_domain"]:
        return ["rfb"]
    return ["rfb", "vt100"]


def _base(st: Store, host: str) -> str:
    address = st.get("host", host)["address"] if st.exists("host", host) else ""
    return f"https://{address}/console" if address else ""


def sync(st: Store, vm: str, *, by_ref: bool = False) -> None:
    """Make the VM's console records match its domain: one per protocol at
    its host's address while it runs or is paused, none otherwise; new ones
    located by ref (as after the master's start) or by uuid (a domain that
    has just appeared)."""
    rec = st.get("VM", vm)
    base = _base(st, rec["resident_on"])
    wanted = {(p, base) for p in _protocols(rec)} if base else set()
    kept = set()
    for console in list(rec["consoles"]):
        if not st.exists("console", console):
            continue
        c = st.get("console", console)
        key = (c["protocol"], c["location"].split("?", 1)[0])
        if key in wanted and key not in kept:
            kept.add(key)
        else:
            st.destroy("console", console)
    for protocol, url in sorted(wanted - kept):
        ref = st.create("console", {"protocol": protocol, "VM": vm})
        query = f"ref={ref}" if by_ref else f"uuid={st.get('console', ref)['uuid']}"
        st.set("console", ref, location=f"{url}?{query}")


def drop(st: Store, vm: str) -> None:
    """The VM's console records gone (before the VM record itself goes)."""
    for console in list(st.get("VM", vm)["consoles"]):
        if st.exists("console", console):
            st.destroy("console", console)
