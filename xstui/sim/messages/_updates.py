"""Hotfixes in the simulator, for the three generations of the API.

- 6.x ``pool_patch``/``host_patch``: a patch file is uploaded by ``PUT
  /pool_patch_upload``; applying creates the host's ``host_patch``.
- 7.x ``pool_update``: the file is written into a new VDI by ``PUT
  /import_raw_vdi``, then ``pool_update.introduce(vdi)`` reads it; applying
  adds the update to ``host.updates`` (and ``updates_requiring_reboot``).
- 8.x repositories: the pool syncs the updates its repository offers
  (``pool.sync_updates``), ``GET /updates`` lists what each host lacks, and
  ``host.apply_updates`` installs them, leaving ``pending_guidances``.

An update file here stands for the real ISO / .xsupdate: it starts with the
``<update .../>`` element of the real ``update.xml`` (name-label, version,
after-apply-guidance, installation-size, requires) followed by its payload.
The server streams it (never holding it in memory), keeping the header, the
size and the SHA-256 it computed."""

from __future__ import annotations

import hashlib
import re
import uuid as uuidlib
import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

from ... import clock
from ..errors import XapiError
from ..store import now_xdate
from . import _placement as place

HEADER_LIMIT = 64 * 1024  # the update element must be in the file's first bytes
CHUNK = 1 << 20
MiB = 1024 * 1024
_ELEMENT = re.compile(rb"<update\s[^>]*?/?>", re.S)


def update_header(
    name: str,
    *,
    version: str = "1.0",
    guidance: tuple[str, ...] = (),
    size: int = 20 * MiB,
    requires: tuple[str, ...] = (),
    description: str = "",
    uuid: str = "",
) -> bytes:
    """The ``<update .../>`` element an update file starts with."""
    attrs = {
        "name-label": name,
        "name-description": description or f"Hotfix {name}",
        "uuid": uuid or str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, "xstui-update:" + name)),
        "version": version,
        "installation-size": str(size),
        "after-apply-guidance": " ".join(guidance),
        "requires": " ".join(requires),
    }
    body = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
    return f"<?xml version='1.0'?>\n<update {body}/>\n".encode()


def write_update_file(path, name: str, payload: int = 1 * MiB, **meta) -> None:
    """An update file on disk: the header, then ``payload`` bytes."""
    with open(path, "wb") as out:
        out.write(update_header(name, **meta))
        block = hashlib.sha256(name.encode()).digest() * 2048  # 64 KiB
        left = payload
        while left > 0:
            out.write(block[:left])
            left -= len(block)


def read_header(head: bytes) -> dict | None:
    """The metadata of an update file from its first bytes, or None."""
    found = _ELEMENT.search(head[:HEADER_LIMIT])
    if not found:
        return None
    try:
        text = found.group(0)
        el = ET.fromstring(text if text.endswith(b"/>") else text + b"</update>")
    except ET.ParseError:
        return None
    name = el.get("name-label", "")
    if not name:
        return None
    return {
        "name_label": name,
        "name_description": el.get("name-description", ""),
        "uuid": el.get("uuid") or str(uuidlib.uuid4()),
        "version": el.get("version", ""),
        "installation_size": _int(el.get("installation-size")),
        "after_apply_guidance": el.get("after-apply-guidance", "").split(),
        "requires": el.get("requires", "").split(),
    }


def _int(text) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return 0


def receive(body, length: int, progress) -> dict:
    """Stream an upload's body: its header parsed, its size and SHA-256."""
    digest, head, got = hashlib.sha256(), b"", 0
    while got < length:
        chunk = body.read(min(CHUNK, length - got))
        if not chunk:
            break
        digest.update(chunk)
        if len(head) < HEADER_LIMIT:
            head += chunk[: HEADER_LIMIT - len(head)]
        got += len(chunk)
        progress(got / length)
    if got < length:
        raise XapiError("IMPORT_ERROR", f"the upload ended after {got} of {length} bytes")
    return {"meta": read_header(head), "size": got, "sha256": digest.hexdigest()}


