"""The per-host picture of hotfixes, the same whatever the generation: each
update known to the pool (name, size, guidance, whether its files are still
uploaded, where it is applied), and per host what is applied, what is
missing and what guidance is pending.

6.x and 7.x come from the cache (pool_patch/host_patch, pool_update and
host.updates); XenServer 8 lists what each host lacks only through XAPI's
``GET /updates`` handler (:func:`read_repository`), after a sync; XCP-ng
through each host's updater.py plugin (:func:`read_yum`). Those two know
only what a host lacks: what it does not lack, it has."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.records import NULL_REF
from .generation import PATCHES, REPOSITORIES, UPDATES, YUM, Generation


@dataclass(frozen=True)
class Update:
    key: str  # the pool_patch / pool_update ref, or the repository update's id
    uuid: str  # ("" for a repository update)
    name: str
    description: str
    size: int  # bytes (0: not known)
    guidance: tuple[str, ...]
    uploaded: bool  # its files are in the pool: it can be applied
    applied_on: frozenset[str]  # host refs


@dataclass(frozen=True)
class HostState:
    ref: str
    uuid: str
    name: str
    is_master: bool
    live: bool
    enabled: bool
    applied: tuple[str, ...]  # update names
    missing: tuple[str, ...]
    pending: tuple[str, ...]  # guidances still to follow


@dataclass(frozen=True)
class UpdatesView:
    generation: Generation
    updates: tuple[Update, ...]
    hosts: tuple[HostState, ...]  # the master first, then by name
    hash: str = ""  # XenServer 8: the synced metadata's hash (host.apply_updates wants it)
    problem: str = ""  # why the picture is incomplete, in words

    def update(self, name: str) -> Update | None:
        return next((u for u in self.updates if u.name == name), None)

    def host(self, ref: str) -> HostState | None:
        return next((h for h in self.hosts if h.ref == ref), None)

    def host_named(self, name: str) -> HostState | None:
        return next((h for h in self.hosts if h.name == name), None)


def read_repository(conn) -> dict:
    """XenServer 8's ``GET /updates``: what each host lacks (JSON). Raises
    TransferFailed with XAPI's reason (no repository, not synced)."""
    from ...xapi.transfer import TransferFailed, get_bytes

    refusal = conn.access.refusal(("http/get_updates",))
    if refusal:  # not asked: a refused call is still a refusal in the audit
        raise TransferFailed(f"the list of updates {refusal}")
    body = get_bytes(conn, "/updates", {}, limit=16 << 20)
    try:
        doc = json.loads(body)
    except ValueError:
        raise TransferFailed("the host's list of updates is not JSON") from None
    if not isinstance(doc, dict):
        raise TransferFailed("the host's list of updates is not a JSON object")
    return doc


def read_yum(conn, only: list[str] | None = None) -> dict:
    """XCP-ng: what yum would update on each live host (of ``only``, all when
    None; ``updater.py check_update``), as ``{"hosts": [{"ref", "updates"}],
    "updates": [...]}``, the shape of XenServer 8's document."""
    from ...xapi.connection import XapiFailure

    hosts, packages = [], {}
    with conn.cache.lock:
        live = [
            h.ref
            for h in conn.cache.table("host").values()
            if views.is_live(conn.cache, h) and (only is None or h.ref in only)
        ]
    for ref in live:
        try:
            listed = json.loads(
                conn.call("host.call_plugin", ref, "updater.py", "check_update", {}) or "[]"
            )
        except (XapiFailure, ValueError):
            continue
        names = []
        for p in listed if isinstance(listed, list) else []:
            if isinstance(p, dict) and p.get("name"):
                name = str(p["name"])
                names.append(name)
                packages[name] = {
                    "id": name,
                    "summary": f"{p.get('version', '')}-{p.get('release', '')} "
                    + str(p.get("description") or ""),
                    # the plugin cannot tell which packages need it: a host that
                    # installed any asks for a reboot (as Xen Orchestra shows it)
                    "recommended-guidance": ["restartHost"],
                }
        hosts.append({"ref": ref, "updates": names})
    return {"hosts": hosts, "updates": list(packages.values())}


def read_document(conn, generation: Generation, only: list[str] | None = None) -> dict | None:
    """What the cache cannot say: XenServer 8's and XCP-ng's lists (calls)."""
    if generation is REPOSITORIES:
        return read_repository(conn)
    if generation is YUM:
        return read_yum(conn, only)
    return None


