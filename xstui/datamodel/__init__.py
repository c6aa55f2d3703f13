"""The XenAPI datamodel as xstui knows it: classes, fields (wire type,
qualifier, default) and enum values, read from ``schema.tsv``, which
``tools/gen_schema.py`` derives from the upstream datamodel. Both sides use it:
the client for typed records, the simulator for its object store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.resources import files

NULL_REF = "OpaqueRef:NULL"


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # upstream type string, e.g. "(string -> string) map"
    qualifier: str  # RW, RO/runtime, RO/constructor
    default: object  # in wire form (JSON), or None when the datamodel gives none

    @cached_property
    def kind(self) -> str:
        """One of string, int, float, bool, datetime, ref, enum, set, map."""
        t = self.type
        for suffix in ("map", "set", "ref"):
            if t.endswith(" " + suffix):
                return suffix
        if t.startswith("enum "):
            return "enum"
        return t

    @property
    def writable(self) -> bool:
        return self.qualifier == "RW"

    @property
    def ref_class(self) -> str | None:
        """For ``X ref`` and ``X ref set``: X."""
        parts = self.type.split()
        if parts[-1] == "ref":
            return parts[0]
        if parts[-2:] == ["ref", "set"]:
            return parts[0]
        return None


@dataclass(frozen=True)
class ClassSpec:
    name: str
    fields: dict[str, Field]

    @property
    def wire_name(self) -> str:
        return self.name.lower()


@cache
def _load():
    text = files("xstui.datamodel").joinpath("schema.tsv").read_text()
    specs: dict[str, dict[str, Field]] = {}
    enums: dict[str, tuple[str, ...]] = {}
    messages: dict[tuple[str, str], tuple[str, ...]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        cls, name, ftype, qual, dflt = line.split("\t")
        if cls == "enum":
            enums[name] = tuple(ftype.split(","))
        elif cls == "call":
            owner, message = name.split(".", 1)
            messages[(owner, message)] = tuple(qual.split(";")) if qual else ()
        else:
            specs.setdefault(cls, {})[name] = Field(name, ftype, qual, json.loads(dflt))
    return {c: ClassSpec(c, f) for c, f in specs.items()}, enums, messages


def classes() -> dict[str, ClassSpec]:
    return _load()[0]


def enum_values(name: str) -> tuple[str, ...]:
    return _load()[1][name]


def explicit_messages() -> dict[tuple[str, str], tuple[str, ...]]:
    """(class, message) -> its parameters' types on the wire (the session
    included), for the explicit messages of the classes xstui knows."""
    return _load()[2]


def class_spec(name: str) -> ClassSpec | None:
    """Look a class up by its API name or its lowercase wire name."""
    specs = classes()
    if name in specs:
        return specs[name]
    return _by_lower().get(name.lower())


@cache
def _by_lower() -> dict[str, ClassSpec]:
    return {c.lower(): s for c, s in classes().items()}


# the roles, most privileged first: each may do what those below it may
ROLES = ("pool-admin", "pool-operator", "vm-power-admin", "vm-admin", "vm-operator", "read-only")


@cache
def _least_roles() -> dict[str, str]:
    text = files("xstui.datamodel").joinpath("roles.tsv").read_text()
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {call.lower(): role for call, role in rows}


@cache
def _http_actions() -> dict[tuple[str, str], str]:
    text = files("xstui.datamodel").joinpath("http_actions.tsv").read_text()
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {(method, uri): name for name, method, uri in rows}


def http_permission(method: str, uri: str) -> str | None:
    """The permission XAPI checks for an HTTP request (``GET /pool/xmldbdump``
    is ``http/get_pool_xml_db_sync``): what ``least_role`` and a session's
    rbac_permissions know it by. None for a URI that is not a handler."""
    name = _http_actions().get((method.upper(), uri))
    return f"http/{name}" if name else None


def least_role(call: str) -> str:
    """The least privileged role XAPI lets make ``call`` (``VM.start``,
    ``Async.host.reboot``; any case): one of ROLES, or "root" for the few
    calls only the local superuser may make."""
    name = call[6:] if call.startswith("Async.") else call
    return _least_roles().get(name.lower(), "read-only")


def role_may(role: str, call: str) -> bool:
    """Whether XAPI lets ``role`` (one of ROLES) make ``call``."""
    least = least_role(call)
    return least != "root" and role in ROLES and ROLES.index(role) <= ROLES.index(least)


def permissions(role: str) -> list[str]:
    """The calls above read-only that ``role`` may make, lowercased as in a
    session's ``rbac_permissions`` (the read calls every role has are left out)."""
    return sorted(c for c in _least_roles() if role_may(role, c))


@cache
def sr_errors() -> dict[int, tuple[str, str]]:
    """Storage manager error numbers -> (name, description), for
    ``SR_BACKEND_FAILURE_<n>`` (from XE_SR_ERRORCODES.xml)."""
    text = files("xstui.datamodel").joinpath("sr_errors.tsv").read_text()
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {int(number): (name, description) for number, name, description in rows}


@cache
def _lifecycle() -> tuple[tuple[tuple[str, str], ...], dict[str, tuple[str, str, str]]]:
    text = files("xstui.datamodel").joinpath("lifecycle.tsv").read_text()
    releases, items = [], {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        a, b, c, *back = line.split("\t")
        if a == "release":
            releases.append((b, c))
        else:
            items[a] = (b, c, back[0] if back else "")
    return tuple(releases), items


def releases() -> tuple[tuple[str, str], ...]:
    """Every XAPI release, oldest first: (code name, product), e.g.
    ("creedence", "XenServer 6.5")."""
    return _lifecycle()[0]


def absent_in(release: str) -> frozenset[str]:
    """The classes, fields (``host.updates``) and explicit messages
    (``pool_update.apply()``) of xstui's datamodel that a host of ``release``
    does not have: brought by a later release, or (classes and messages)
    removed by then and not brought back. A removed field stays: XAPI keeps
    it in its database and records ("disabled in favour of RRD"), it only
    stops maintaining it."""
    return frozenset(name for name, state in _states(release).items() if state != "removed-field")


def removed_in(release: str) -> frozenset[str]:
    """The classes and explicit messages a host of ``release`` had once and
    no longer has: XAPI answers MESSAGE_REMOVED for them."""
    return frozenset(name for name, state in _states(release).items() if state == "removed")


def _states(release: str) -> dict[str, str]:
    """What ``release`` lacks: name -> "unborn", "removed" or "removed-field"."""
    order = {code: i for i, (code, _) in enumerate(releases())}
    if release not in order:
        raise KeyError(f"unknown XAPI release {release!r}")
    at = order[release]
    out = {}
    for name, (born, removed, back) in _lifecycle()[1].items():
        if order.get(born, 0) > at:
            out[name] = "unborn"
        elif removed and order.get(removed, at + 1) <= at and not (back and order[back] <= at):
            field = "." in name and not name.endswith("()")
            out[name] = "removed-field" if field else "removed"
    return out