# applying, common to patches and updates ------------------------------------------
class Kind:
    """What differs between 6.x patches and 7.x updates."""

    def __init__(self, cls: str, prefix: str):
        self.cls, self.prefix = cls, prefix  # pool_patch, PATCH / pool_update, UPDATE

    def applied_on(self, ctx, ref: str) -> list[str]:
        st = ctx.store
        if self.cls == "pool_update":
            return list(st.get("pool_update", ref)["hosts"])
        return [
            st.get("host_patch", hp)["host"]
            for hp in st.get("pool_patch", ref)["host_patches"]
            if st.get("host_patch", hp)["applied"]
        ]

    def by_name(self, ctx, name: str) -> str | None:
        return ctx.store.find_one(self.cls, name_label=name)

    def precheck(self, ctx, ref: str, host: str) -> None:
        st = ctx.store
        rec = st.get(self.cls, ref)
        place.require_live(ctx, host)
        if host in self.applied_on(ctx, ref):
            raise XapiError(f"{self.prefix}_ALREADY_APPLIED", ref)
        if self.cls == "pool_update" and rec["vdi"] == "OpaqueRef:NULL":
            raise XapiError("CANNOT_FIND_UPDATE")
        if self.cls == "pool_patch" and ref in st.cleaned_patches:
            raise XapiError("CANNOT_FIND_PATCH")
        hname = st.get("host", host)["name_label"]
        code = st.precheck_fails.get((rec["name_label"], hname))
        if code:
            raise XapiError(*_failure(self, code, ref, ctx, host))
        missing = [
            r
            for r in st.update_requires.get(rec["uuid"], [])
            if not any(host in self.applied_on(ctx, p) for p in st.find(self.cls, name_label=r))
        ]
        if missing:
            raise XapiError(
                f"{self.prefix}_PRECHECK_FAILED_PREREQUISITE_MISSING", ref, ",".join(missing)
            )

    def apply(self, ctx, ref: str, host: str) -> None:
        self.precheck(ctx, ref, host)
        ctx.work(1.0, progress=0.5)
        st = ctx.store
        rec = st.get(self.cls, ref)
        if self.cls == "pool_update":
            st.set("pool_update", ref, hosts=[*rec["hosts"], host])
            h = st.get("host", host)
            changes = {"updates": [*h["updates"], ref]}
            if "restartHost" in rec["after_apply_guidance"]:
                changes["updates_requiring_reboot"] = [*h["updates_requiring_reboot"], ref]
            st.set("host", host, **changes)
        else:
            st.create(
                "host_patch",
                {
                    "name_label": rec["name_label"],
                    "name_description": rec["name_description"],
                    "version": rec["version"],
                    "host": host,
                    "applied": True,
                    "timestamp_applied": now_xdate(),
                    "size": rec["size"],
                    "pool_patch": ref,
                },
            )
            if len(self.applied_on(ctx, ref)) == len(st.table("host")):
                st.set("pool_patch", ref, pool_applied=True)
        ctx.sim.record("apply", host, rec["name_label"])

    def pool_apply(self, ctx, ref: str) -> None:
        st = ctx.store
        todo = [h for h in st.table("host") if h not in self.applied_on(ctx, ref)]
        if not todo and self.cls == "pool_update":
            raise XapiError("UPDATE_ALREADY_APPLIED_IN_POOL", ref)
        failed = []
        for h in sorted(todo, key=lambda h: h != ctx.sim.master):  # the master first
            try:
                self.apply(ctx, ref, h)
            except XapiError:
                failed.append(h)
        if failed and self.cls == "pool_update":
            raise XapiError("UPDATE_POOL_APPLY_FAILED", ",".join(failed))

    def destroy(self, ctx, ref: str) -> None:
        st = ctx.store
        if self.applied_on(ctx, ref):
            raise XapiError(f"{self.prefix}_IS_APPLIED")
        self.clean(ctx, ref)
        for hp in list(st.get(self.cls, ref).get("host_patches", [])):
            st.destroy("host_patch", hp)
        st.destroy(self.cls, ref)

    def clean(self, ctx, ref: str) -> None:
        """The uploaded files go (the update stays known, and applied where it is)."""
        st = ctx.store
        if self.cls == "pool_update":
            vdi = st.get("pool_update", ref)["vdi"]
            if st.exists("VDI", vdi):
                st.destroy("VDI", vdi)
            st.set("pool_update", ref, vdi="OpaqueRef:NULL")
        else:
            st.cleaned_patches.add(ref)


def _failure(kind: Kind, code: str, ref: str, ctx, host: str) -> list[str]:
    """A precheck failure with the parameters xapi_errors.json gives it."""
    rec = ctx.store.get(kind.cls, ref)
    params = {
        "OUT_OF_SPACE": [ref, str(512 * MiB), str(max(rec.get("installation_size", 0), 1) * 4)],
        "WRONG_SERVER_VERSION": [ref, "8.2.0", "8.2.1"],
        "CONFLICT_PRESENT": [ref, "XS82E999"],
        "GPGKEY_NOT_IMPORTED": [ref],
        "VM_RUNNING": [ref],
        "ISO_MOUNTED": [ref],
        "UNKNOWN_ERROR": [ref, "the precheck script failed"],
    }
    suffix = code.split("_PRECHECK_FAILED_", 1)[-1]
    return [f"{kind.prefix}_PRECHECK_FAILED_{suffix}", *params.get(suffix, [ref])]


PATCHES = Kind("pool_patch", "PATCH")
UPDATES = Kind("pool_update", "UPDATE")