def build(cache: Cache, generation: Generation, document: dict | None = None) -> UpdatesView:
    """The picture from the cache (and, for repositories, the /updates document)."""
    with cache.lock:
        if generation is PATCHES:
            updates = _patches(cache)
        elif generation is UPDATES:
            updates = _pool_updates(cache)
        elif generation in (REPOSITORIES, YUM):
            updates = _repository_updates(cache, document or {})
        else:
            updates = ()
        master = views.master_ref(cache)
        hosts = []
        for ref, rec in cache.table("host").items():
            applied = tuple(sorted(u.name for u in updates if ref in u.applied_on))
            if generation in (REPOSITORIES, YUM):
                row = next(
                    (h for h in (document or {}).get("hosts", []) if h.get("ref") == ref), {}
                )
                missing = tuple(sorted(str(u) for u in row.get("updates", [])))
                applied = tuple(sorted(u.name for u in updates if u.name not in missing))
            else:
                missing = tuple(
                    sorted(u.name for u in updates if ref not in u.applied_on and u.uploaded)
                )
            hosts.append(
                HostState(
                    ref,
                    rec.uuid,
                    rec.name_label,
                    ref == master,
                    views.is_live(cache, rec),
                    rec.enabled,
                    applied,
                    missing,
                    _pending(cache, generation, rec, updates),
                )
            )
    hosts.sort(key=lambda h: (not h.is_master, h.name.lower()))
    problem = ""
    if generation in (REPOSITORIES, YUM) and document is None:
        problem = "the list of available updates has not been read (r reads it)"
    return UpdatesView(
        generation,
        tuple(sorted(updates, key=lambda u: u.name)),
        tuple(hosts),
        hash=str((document or {}).get("hash", "")),
        problem=problem,
    )


def _patches(cache: Cache) -> tuple[Update, ...]:
    applied: dict[str, set[str]] = {}
    for hp in cache.table("host_patch").values():
        if hp.applied and hp.pool_patch != NULL_REF:
            applied.setdefault(hp.pool_patch, set()).add(hp.host)
    return tuple(
        Update(
            ref,
            p.uuid,
            p.name_label,
            p.name_description,
            p.size,
            tuple(p.after_apply_guidance),
            True,  # a 6.x pool cannot tell whether a patch's files were cleaned
            frozenset(applied.get(ref, ())),
        )
        for ref, p in cache.table("pool_patch").items()
    )


def _pool_updates(cache: Cache) -> tuple[Update, ...]:
    return tuple(
        Update(
            ref,
            u.uuid,
            u.name_label,
            u.name_description,
            u.installation_size,
            tuple(u.after_apply_guidance),
            u.vdi != NULL_REF,
            frozenset(u.hosts),
        )
        for ref, u in cache.table("pool_update").items()
    )


def _repository_updates(cache: Cache, document: dict) -> tuple[Update, ...]:
    lacking: dict[str, set[str]] = {}
    for row in document.get("hosts", []):
        for name in row.get("updates", []):
            lacking.setdefault(str(name), set()).add(str(row.get("ref", "")))
    hosts = frozenset(cache.table("host"))
    return tuple(
        Update(
            str(u.get("id", "")),
            "",
            str(u.get("id", "")),
            str(u.get("summary", "")),
            0,
            tuple(str(g) for g in u.get("recommended-guidance", [])),
            True,
            hosts - lacking.get(str(u.get("id", "")), set()),
        )
        for u in document.get("updates", [])
        if isinstance(u, dict)
    )


def _pending(cache: Cache, generation: Generation, host, updates) -> tuple[str, ...]:
    if generation is REPOSITORIES:
        return tuple(host.pending_guidances)
    if generation is YUM:  # packages installed since the last boot (what XO shows)
        installed = _float(host.other_config.get("rpm_patch_installation_time"))
        return ("restartHost",) if installed > _float(host.other_config.get("boot_time")) else ()
    if generation is UPDATES:
        return ("restartHost",) if host.updates_requiring_reboot else ()
    if generation is PATCHES:  # a patch asking for a reboot, applied since the last boot
        boot = _float(host.other_config.get("boot_time"))
        pending = set()
        for hp in cache.table("host_patch").values():
            when = hp.timestamp_applied  # an aware datetime, None for never
            patch = next((u for u in updates if u.key == hp.pool_patch), None)
            if hp.host == host.ref and patch and when and when.timestamp() > boot:
                pending |= {g for g in patch.guidance if g in ("restartHost", "restartXAPI")}
        return tuple(sorted(pending))
    return ()


def _float(text) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0
