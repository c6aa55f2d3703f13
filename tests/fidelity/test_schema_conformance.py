"""Every class, field and message the simulator exposes exists as such upstream
(../shared/xapi/xenapi.json): same names, types and arity."""

import json

import pytest

from tests.conftest import shared_path
from xstui.sim.api import explicit, implicit
from xstui.sim.schema import classes

# XAPI serves these to every class without listing them in the datamodel.
HIDDEN_IMPLICIT = {"get_all_records_where"}


@pytest.fixture(scope="module")
def upstream():
    model = json.loads(shared_path("xapi", "xenapi.json").read_text())
    return {c["name"]: c for c in model}


def implicit_names(spec):
    names = [
        "get_all",
        "get_all_records",
        "get_all_records_where",
        "get_record",
        "get_by_uuid",
        "get_by_name_label",
    ]
    for f in spec.fields.values():
        names.append("get_" + f.name)
        if f.writable:
            names.append("set_" + f.name)
            if f.kind == "map":
                names += ["add_to_" + f.name, "remove_from_" + f.name]
            if f.kind == "set":
                names += ["add_" + f.name, "remove_" + f.name]
    return [n for n in names if implicit(spec, n) is not None]


def test_classes_and_fields_match(upstream):
    for name, spec in classes().items():
        assert name in upstream, f"class {name} is not in the datamodel"
        theirs = {f["name"]: f for f in upstream[name]["fields"]}
        assert set(spec.fields) == set(theirs), f"{name}: field sets differ"
        for f in spec.fields.values():
            assert f.type == theirs[f.name]["type"], f"{name}.{f.name}"
            assert f.qualifier == theirs[f.name]["qualifier"], f"{name}.{f.name}"


def test_implicit_messages_exist_with_arity(upstream):
    for name, spec in classes().items():
        theirs = {m["name"]: m for m in upstream[name]["messages"]}
        for msg_name in implicit_names(spec):
            if msg_name in HIDDEN_IMPLICIT:
                continue
            assert msg_name in theirs, f"{name}.{msg_name} is not upstream"
            msg = implicit(spec, msg_name)
            assert msg.arity == len(theirs[msg_name]["params"]), f"{name}.{msg_name} arity"


def test_explicit_messages_exist_with_arity(upstream):
    assert explicit(), "no explicit messages registered"
    for (cls, name), msg in explicit().items():
        assert cls in upstream, cls
        theirs = {m["name"]: m for m in upstream[cls]["messages"]}
        assert name in theirs, f"{cls}.{name} is not upstream"
        upstream_arity = len(theirs[name]["params"])
        assert msg.min_arity <= upstream_arity <= msg.arity, (
            f"{cls}.{name}: {msg.arity} vs {upstream_arity}"
        )