def introduce(ctx, kind: Kind, upload: dict) -> str:
    """A pool_patch / pool_update from an uploaded file's metadata."""
    st = ctx.store
    meta = upload.get("meta")
    if meta is None:
        if kind is UPDATES:
            raise XapiError("INVALID_UPDATE", "the file has no update.xml: not an update")
        raise XapiError("INVALID_PATCH")
    if meta["uuid"] in st.by_uuid[kind.cls]:
        raise XapiError(f"{kind.prefix}_ALREADY_EXISTS", meta["uuid"])
    record = {
        "uuid": meta["uuid"],
        "name_label": meta["name_label"],
        "name_description": meta["name_description"],
        "version": meta["version"],
        "after_apply_guidance": [g for g in meta["after_apply_guidance"] if g in GUIDANCE_7],
        "other_config": {"sha256": upload["sha256"]},
    }
    if kind is UPDATES:
        record |= {"installation_size": meta["installation_size"], "vdi": upload["vdi"]}
    else:
        record |= {"size": upload["size"]}
    if meta["requires"]:
        st.update_requires[meta["uuid"]] = meta["requires"]
    return st.create(kind.cls, record)


GUIDANCE_7 = ("restartHVM", "restartPV", "restartHost", "restartXAPI")


# 8.x repositories --------------------------------------------------------------------
def repository_hash(ctx) -> str:
    ids = ",".join(sorted(u["id"] for u in ctx.store.repository_updates))
    return hashlib.sha256(ids.encode()).hexdigest()[:32]


def pending_for(ctx, host: str) -> list[dict]:
    st = ctx.store
    done = st.repository_applied.get(host, set())
    return [u for u in st.repository_updates if u["id"] not in done]


def updates_document(ctx) -> dict:
    """``GET /updates``: per host what it lacks, and the updates' details."""
    st = ctx.store
    if not st.get("pool", ctx.sim.pool)["repositories"]:
        raise XapiError("NO_REPOSITORIES_CONFIGURED")
    if not st.repository_synced:
        raise XapiError("UPDATEINFO_HASH_MISMATCH")
    hosts = []
    for h in st.table("host"):
        todo = pending_for(ctx, h)
        hosts.append(
            {
                "ref": h,
                "recommended-guidance": sorted({g for u in todo for g in u["guidance"]}),
                "absolute-guidance": [],
                "RPMS": [f"{u['id'].lower()}-1.0-1.x86_64.rpm" for u in todo],
                "updates": [u["id"] for u in todo],
                "livepatches": [],
            }
        )
    return {
        "hosts": hosts,
        "updates": [
            {
                "id": u["id"],
                "summary": u.get("summary", ""),
                "description": u.get("summary", ""),
                "special-info": "",
                "URL": "",
                "type": u.get("type", "bugfix"),
                "recommended-guidance": list(u["guidance"]),
                "absolute-guidance": [],
                "livepatch-guidance": "",
                "livepatches": [],
            }
            for u in st.repository_updates
        ],
        "hash": repository_hash(ctx),
    }


def apply_repository_updates(ctx, host: str, hash_: str) -> list:
    st = ctx.store
    place.require_live(ctx, host)
    if not st.get("pool", ctx.sim.pool)["repositories"]:
        raise XapiError("NO_REPOSITORIES_CONFIGURED")
    if not st.repository_synced or hash_ != repository_hash(ctx):
        raise XapiError("UPDATEINFO_HASH_MISMATCH")
    todo = pending_for(ctx, host)
    for i, u in enumerate(todo, 1):
        ctx.work(0.5, progress=i / (len(todo) + 1))
        st.repository_applied.setdefault(host, set()).add(u["id"])
        ctx.sim.record("apply", host, u["id"])
    guidance = sorted(
        {g for u in todo for g in u["guidance"]} | set(st.get("host", host)["pending_guidances"])
    )
    st.set("host", host, pending_guidances=guidance, last_software_update=now_xdate())
    return []


# XCP-ng: yum through the updater.py host plugin ------------------------------------------
def _yum_pending(ctx, host: str) -> list[dict]:
    st = ctx.store
    done = st.yum_applied.get(host, set())
    return [p for p in st.yum_updates if p["name"] not in done]


def updater_plugin(ctx, host: str, fn: str, args: dict) -> str:
    """XCP-ng's ``updater.py``: ``check_update`` lists the packages yum would
    update (JSON), ``update`` installs them (``packages``: names, all when
    empty) and stamps ``other_config:rpm_patch_installation_time``."""
    import json

    st = ctx.store
    place.require_live(ctx, host)
    if fn == "check_update":
        return json.dumps(
            [
                {
                    "name": p["name"],
                    "version": p["version"],
                    "release": p["release"],
                    "description": p.get("description", ""),
                    "changelog": None,
                }
                for p in _yum_pending(ctx, host)
            ]
        )
    if fn == "update":
        wanted = set(str(args.get("packages", "")).split())
        todo = [p for p in _yum_pending(ctx, host) if not wanted or p["name"] in wanted]
        for i, p in enumerate(todo, 1):
            ctx.work(0.3, progress=i / (len(todo) + 1))
            st.yum_applied.setdefault(host, set()).add(p["name"])
            ctx.sim.record("apply", host, p["name"])
        if todo:
            other = st.get("host", host)["other_config"]
            stamp = str(clock.now())
            st.set("host", host, other_config={**other, "rpm_patch_installation_time": stamp})
        return json.dumps([p["name"] for p in todo])
    raise XapiError("XENAPI_PLUGIN_FAILURE", "failure", "UnknownFunction", f"no function {fn}")
