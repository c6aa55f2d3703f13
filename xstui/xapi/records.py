"""Typed records: XAPI objects as frozen values, parsed once when they arrive.

Each class of the datamodel becomes a named tuple with its fields converted
from wire form: ints and floats as numbers (XML-RPC sends ints as strings),
bools, datetimes as aware ``datetime`` (``None`` for XAPI's "never", the
epoch), sets as tuples, maps as dicts, refs and enums as strings. Every record
also carries its own ``ref``. A class may be kept slim (only the fields the
screens read), which is what keeps a 4000-VM pool small in memory.
"""

from __future__ import annotations

import calendar
import sys
import time
from collections import namedtuple
from collections.abc import Iterable
from datetime import datetime, timezone
from functools import cache

from ..datamodel import NULL_REF, class_spec

__all__ = ["NULL_REF", "make_record", "record_type", "to_datetime"]


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _bool(value) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


def to_datetime(value) -> datetime | None:
    """An XAPI datetime (``20250319T04:16:24Z``, XML-RPC DateTime or ISO) as an
    aware UTC datetime; None for the epoch (XAPI's "never") or unreadable text."""
    text = str(getattr(value, "value", value) or "").rstrip("Z")
    for fmt, width in (("%Y%m%dT%H:%M:%S", 17), ("%Y-%m-%dT%H:%M:%S", 19)):
        try:
            seconds = calendar.timegm(time.strptime(text[:width], fmt))
        except ValueError:
            continue
        return datetime.fromtimestamp(seconds, timezone.utc) if seconds > 0 else None
    return None


def _map(value) -> dict:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _set(value) -> tuple:
    return tuple(value) if isinstance(value, list | tuple) else ()


def _enum_set(value) -> tuple:
    """A set of enum values (allowed_operations): the same few names on every
    object, so each is kept once (a 4000-VM pool lists ~20 per VM)."""
    return tuple(sys.intern(str(v)) for v in value) if isinstance(value, list | tuple) else ()


def _ref_set(value) -> tuple:
    """A set of refs (a VM's VIFs): each kept once (see _ref)."""
    return tuple(sys.intern(str(v)) for v in value) if isinstance(value, list | tuple) else ()


def _str(value) -> str:
    return "" if value is None else str(value)


def _ref(value) -> str:
    """A ref, kept once however many records name it (each VM's resident_on
    is one of a few hosts, and the key of a table is the same string as the
    refs to it): a 4000-VM pool's records hold tens of thousands of refs."""
    return sys.intern(str(value)) if value else NULL_REF


_CONVERT = {
    "int": _int,
    "float": _float,
    "bool": _bool,
    "datetime": to_datetime,
    "map": _map,
    "set": _set,
    "ref": _ref,
    "enum": _str,
    "string": _str,
}


@cache
def record_type(cls: str, fields: tuple[str, ...] | None = None) -> type:
    """The named tuple for a class (wire or API name); ``fields`` keeps only
    those (all the datamodel's when None)."""
    spec = class_spec(cls)
    if spec is None:
        raise KeyError(f"{cls} is not in the datamodel")
    names = tuple(spec.fields) if fields is None else fields
    unknown = [f for f in names if f not in spec.fields]
    if unknown:
        raise KeyError(f"{spec.name} has no field {', '.join(unknown)}")
    rtype = namedtuple(spec.name, ("ref", *names))
    rtype._converters = tuple((f, _converter(spec.fields[f])) for f in names)
    return rtype


def _converter(field):
    if field.kind == "set" and field.type.startswith("enum "):
        return _enum_set
    if field.kind == "set" and field.type.endswith(" ref set"):
        return _ref_set
    return _CONVERT[field.kind]


def make_record(rtype: type, ref: str, wire: dict):
    """A typed record from a wire snapshot (missing fields get their empty value)."""
    get = wire.get
    return rtype._make((ref, *(convert(get(f)) for f, convert in rtype._converters)))


def slim(cls: str, keep: Iterable[str] | None) -> type:
    return record_type(cls, None if keep is None else tuple(sorted(set(keep))))
