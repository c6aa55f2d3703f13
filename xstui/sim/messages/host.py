"""host: enable/disable, evacuation, reboot and shutdown, the toolstack, the
clock and NTP, SSH, remote syslog, the management interface and the hostname."""

from __future__ import annotations

import functools
import hashlib
import zoneinfo

from ... import clock
from .. import rrd
from ..api import Ctx, message
from ..errors import XapiError
from ..operations import Mark
from ..schema import NULL_REF
from ..store import now_xdate
from . import _placement as place
from ._net import HOSTNAME_RE, ha_enabled, move_address

CLASS = "host"

SSH_TIMEOUT_MAX = 172800  # seconds (two days), XAPI's bound
MIGRATE_SECONDS = 0.4  # per VM, scaled by Simulator.time_scale


@message()
def disable(ctx: Ctx, host, auto_enable=True):
    # auto_enable (newer XAPI): whether the host enables itself again when its toolstack starts
    ctx.store.get("host", host)
    ctx.store.set("host", host, enabled=False)
    if auto_enable in (False, "false"):
        ctx.sim.stay_disabled.add(host)
    return ""


@message()
def enable(ctx: Ctx, host):
    place.require_live(ctx, host)
    ctx.store.set("host", host, enabled=True)
    ctx.sim.stay_disabled.discard(host)
    return ""


# evacuation -------------------------------------------------------------------
@message(asyncable=False)
def get_vms_which_prevent_evacuation(ctx: Ctx, self):
    plan = place.evacuation_plan(ctx, self)
    return {vm: target for vm, target in plan.items() if isinstance(target, list)}


@message()
def assert_can_evacuate(ctx: Ctx, host):
    errors = [
        ",".join(target)
        for target in place.evacuation_plan(ctx, host).values()
        if isinstance(target, list)
    ]
    if errors:
        # XAPI's "Miami style" encoding: code,params|code,params
        raise XapiError("CANNOT_EVACUATE_HOST", "|".join(errors))
    return ""


@message()
def evacuate(ctx: Ctx, host, network=NULL_REF, evacuate_batch_size=0):
    """Every running VM to another host, as the plan places them; the first VM
    that cannot move fails the call before any moves."""
    place.require_live(ctx, host)
    plan = place.evacuation_plan(ctx, host)
    for target in plan.values():
        if isinstance(target, list):
            raise XapiError(*target)
    for i, (vm, target) in enumerate(plan.items(), 1):
        with ctx.running(Mark("host", target, "vm_migrate")):  # as its VM.pool_migrate does
            ctx.work(MIGRATE_SECONDS, progress=(i - 0.5) / len(plan))
            place.move(ctx, vm, target)
    return ""


# power and toolstack ------------------------------------------------------------
def _assert_bacon_mode(ctx: Ctx, host: str) -> None:
    """XAPI's precondition for reboot and shutdown: disabled, no guests running."""
    if ctx.store.get("host", host)["enabled"]:
        raise XapiError("HOST_NOT_DISABLED")
    guests = place.resident_guests(ctx, host)
    if guests:
        raise XapiError("HOST_IN_USE", host, "vm", guests[0])


@message()
def reboot(ctx: Ctx, host):
    _assert_bacon_mode(ctx, host)
    place.require_live(ctx, host)
    ctx.sim.record("reboot", host)
    ctx.sim.go_down(host, seconds=ctx.sim.reboot_seconds, reboot=True)
    return ""


@message()
def shutdown(ctx: Ctx, host):
    _assert_bacon_mode(ctx, host)
    place.require_live(ctx, host)
    ctx.sim.go_down(host, seconds=None, reboot=True)
    return ""


@message()
def call_plugin(ctx: Ctx, host, plugin, fn, args):
    """dom0 plugins: XCP-ng's updater.py where the scenario has yum updates,
    and XCP-ng's lsblk.py (the host's block devices)."""
    from ._updates import updater_plugin
    from .sr import lsblk_plugin

    if plugin == "updater.py" and ctx.store.yum_updates is not None:
        return updater_plugin(ctx, host, str(fn), dict(args or {}))
    brand = ctx.store.get("host", host)["software_version"].get("product_brand", "")
    if plugin == "lsblk.py" and brand == "XCP-ng":
        return lsblk_plugin(ctx, host, str(fn))
    raise XapiError("XENAPI_MISSING_PLUGIN", plugin)


