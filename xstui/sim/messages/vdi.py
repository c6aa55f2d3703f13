"""VDI.*: disks on SRs: creating, destroying, resizing, copying, cloning and
snapshotting them, with the checks XAPI and its storage managers make
inside each message (xapi_vdi.ml, sm.ml, storage_smapiv1.ml). The checks of
the VDI's allowed operations, the SM capabilities among them, are the
dispatcher's. Space: an SR without thin provisioning allocates a disk's
whole size at once and refuses what does not fit."""

from __future__ import annotations

import uuid as uuidlib

from ..api import Ctx, message
from ..errors import XapiError
from ..schema import NULL_REF
from ..store import now_xdate
from .sr import backend_failure

CLASS = "VDI"


def sm_capabilities(ctx: Ctx, sr: str) -> list[str]:
    """What the storage manager of the SR's type can do (its SM record)."""
    st = ctx.store
    kind = st.get("SR", sr)["type"]
    return next((r["capabilities"] for r in st.table("SM").values() if r["type"] == kind), [])


def assert_sm_allows(ctx: Ctx, sr: str, capability: str) -> None:
    """An operation on the SR its storage manager lacks (Xapi_sr_operations)."""
    if capability not in sm_capabilities(ctx, sr):
        raise XapiError("SR_OPERATION_NOT_SUPPORTED", sr)


def assert_plugged(ctx: Ctx, sr: str) -> None:
    """``Sm.assert_pbd_is_plugged``: the SR is plugged on a host that can act."""
    st = ctx.store
    if not any(
        st.exists("PBD", p) and st.get("PBD", p)["currently_attached"]
        for p in st.get("SR", sr)["PBDs"]
    ):
        raise XapiError("SR_HAS_NO_PBDS", sr)


def assert_managed(ctx: Ctx, vdi: str) -> None:
    """``Xapi_vdi_helpers.assert_managed``."""
    if not ctx.store.get("VDI", vdi)["managed"]:
        raise XapiError("VDI_NOT_MANAGED", vdi)


def _allocate(ctx: Ctx, sr: str, size: int, *, whole: bool = True) -> None:
    """``size`` more (or, negative, fewer) bytes of disks on the SR; a thick
    SR takes them from its free space (``whole``: a full disk, not a clone)."""
    st = ctx.store
    rec = st.get("SR", sr)
    thick = "THIN_PROVISIONING" not in sm_capabilities(ctx, sr)
    used = rec["physical_utilisation"]
    if thick and whole:
        if size > 0 and used + size > rec["physical_size"]:
            raise backend_failure(44, "There is insufficient space")
        used = max(0, used + size)
    st.set(
        "SR",
        sr,
        physical_utilisation=used,
        virtual_allocation=max(0, rec["virtual_allocation"] + size),
    )


def new_vdi(ctx: Ctx, sr: str, fields: dict) -> str:
    """A new disk on a plugged SR, the storage manager's way (``Xapi_vdi.create``)."""
    assert_plugged(ctx, sr)
    size = int(fields.get("virtual_size", 0))
    _allocate(ctx, sr, size)
    thick = "THIN_PROVISIONING" not in sm_capabilities(ctx, sr)
    fields = {"physical_utilisation": size if thick else 0, "managed": True, **fields}
    return ctx.store.create("VDI", {**fields, "SR": sr, "virtual_size": size})


def forget(ctx: Ctx, vdi: str) -> None:
    """The disk gone from its SR, with the VBDs pointing at it."""
    st = ctx.store
    rec = st.get("VDI", vdi)
    for vbd in list(rec["VBDs"]):
        if st.exists("VBD", vbd):
            st.destroy("VBD", vbd)
    st.destroy("VDI", vdi)
    if st.exists("SR", rec["SR"]):  # a snapshot took no space of its own
        _allocate(ctx, rec["SR"], -rec["virtual_size"], whole=not rec["is_a_snapshot"])


@message()
def destroy(ctx: Ctx, self):
    """Refused while a running VM uses it (VDI_IN_USE); detached VBDs of
    halted VMs go with it, as in XAPI."""
    st = ctx.store
    rec = st.get("VDI", self)
    for vbd in list(rec["VBDs"]):
        if st.get("VBD", vbd)["currently_attached"]:
            raise XapiError("VDI_IN_USE", self, "destroy")
    forget(ctx, self)
    return ""


@message()
def create(ctx: Ctx, args):
    """A new, empty disk on an SR (what xe-backup-metadata -c makes)."""
    st = ctx.store
    record = dict(args or {})
    sr = str(record.get("SR", ""))
    if not st.exists("SR", sr):
        raise XapiError("HANDLE_INVALID", "SR", sr)
    size = int(record.get("virtual_size", 0))
    if size <= 0:
        raise XapiError("INVALID_VALUE", "virtual_size", str(size))
    if record.get("type") == "cbt_metadata":
        raise XapiError("VDI_INCOMPATIBLE_TYPE", "", "cbt_metadata")
    return new_vdi(
        ctx,
        sr,
        {
            "name_label": str(record.get("name_label", "")),
            "name_description": str(record.get("name_description", "")),
            "virtual_size": size,
            "type": str(record.get("type", "user")),
            "sharable": bool(record.get("sharable", False)),
            "read_only": bool(record.get("read_only", False)),
            "other_config": {str(k): str(v) for k, v in (record.get("other_config") or {}).items()},
            "sm_config": {str(k): str(v) for k, v in (record.get("sm_config") or {}).items()},
            "tags": [str(t) for t in record.get("tags") or []],
        },
    )


