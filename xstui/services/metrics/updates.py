"""XAPI's ``GET /rrd_updates`` answer, read: rrdtool's xport XML, XAPI's
JSON (every number a string) and the older XAPI's JSON (bare keys, bare
numbers). NaN is a gap, not a figure. Anything else is refused with the reason
in words (:class:`Unreadable`), never half-read."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

MAX_BYTES = 32 << 20  # far above a pool's 10 minutes of rows


class Unreadable(ValueError):
    """The document is not rrd_updates; the message says what is wrong."""


@dataclass(frozen=True)
class Updates:
    start: int
    step: int
    end: int
    legend: tuple[str, ...]  # "AVERAGE:vm:<uuid>:cpu0"
    rows: tuple[tuple[int, tuple[float, ...]], ...]  # (t, a value per legend entry)


@dataclass(frozen=True)
class Column:
    cf: str
    kind: str  # host, vm, sr
    uuid: str
    name: str  # the data source: cpu0, memory_free_kib…


def column(entry: str) -> Column | None:
    """A legend entry split; None when it is not ``CF:kind:uuid:name``."""
    parts = entry.split(":", 3)
    if len(parts) != 4 or not all(parts):
        return None
    return Column(*parts)


def parse(body: bytes) -> Updates:
    if len(body) > MAX_BYTES:
        raise Unreadable(f"the answer is larger than {MAX_BYTES >> 20} MiB")
    text = body.lstrip()
    if text.startswith(b"{"):
        return _json(text)
    if text.startswith(b"<"):
        return _xml(text)
    raise Unreadable("the answer is neither XML nor JSON")


def _number(text, what: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise Unreadable(f"{what} is not a number: {str(text)[:20]!r}") from None
    return value


def _int(text, what: str) -> int:
    value = _number(text, what)
    if not math.isfinite(value) or value != int(value):
        raise Unreadable(f"{what} is not a whole number: {str(text)[:20]!r}")
    return int(value)


def _checked(start, step, end, legend, rows, columns) -> Updates:
    step_ = _int(step, "the step")
    if step_ <= 0:
        raise Unreadable("the step is not positive")
    legend = tuple(str(e) for e in legend)
    if columns is not None and _int(columns, "the column count") != len(legend):
        raise Unreadable(f"the legend has {len(legend)} entries for {columns} columns")
    out = []
    for t, values in rows:
        if len(values) != len(legend):
            raise Unreadable(f"a row has {len(values)} values for {len(legend)} columns")
        out.append((_int(t, "a row's time"), tuple(_number(v, "a value") for v in values)))
    return Updates(_int(start, "the start"), step_, _int(end, "the end"), legend, tuple(out))


def _xml(text: bytes) -> Updates:
    if b"<!DOCTYPE" in text[:512] or b"<!ENTITY" in text:
        raise Unreadable("the XML declares entities")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise Unreadable(f"malformed XML ({exc})") from None
    if root.tag != "xport" or root.find("meta") is None or root.find("data") is None:
        raise Unreadable(f"an XML document that is not an xport (<{root.tag}>)")
    meta = root.find("meta")
    legend = [e.text or "" for e in meta.findall("legend/entry")]
    rows = [(r.findtext("t"), [v.text for v in r.findall("v")]) for r in root.find("data")]

    def get(tag):
        found = meta.findtext(tag)
        if found is None:
            raise Unreadable(f"the xport has no <{tag}>")
        return found

    return _checked(get("start"), get("step"), get("end"), legend, rows, meta.findtext("columns"))


_BARE_KEY = re.compile(rb"([{,]\s*)([A-Za-z_][A-Za-z_0-9]*)\s*:")


def _json(text: bytes) -> Updates:
    try:
        doc = json.loads(text)
    except ValueError:
        try:  # the older XAPI's: {meta: {start: 1, ...}, data: [{t: 1, values: [0.5]}]}
            doc = json.loads(_BARE_KEY.sub(rb'\1"\2":', text))
        except ValueError as exc:
            raise Unreadable(f"malformed JSON ({exc})") from None
    try:
        meta, data = doc["meta"], doc["data"]
        rows = [(row["t"], list(row["values"])) for row in data]
        return _checked(
            meta["start"],
            meta["step"],
            meta["end"],
            list(meta["legend"]),
            rows,
            meta.get("columns"),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise Unreadable(f"JSON that is not rrd_updates (no {exc})") from None
