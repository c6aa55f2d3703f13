"""host: enable/disable, the clock, the management interface and the hostname."""

from __future__ import annotations

from ..api import Ctx, message
from ..errors import XapiError
from ..store import now_xdate
from ._net import HOSTNAME_RE, ha_enabled, move_address

CLASS = "host"


@message()
def disable(ctx: Ctx, host, auto_enable=True):
    # auto_enable (newer XAPI): whether the host re-enables itself after a toolstack restart
    ctx.store.get("host", host)
    ctx.store.set("host", host, enabled=False)
    return ""


@message()
def enable(ctx: Ctx, host):
    h = ctx.store.get("host", host)
    metrics = ctx.store.table("host_metrics").get(h["metrics"], {})
    if not metrics.get("live", True):
        raise XapiError("HOST_OFFLINE", host)
    ctx.store.set("host", host, enabled=True)
    return ""


@message(asyncable=False)
def get_servertime(ctx: Ctx, host):
    ctx.store.get("host", host)
    return now_xdate()


@message(asyncable=False)
def get_server_localtime(ctx: Ctx, host):
    ctx.store.get("host", host)
    return now_xdate()


@message()
def management_reconfigure(ctx: Ctx, pif):
    st = ctx.store
    rec = st.get("PIF", pif)
    if ha_enabled(ctx):
        raise XapiError("HA_IS_ENABLED")
    if rec["ip_configuration_mode"] == "None" or not rec["IP"]:
        raise XapiError("PIF_HAS_NO_NETWORK_CONFIGURATION", pif)
    host = rec["host"]
    ctx.work(0.3, progress=0.5)
    for ref, other in st.table("PIF").items():
        if other["host"] == host and other["management"] and ref != pif:
            st.set("PIF", ref, management=False)
    st.set("PIF", pif, management=True, disallow_unplug=True)
    if st.get("host", host)["address"] != rec["IP"]:
        move_address(ctx, host, rec["IP"])
    return ""


@message()
def management_disable(ctx: Ctx):
    st = ctx.store
    if ha_enabled(ctx):
        raise XapiError("HA_IS_ENABLED")
    host = ctx.sim.master  # the host this session is on
    for ref, pif in st.table("PIF").items():
        if pif["host"] == host and pif["management"]:
            st.set("PIF", ref, management=False)
    return ""


@message()
def set_hostname_live(ctx: Ctx, host, hostname):
    ctx.store.get("host", host)
    name = str(hostname)
    if not name:
        raise XapiError("HOST_NAME_INVALID", "hostname is empty")
    if len(name) > 255 or not HOSTNAME_RE.match(name):
        raise XapiError("HOST_NAME_INVALID", "hostname contains invalid characters")
    ctx.store.set("host", host, hostname=name)
    return ""
