"""The one list of areas: what the app, the event subscription, the Health tab
and the CLI are built from."""

from __future__ import annotations

from importlib import import_module

from xstui.areas import ALL, AREAS, commands, health_rules, watched_fields, watched_types
from xstui.datamodel import class_spec


def test_each_area_is_complete_and_distinct():
    assert len({a.id for a in AREAS}) == len({a.key for a in AREAS}) == len(AREAS)
    for a in AREAS:
        module, name = a.screen.split(":")
        assert getattr(import_module(module), name), a.screen
        for cls, fields in a.watches.items():
            spec = class_spec(cls)
            assert spec is not None, cls
            assert fields is ALL or set(fields) <= set(spec.fields), (a.id, cls)


def test_watched_fields_are_the_union_and_all_wins():
    fields = watched_fields()
    assert fields["task"] is ALL and fields["pif"] is ALL
    vm = set(fields["vm"])
    assert {"power_state", "resident_on"} <= vm  # Status
    assert {"VIFs"} <= vm  # Networking: who uses a network
    assert "VCPUs_params" not in vm  # the big class stays slim
    assert set(watched_types()) == set(fields)


def test_health_rules_and_commands_come_from_every_area():
    assert len(health_rules()) == sum(len(a.health) for a in AREAS)
    assert {c.name for c in commands()} == {"status", "check", "rolling-update", "top"}