@message()
def apply_updates(ctx: Ctx, self, hash):  # noqa: A002  (the API's name)
    """XenServer 8: install what the synced repositories offer this host, as
    xapi_host.ml does inside the pool's apply_updates operation: not with HA
    on; the host disabled first (it enables itself again when its toolstack
    starts), then the host's own apply_updates operation while it installs."""
    from ._updates import apply_repository_updates

    if ha_enabled(ctx):
        raise XapiError("HA_IS_ENABLED")
    ctx.store.set("host", self, enabled=False)
    with ctx.running(Mark("host", self, "apply_updates")):
        return apply_repository_updates(ctx, self, hash)


@message()
def restart_agent(ctx: Ctx, host):
    place.require_live(ctx, host)
    ctx.sim.go_down(host, seconds=ctx.sim.agent_restart_seconds, reboot=False)
    return ""


@message()
def bugreport_upload(ctx: Ctx, host, url, options):
    """A server status report collected and sent to ``url`` (empty: the
    vendor's default upload address); recorded with the SHA-256 of what was sent."""
    from ..transfers import status_report

    place.require_live(ctx, host)
    for step in range(1, 5):
        ctx.work(0.3, progress=step / 5)
    sent = hashlib.sha256(status_report(ctx.sim, host)).hexdigest()
    ctx.sim.record("status report", host, f"{url} {sent}")
    return ""


@message(asyncable=False)
def get_servertime(ctx: Ctx, host):
    ctx.store.get("host", host)
    return now_xdate(clock.now() + ctx.sim.clock_skew.get(host, 0.0))


@message(asyncable=False)
def get_server_localtime(ctx: Ctx, host):
    ctx.store.get("host", host)
    return now_xdate(clock.now() + ctx.sim.clock_skew.get(host, 0.0))


@message(asyncable=False)
def emergency_ha_disable(ctx: Ctx, soft=False):
    """Run on a host whose HA is broken (statefile lost): HA is switched off
    on this host (and, not soft, for the pool as this host sees it)."""
    if not soft:
        ctx.store.set("pool", ctx.sim.pool, ha_enabled=False)
    return ""


# certificates -----------------------------------------------------------------
CERT_DAYS = 3650


@message()
def reset_server_certificate(ctx: Ctx, host):
    """A new self-signed certificate for the host (names: its address and
    hostname); its TLS listener serves it right after this call."""
    place.require_live(ctx, host)
    st, sim = ctx.store, ctx.sim
    rec = st.get("host", host)
    names = [rec["address"], rec["hostname"] or rec["name_label"]]
    if sim.on_certificate_reset is None:
        raise XapiError("INTERNAL_ERROR", "no TLS front end to reset")
    fingerprint = sim.on_certificate_reset(host, names)
    now = clock.now()
    _record_certificate(
        ctx, host, fingerprint, now_xdate(now - 300), now_xdate(now + CERT_DAYS * 86400)
    )
    return ""


@message()
def get_server_certificate(ctx: Ctx, host):
    """The certificate (PEM) the host's TLS front end serves: the one it
    serves when the simulator speaks HTTPS; on plain HTTP one made for the
    dates of the host's certificate record (the simulator keeps records
    even for a release whose API has no Certificate class), kept while that
    record is."""
    place.require_live(ctx, host)
    served = ctx.sim.served_certificate(host) if ctx.sim.served_certificate else None
    if served:
        return served.decode()
    st = ctx.store
    found = [st.get("Certificate", c) for c in st.find("Certificate", host=host, type="host")]
    if found:
        dates = (str(found[0]["not_before"]), str(found[0]["not_after"]))
        key = (host, *dates, found[0]["fingerprint_sha256"])
    else:  # a pool loaded from a dump of an older release: made on first call
        key = (host,)
        now = clock.now()
        dates = (now_xdate(now - 300), now_xdate(now + CERT_DAYS * 86400))
    if key not in ctx.sim.made_certificates:
        rec = st.get("host", host)
        names = [rec["address"], rec["hostname"] or rec["name_label"]]
        ctx.sim.made_certificates[key] = _made_certificate(names, *dates)
    return ctx.sim.made_certificates[key]


def _made_certificate(names: list[str], not_before: str, not_after: str) -> str:
    """A self-signed certificate (PEM) for ``names`` valid between these XAPI dates."""
    import datetime

    from ...xapi.tls import self_signed

    def when(text: str) -> datetime.datetime:
        return datetime.datetime.strptime(text, "%Y%m%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc
        )

    valid = (when(not_before), when(not_after))
    return self_signed(names[0], names, valid=valid)[1].decode()


