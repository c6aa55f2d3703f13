"""The simulator's side of the datamodel (:mod:`xstui.datamodel`): values in
wire form (strings, ints, floats, bools, lists, dicts and :class:`XDate` for
datetimes), the empty value of a field, a blank record, and coercion of what
clients send."""

from __future__ import annotations

import copy
from functools import cache

from ..datamodel import NULL_REF, ClassSpec, Field, class_spec, classes, enum_values
from .errors import XapiError

__all__ = [
    "NULL_REF",
    "ClassSpec",
    "Field",
    "XDate",
    "blank",
    "class_spec",
    "classes",
    "coerce",
    "empty",
    "enum_values",
]


class XDate(str):
    """A datetime in XAPI's wire form, e.g. ``20250319T04:16:24Z``."""


EPOCH = XDate("19700101T00:00:00Z")

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


def empty(f: Field):
    """The value a new object gets when nothing else is known."""
    if f.default is not None:
        if isinstance(f.default, dict | list):
            return copy.deepcopy(f.default)
        return XDate(f.default) if f.kind == "datetime" else f.default
    return _EMPTY[f.kind]() if f.kind != "enum" else enum_values(f.type[5:])[0]


def coerce(f: Field, value):
    """Accept a wire value as clients send it (ints as strings, etc.)."""
    k = f.kind
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
        lowered = {v.lower(): v for v in enum_values(f.type[5:])}
        if value.lower() not in lowered:
            raise XapiError("INVALID_VALUE", f.name, value)
        return lowered[value.lower()]
    if k == "map":
        return {str(a): str(b) for a, b in dict(value).items()}
    if k == "set":
        return list(value)
    return str(value)


@cache
def _template(cls: str) -> dict:
    return {name: empty(f) for name, f in class_spec(cls).fields.items()}


def blank(spec: ClassSpec) -> dict:
    """A record with every field at its default."""
    return {
        k: v.copy() if isinstance(v, list | dict) else v for k, v in _template(spec.name).items()
    }