@message()
def resize(ctx: Ctx, vdi, size):
    """A bigger disk; the storage managers refuse to shrink one (VDISize)."""
    st = ctx.store
    rec = st.get("VDI", vdi)
    assert_plugged(ctx, rec["SR"])
    assert_managed(ctx, vdi)
    size = int(size)
    if size < rec["virtual_size"]:
        raise backend_failure(79, "VDI Invalid size", opterr="shrinking not allowed")
    if size == rec["virtual_size"]:
        return ""
    _allocate(ctx, rec["SR"], size - rec["virtual_size"])
    ctx.work(0.2, progress=0.5)
    thick = "THIN_PROVISIONING" not in sm_capabilities(ctx, rec["SR"])
    used = {"physical_utilisation": size} if thick else {}
    st.set("VDI", vdi, virtual_size=size, **used)
    return ""


@message()
def resize_online(ctx: Ctx, vdi, size):
    """The storage path of ``resize`` (xapi_vdi.ml): what differs, a VDI
    attached to a running VM, is for the allowed operations."""
    return resize(ctx, vdi, size)


# fields a clone or snapshot takes over from its disk (Xapi_vdi.snapshot_and_clone)
_KEPT = (
    "name_label",
    "name_description",
    "type",
    "sharable",
    "read_only",
    "other_config",
    "xenstore_data",
    "on_boot",
    "allow_caching",
    "tags",
    "virtual_size",
    "physical_utilisation",
)


def snapshot_or_clone(ctx: Ctx, vdi: str, *, snapshot: bool) -> str:
    st = ctx.store
    rec = st.get("VDI", vdi)
    assert_plugged(ctx, rec["SR"])
    assert_managed(ctx, vdi)
    ctx.work(0.2, progress=0.5)
    # content_id says "same bytes": kept from the disk, or new (storage_smapiv1.ml)
    content = rec["other_config"].get("content_id") or str(
        uuidlib.UUID(int=st.rng.getrandbits(128))
    )
    _allocate(ctx, rec["SR"], rec["virtual_size"], whole=False)
    return st.create(
        "VDI",
        {
            **{k: rec[k] for k in _KEPT},
            "SR": rec["SR"],
            "managed": True,
            "other_config": {**rec["other_config"], "content_id": content},
            "is_a_snapshot": snapshot,
            "snapshot_of": vdi if snapshot else NULL_REF,
            "snapshot_time": now_xdate(),
        },
    )


@message()
def snapshot(ctx: Ctx, vdi, driver_params):
    """A read-only point in time of the disk, on its SR."""
    return snapshot_or_clone(ctx, vdi, snapshot=True)


@message()
def clone(ctx: Ctx, vdi, driver_params):
    """A new disk sharing the disk's content, on its SR."""
    return snapshot_or_clone(ctx, vdi, snapshot=False)


@message()
def copy(ctx: Ctx, vdi, sr, base_vdi=NULL_REF, into_vdi=NULL_REF):
    """The disk's content into ``into_vdi``, or into a new disk on ``sr``
    (``Xapi_vdi.copy``); a disk this made goes again if the copy fails.
    (Releases before base_vdi and into_vdi call it with three parameters.)"""
    st = ctx.store
    assert_managed(ctx, vdi)
    src = st.get("VDI", vdi)
    made = None
    if st.exists("VDI", into_vdi):
        dst = into_vdi
    else:
        st.get("SR", sr)  # the nested VDI.create's own handle check
        assert_sm_allows(ctx, sr, "VDI_CREATE")
        dst = made = new_vdi(
            ctx,
            sr,
            {
                **{k: src[k] for k in _KEPT if k not in ("read_only", "physical_utilisation")},
                "read_only": False,  # CA-64962: a copy of a read-only disk is writable
            },
        )
    try:
        target = st.get("VDI", dst)
        if target["read_only"]:
            raise XapiError("VDI_READONLY", dst)
        if target["virtual_size"] < src["virtual_size"]:
            raise XapiError("VDI_TOO_SMALL", dst, src["virtual_size"])
        ctx.work(0.5, progress=0.5)
        if "THIN_PROVISIONING" in sm_capabilities(ctx, target["SR"]):
            st.set("VDI", dst, physical_utilisation=src["physical_utilisation"])
    except XapiError:
        if made and st.exists("VDI", made):
            forget(ctx, made)
        raise
    return dst


@message()
def open_database(ctx: Ctx, self):
    """A session reading the database on a metadata VDI (another pool's,
    for disaster recovery: sim/dr.py), with the caller's permissions; its
    calls see that pool's records, VM.recover brings them into this one."""
    st = ctx.sim.store
    rec = st.get("VDI", self)
    if rec["type"] != "metadata":
        raise XapiError("VDI_INCOMPATIBLE_TYPE", self, "metadata")
    assert_plugged(ctx, rec["SR"])
    db = st.databases.get(rec["uuid"])
    if db is None:
        raise XapiError("INTERNAL_ERROR", f"no database found on the VDI {rec['uuid']}")
    caller = st.get("session", ctx.session)
    session = st.create(
        "session",
        {
            **{k: caller[k] for k in ("auth_user_name", "is_local_superuser", "rbac_permissions")},
            "this_host": caller["this_host"],
            "originator": "VDI.open_database",
        },
        ref=f"OpaqueRef:{uuidlib.uuid4()}",
    )
    ctx.sim.foreign_sessions[session] = db
    return session


@message()
def read_database_pool_uuid(ctx: Ctx, self):
    """The uuid of the pool whose database the VDI holds ("" when none)."""
    db = ctx.store.databases.get(ctx.store.get("VDI", self)["uuid"])
    return next(iter(db.table("pool").values()))["uuid"] if db is not None else ""
