"""XAPI's pool database format (``xe pool-dump-database``, ``GET /pool/xmldbdump``).

``<database><manifest><pair key= value=/>..</manifest><table name="VM"><row ref=
.. name__label=.. /></table>..</database>``. Nested names use ``__``; sets and
maps are s-expressions: ``('a' 'b')`` and ``(('k' 'v'))``. Columns and tables
the simulator does not model are kept verbatim, so dump -> load -> dump keeps
every object and field.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

from .schema import ClassSpec, Field, blank, class_spec, classes, coerce, empty
from .store import Store
from .where import db_string, missing_field

# Namespaced field prefixes written with "__" (name__label, memory__static_max).
_NAMESPACES = ("name", "memory", "VCPUs", "actions", "PV", "HVM", "qos", "API_version", "io")


# s-expressions ------------------------------------------------------------------
def parse_sexpr(text: str):
    """``('a' 'b')`` -> ['a', 'b']; ``(('k' 'v'))`` -> [['k', 'v']]."""
    pos = 0

    def skip():
        nonlocal pos
        while pos < len(text) and text[pos].isspace():
            pos += 1

    def item():
        nonlocal pos
        skip()
        if text[pos] == "(":
            pos += 1
            out = []
            skip()
            while text[pos] != ")":
                out.append(item())
                skip()
            pos += 1
            return out
        if text[pos] == "'":
            pos += 1
            chars = []
            while text[pos] != "'":
                if text[pos] == "\\":
                    pos += 1
                chars.append(text[pos])
                pos += 1
            pos += 1
            return "".join(chars)
        start = pos
        while pos < len(text) and not text[pos].isspace() and text[pos] not in "()":
            pos += 1
        return text[start:pos]

    return item()


def _quote(s: str) -> str:
    return "'" + str(s).replace("\\", "\\\\").replace("'", "\\'") + "'"


def to_sexpr(value) -> str:
    if isinstance(value, dict):
        return (
            "(" + " ".join(f"({_quote(k)} {_quote(db_string(v))})" for k, v in value.items()) + ")"
        )
    return "(" + " ".join(_quote(db_string(v)) for v in value) + ")"


# values -------------------------------------------------------------------------
def from_db(f: Field, text: str):
    kind = f.kind
    if kind == "map":
        return {k: v for k, v in parse_sexpr(text)} if text else {}
    if kind == "set":
        return list(parse_sexpr(text)) if text else []
    if kind == "ref":
        return text or "OpaqueRef:NULL"
    if kind == "int":
        return int(text or 0)
    if kind == "float":
        return float(text or 0)
    if kind == "bool":
        return text == "true"
    if kind == "enum":
        try:
            return coerce(f, text)
        except Exception:
            return text  # an older release's value: keep it
    return coerce(f, text)


def to_db(f: Field, value) -> str:
    if f.kind in ("map", "set"):
        return to_sexpr(value)
    return db_string(value)


def row_lookup(spec: ClassSpec):
    """For get_all_records_where: a record's column lookup, each value the
    string the database stores; a column the table lacks is XAPI's error."""
    columns = {_column(spec.name, name): name for name in spec.fields}

    def lookup(record: dict):
        def get(column: str) -> str:
            name = columns.get(column)
            if name is None:
                raise missing_field(column)
            return to_db(spec.fields[name], record[name])

        return get

    return lookup


# fields named like a namespace that XAPI's datamodel keeps outside it (their
# column has one underscore), as the real dumps show
_NOT_NAMESPACED = {
    ("pool", "name_label"),
    ("pool", "name_description"),
    ("VM_guest_metrics", "PV_drivers_version"),
    ("VM_guest_metrics", "PV_drivers_up_to_date"),
    ("VM_guest_metrics", "PV_drivers_detected"),
}


def _column(cls: str, field_name: str) -> str:
    """The database's column for a field: ``name__label`` for ``name_label``."""
    if (cls, field_name) in _NOT_NAMESPACED:
        return field_name
    for ns in _NAMESPACES:
        if field_name.startswith(ns + "_") and field_name != ns:
            return ns + "__" + field_name[len(ns) + 1 :]
    return field_name


# load / dump --------------------------------------------------------------------
def _parsed(f: Field, text: str):
    try:
        return from_db(f, text)
    except (IndexError, ValueError):
        return empty(f)  # damaged value (real dumps have truncated ones): keep the text


def load_dump(xml_text: str | bytes, store: Store | None = None) -> Store:
    root = ET.fromstring(xml_text)
    if root.tag != "database":
        raise ValueError("not a XAPI pool database dump (no <database> root)")
    store = store or Store()
    manifest = root.find("manifest")
    if manifest is not None:
        store.manifest = {p.get("key"): p.get("value") for p in manifest.findall("pair")}
    store.dump_tables = set()
    for table in root.findall("table"):
        name = table.get("name")
        store.dump_tables.add(name)
        rows = [dict(row.attrib) for row in table.findall("row")]
        spec = class_spec(name) if name in classes() else None
        if spec is None:
            store.raw_tables[name] = rows
            continue
        originals = store.raw_rows.setdefault(spec.name, {})
        for row in rows:
            ref = row["ref"]
            record = blank(spec)
            for col, text in row.items():
                fname = col.replace("__", "_")
                if col != "ref" and fname in spec.fields:
                    record[fname] = _parsed(spec.fields[fname], text)
            store.tables[spec.name][ref] = record
            if record.get("uuid"):
                store.by_uuid[spec.name][record["uuid"]] = ref
            originals[ref] = row
    store.rebuild_relations()
    return store


def dump_xml(store: Store) -> str:
    out = ["<database><manifest>"]
    manifest = dict(store.manifest)
    manifest.setdefault("schema_major_vsn", "5")
    manifest.setdefault("schema_minor_vsn", "786")
    manifest["generation_count"] = str(store.generation)
    out += [f"<pair key={quoteattr(k)} value={quoteattr(v)}/>" for k, v in manifest.items()]
    out.append("</manifest>")
    for name in sorted(set(store.raw_tables) | set(store.tables)):
        if name in store.raw_tables:
            rows = [_row(r) for r in store.raw_tables[name]]
        else:
            rows = [_row(r) for r in _rows(store, name)]
        out.append(
            f'<table name="{name}">' + "".join(rows) + "</table>"
            if rows
            else f'<table name="{name}"/>'
        )
    out.append("</database>")
    return "".join(out)


def _rows(store: Store, name: str):
    """Rows of a modelled table: the loaded text where a value is unchanged (so
    formats and unknown columns survive), the current value otherwise."""
    spec = class_spec(name)
    originals = store.raw_rows.get(name, {})
    for ref, rec in store.tables[name].items():
        original = originals.get(ref, {})
        columns = {c.replace("__", "_"): c for c in original}
        attrs = dict(original) or {"ref": ref}
        for fname, f in spec.fields.items():
            col = columns.get(fname) or _column(name, fname)
            text = original.get(col)
            if text is None or _parsed(f, text) != rec[fname]:
                attrs[col] = to_db(f, rec[fname])
        yield attrs


def _row(attrs: dict[str, str]) -> str:
    return "<row " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items()) + "/>"