def _record_certificate(ctx: Ctx, host: str, fingerprint: str, not_before, not_after) -> None:
    st = ctx.store
    for ref, cert in list(st.table("Certificate").items()):
        if cert["host"] == host and cert["type"] == "host":
            st.destroy("Certificate", ref)
    st.create(
        "Certificate",
        {
            "type": "host",
            "host": host,
            "not_before": not_before,
            "not_after": not_after,
            "fingerprint": fingerprint,
            "fingerprint_sha256": fingerprint,
        },
    )


def _key_algorithm(key) -> str:
    """How XAPI names a key it refuses: ocaml-x509's key type ("p256",
    "ed25519") for those it decodes, else the algorithm (an OID where the
    library knows no name)."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519

    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {
            "secp224r1": "p224",
            "secp256r1": "p256",
            "secp384r1": "p384",
            "secp521r1": "p521",
        }
        return curves.get(key.curve.name, key.curve.name)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    return "1.2.840.10040.4.1" if isinstance(key, dsa.DSAPrivateKey) else type(key).__name__


@message()
def install_server_certificate(ctx: Ctx, host, certificate, private_key, certificate_chain):
    """XAPI's checks, in its order: the certificate and key parse, the key is
    RSA of a supported length and matches, the dates hold, the chain parses."""
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    place.require_live(ctx, host)
    try:
        cert = x509.load_pem_x509_certificate(str(certificate).encode())
    except ValueError:
        raise XapiError("SERVER_CERTIFICATE_INVALID") from None
    try:
        key = serialization.load_pem_private_key(str(private_key).encode(), None)
    except (ValueError, TypeError):
        raise XapiError("SERVER_CERTIFICATE_KEY_INVALID") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise XapiError("SERVER_CERTIFICATE_KEY_ALGORITHM_NOT_SUPPORTED", _key_algorithm(key))
    if not 2048 <= key.key_size <= 4096:
        raise XapiError("SERVER_CERTIFICATE_KEY_RSA_LENGTH_NOT_SUPPORTED", key.key_size)
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        raise XapiError("SERVER_CERTIFICATE_KEY_MISMATCH")
    now = clock.utcnow()
    if now < cert.not_valid_before_utc:
        raise XapiError("SERVER_CERTIFICATE_NOT_VALID_YET", now_xdate(), cert.not_valid_before_utc)
    if now > cert.not_valid_after_utc:
        raise XapiError("SERVER_CERTIFICATE_EXPIRED", now_xdate(), cert.not_valid_after_utc)
    chain = str(certificate_chain or "").encode()
    if chain.strip():
        try:
            x509.load_pem_x509_certificates(chain)
        except ValueError:
            raise XapiError("SERVER_CERTIFICATE_CHAIN_INVALID") from None
    der = cert.public_bytes(serialization.Encoding.DER)
    fingerprint = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    if ctx.sim.on_certificate_install is not None:
        ctx.sim.on_certificate_install(
            host, str(certificate).encode(), str(private_key).encode(), chain
        )
    _record_certificate(
        ctx,
        host,
        fingerprint,
        now_xdate(cert.not_valid_before_utc.timestamp()),
        now_xdate(cert.not_valid_after_utc.timestamp()),
    )
    return ""


# time ---------------------------------------------------------------------------
NTP_MODES = ("DHCP", "Custom", "Factory", "Disabled")
FACTORY_NTP = ["0.xenserver.pool.ntp.org", "1.xenserver.pool.ntp.org", "2.xenserver.pool.ntp.org"]


def ntp_servers(ctx: Ctx, rec: dict) -> list[str]:
    """The servers the host's chronyd is given in its NTP mode."""
    mode = rec["ntp_mode"]
    if mode == "Custom":
        return list(rec["ntp_custom_servers"])
    if mode == "Factory":
        return FACTORY_NTP
    if mode == "DHCP":
        return list(ctx.sim.dhcp_ntp_servers)
    return []


def _reachable(server: str) -> bool:
    # the simulated hosts live on loopback: only a loopback server answers them
    return server.startswith("127.") or server == "localhost"


