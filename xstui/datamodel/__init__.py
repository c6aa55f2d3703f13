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
