"""SR.*: probing an NFS server (the storage manager's answers and failures,
``SR_BACKEND_FAILURE_<n>`` as XE_SR_ERRORCODES numbers them), creating an
NFS SR plugged on every host, forgetting and destroying one (its PBDs
unplugged first: SR_HAS_PBD), and rescans."""

from __future__ import annotations

from ..api import Ctx, message
from ..errors import XapiError
from ..store import now_xdate

CLASS = "SR"
GiB = 1 << 30
NEW_EXPORT_BYTES = 4096 * GiB  # what a fresh export offers


def backend_failure(number: int, text: str, extra: str = "") -> XapiError:
    """The storage manager's failure, as XAPI passes it on."""
    return XapiError(f"SR_BACKEND_FAILURE_{number}", "", text, extra)


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


def _existing(ctx: Ctx, server: str, path: str) -> list[dict]:
    """The SRs this pool knows at that export."""
    out, path = {}, path.rstrip("/")
    for pbd in ctx.store.table("PBD").values():
        cfg = pbd["device_config"]
        nfs = cfg.get("server") == server and cfg.get("serverpath", "").rstrip("/") == path
        iso = cfg.get("location", "").rstrip("/") == f"{server}:{path}"
        if nfs or iso:
            out[pbd["SR"]] = ctx.store.get("SR", pbd["SR"])
    return list(out.values())


@message(asyncable=False)
def probe(ctx: Ctx, host, device_config, type, sm_config):  # noqa: A002 (the API's name)
    """NFS only: the export list (as SR_BACKEND_FAILURE_101, like the real
    storage manager) without a path; with one, the SRs already there (XML)."""
    if type != "nfs":
        raise XapiError("NOT_IMPLEMENTED", f"SR.probe of type {type} (the simulator probes NFS)")
    server, path = _nfs_target(ctx, dict(device_config))
    found = {sr["uuid"] for sr in _existing(ctx, server, path)}
    items = "".join(f"<SR><UUID>{u}</UUID></SR>" for u in sorted(found))
    return f'<?xml version="1.0" ?><SRlist>{items}</SRlist>'


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
    """An NFS SR at a new export path: its record and a PBD plugged on every
    host (it is shared). Another type is NOT_IMPLEMENTED here."""
    if type != "nfs":
        raise XapiError("NOT_IMPLEMENTED", f"SR.create of type {type} (the simulator creates NFS)")
    st = ctx.store
    config = {str(k): str(v) for k, v in dict(device_config).items()}
    _nfs_target(ctx, config)  # each NFS SR is a folder of its own on the export
    if not str(name_label).strip():
        raise XapiError("INVALID_VALUE", "name_label", str(name_label))
    ctx.work(1.0, progress=0.5)
    sr = st.create(
        "SR",
        {
            "name_label": str(name_label),
            "name_description": str(name_description),
            "type": "nfs",
            "content_type": str(content_type or "user"),
            "shared": True,
            "physical_size": NEW_EXPORT_BYTES,
            "physical_utilisation": 0,
            "sm_config": {"allocation": "thin", **{str(k): str(v) for k, v in sm_config.items()}},
            "other_config": {},
            "introduced_by": "OpaqueRef:NULL",
        },
    )
    for h in st.table("host"):
        st.create(
            "PBD",
            {"host": h, "SR": sr, "device_config": config, "currently_attached": True},
        )
    st.set("SR", sr, other_config={"created": str(now_xdate())})
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
    """The pool forgets the SR (its data stays on the storage)."""
    _refuse_attached(ctx, sr)
    _remove(ctx, sr)
    return ""


@message()
def destroy(ctx: Ctx, sr):
    """The SR and every disk on it are deleted from the storage."""
    _refuse_attached(ctx, sr)
    ctx.work(0.5)
    _remove(ctx, sr)
    return ""


@message()
def scan(ctx: Ctx, sr):
    """The simulator's SRs hold no disks it does not know of: a scan finds
    nothing new; it takes its time and needs the SR attached somewhere."""
    rec = ctx.store.get("SR", sr)
    if not any(ctx.store.get("PBD", p)["currently_attached"] for p in rec["PBDs"]):
        raise XapiError("SR_HAS_NO_PBDS", sr)
    ctx.work(0.2)
    return ""
