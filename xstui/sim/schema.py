"""The simulator's schema: the XenAPI classes it serves, their fields and enums.

Read from ``schema.tsv`` (generated from the upstream datamodel by
``tools/gen_schema.py``). Values are held in wire form: strings, ints, floats,
bools, lists, dicts and :class:`XDate` for datetimes.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.resources import files

from .errors import XapiError


class XDate(str):
    """A datetime in XAPI's wire form, e.g. ``20250319T04:16:24Z``."""


EPOCH = XDate("19700101T00:00:00Z")
NULL_REF = "OpaqueRef:NULL"


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # upstream type string, e.g. "(string -> string) map"
    qualifier: str  # RW, RO/runtime, RO/constructor
    default: object

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

    def empty(self):
        """The value a new object gets when nothing else is known."""
        if self.default is not None:
            return (
                copy.deepcopy(self.default)
                if isinstance(self.default, dict | list)
                else (XDate(self.default) if self.kind == "datetime" else self.default)
            )
        return _EMPTY[self.kind]() if self.kind != "enum" else enum_values(self.type[5:])[0]

    def coerce(self, value):
        """Accept a wire value as clients send it (ints as strings, etc.)."""
        k = self.kind
        if k == "int":
            return int(value)
        if k == "float":
            return float(value)
        if k == "bool":
            return value if isinstance(value, bool) else str(value).lower() == "true"
        if k == "datetime":
            return XDate(value)
        if k == "enum":
            value = str(value)
            allowed = enum_values(self.type[5:])
            lowered = {v.lower(): v for v in allowed}
            if value.lower() not in lowered:
                raise XapiError("INVALID_VALUE", self.name, value)
            return lowered[value.lower()]
        if k == "map":
            return {str(a): str(b) for a, b in dict(value).items()}
        if k == "set":
            return list(value)
        return str(value)


_EMPTY = {
    "string": str,
    "int": int,
    "float": float,
    "bool": bool,
    "datetime": lambda: EPOCH,
    "ref": lambda: NULL_REF,
    "set": list,
    "map": dict,
}


@dataclass(frozen=True)
class ClassSpec:
    name: str
    fields: dict[str, Field]

    @property
    def wire_name(self) -> str:
        return self.name.lower()

    @cached_property
    def _template(self) -> dict:
        return {name: f.empty() for name, f in self.fields.items()}

    def blank(self) -> dict:
        """A record with every field at its default."""
        return {k: v.copy() if isinstance(v, list | dict) else v for k, v in self._template.items()}


@cache
def _load() -> tuple[dict[str, ClassSpec], dict[str, tuple[str, ...]]]:
    text = files("xstui.sim").joinpath("schema.tsv").read_text()
    classes: dict[str, dict[str, Field]] = {}
    enums: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        cls, name, ftype, qual, dflt = line.split("\t")
        if cls == "enum":
            enums[name] = tuple(ftype.split(","))
        else:
            classes.setdefault(cls, {})[name] = Field(name, ftype, qual, json.loads(dflt))
    return {c: ClassSpec(c, f) for c, f in classes.items()}, enums


def classes() -> dict[str, ClassSpec]:
    return _load()[0]


def enum_values(name: str) -> tuple[str, ...]:
    return _load()[1][name]


def class_spec(name: str) -> ClassSpec | None:
    """Look a class up by its API name or its lowercase wire name."""
    specs = classes()
    if name in specs:
        return specs[name]
    return _by_lower().get(name.lower())


@cache
def _by_lower() -> dict[str, ClassSpec]:
    return {c.lower(): s for c, s in classes().items()}