@message(asyncable=False)
def get_ntp_servers_status(ctx: Ctx, self):
    rec = ctx.store.get("host", self)
    place.require_live(ctx, self)
    servers = ntp_servers(ctx, rec)
    reachable = [s for s in servers if _reachable(s)]
    status = {}
    for s in servers:
        if s not in reachable:
            status[s] = "unreachable"
        else:
            status[s] = "synced" if s == reachable[0] else "combined"
    return status


@message(asyncable=False)
def get_ntp_synchronized(ctx: Ctx, self):
    rec = ctx.store.get("host", self)
    place.require_live(ctx, self)
    return rec["ntp_mode"] != "Disabled" and any(_reachable(s) for s in ntp_servers(ctx, rec))


@message()
def set_ntp_mode(ctx: Ctx, self, value):
    rec = ctx.store.get("host", self)
    place.require_live(ctx, self)
    if value not in NTP_MODES:
        raise XapiError("INVALID_VALUE", "ntp_mode", value)
    if value == "Custom" and not rec["ntp_custom_servers"]:
        raise XapiError("INVALID_NTP_CONFIG", "Custom mode needs NTP servers: set them first")
    ctx.store.set("host", self, ntp_mode=value)
    return ""


@message()
def set_ntp_custom_servers(ctx: Ctx, self, value):
    rec = ctx.store.get("host", self)
    place.require_live(ctx, self)
    servers = [str(s).strip() for s in value]
    if rec["ntp_mode"] == "Custom" and not servers:
        raise XapiError("INVALID_NTP_CONFIG", "Custom mode needs at least one NTP server")
    for s in servers:
        if not s or len(s) > 255 or not HOSTNAME_RE.match(s):
            raise XapiError("INVALID_NTP_CONFIG", f"invalid NTP server {s!r}")
    ctx.store.set("host", self, ntp_custom_servers=servers)
    return ""


@functools.cache
def timezones() -> tuple[str, ...]:
    # the system's zone database is scanned once, not on every call
    names = zoneinfo.available_timezones()
    return tuple(sorted(names) or ("UTC", "Europe/London", "Europe/Paris", "America/New_York"))


@message(asyncable=False)
def list_timezones(ctx: Ctx, self):
    ctx.store.get("host", self)
    return list(timezones())


@message()
def set_timezone(ctx: Ctx, self, value):
    place.require_live(ctx, self)
    if value not in timezones():
        raise XapiError("INVALID_VALUE", "timezone", value)
    ctx.store.set("host", self, timezone=value)
    return ""


# access -------------------------------------------------------------------------
@message()
def enable_ssh(ctx: Ctx, self):
    place.require_live(ctx, self)
    ctx.store.set("host", self, ssh_enabled=True)
    return ""


@message()
def disable_ssh(ctx: Ctx, self):
    place.require_live(ctx, self)
    ctx.store.set("host", self, ssh_enabled=False)
    return ""


@message()
def set_ssh_enabled_timeout(ctx: Ctx, self, value):
    place.require_live(ctx, self)
    seconds = int(value)
    if not 0 <= seconds <= SSH_TIMEOUT_MAX:
        raise XapiError("INVALID_VALUE", "ssh_enabled_timeout", value)
    ctx.store.set("host", self, ssh_enabled_timeout=seconds)
    return ""


@message()
def syslog_reconfigure(ctx: Ctx, host):
    """Applies ``host.logging`` (``syslog_destination``) to the host's syslog."""
    place.require_live(ctx, host)
    ctx.work(0.1)
    return ""


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
        if host == ctx.sim.master:  # the members knew it by the old address
            lose_master(ctx)
    return ""


def lose_master(ctx: Ctx) -> None:
    """The master's address moved: its members cannot reach it and go into
    emergency mode (not live) until pool.recover_slaves."""
    sim, st = ctx.sim, ctx.store
    for member, rec in st.table("host").items():
        if member != sim.master and member not in sim.down:
            sim.lost_master.add(member)
            if st.exists("host_metrics", rec["metrics"]):
                st.set("host_metrics", rec["metrics"], live=False)


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


# performance data (the host's RRD, xstui.sim.rrd) ---------------------------------
@message(asyncable=False)
def query_data_source(ctx: Ctx, host, data_source):
    ctx.store.get("host", host)
    return rrd.query(rrd.host_rrd(ctx.sim, host), data_source)


@message(asyncable=False)
def get_data_sources(ctx: Ctx, host):
    ctx.store.get("host", host)
    return rrd.data_sources(rrd.host_rrd(ctx.sim, host))
