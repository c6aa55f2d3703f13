"""The one list of areas: what the app, the event subscription, the Health tab
and the CLI are built from."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module

import pytest

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
    assert {c.name for c in commands()} == {
        "status",
        "check",
        "rolling-update",
        "top",
        "backup",
        "restore",
        "snapshot-rotate",
    }


def imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_parsing_the_command_line_imports_no_area_and_no_textual():
    loaded = imported_after(
        "from xstui.cli import build_parser\nbuild_parser().parse_args(['status', 'demo'])"
    )
    assert not {m for m in loaded if m.split(".")[0] in ("textual", "XenAPI", "yaml")}
    services = {m for m in loaded if m.startswith("xstui.services.")}
    # the commands' own modules (and their packages), nothing they run
    assert services <= {
        "xstui.services.values",
        "xstui.services.fleet",
        "xstui.services.fleet.arguments",
        *(
            f"xstui.services.{a}{cli}"
            for a in ("status", "network", "updates", "metrics", "backup")
            for cli in ("", ".cli")
        ),
    }, services


def test_a_package_imports_a_module_when_one_of_its_names_is_used():
    loaded = imported_after("import xstui.services.host")
    assert "xstui.services.host.maintenance" not in loaded
    loaded = imported_after("from xstui.services.host import EnterMaintenance")
    assert "xstui.services.host.maintenance" in loaded
    assert "xstui.services.host.power" not in loaded
    import xstui.services.host as host

    assert "EnterMaintenance" in dir(host) and "EnterMaintenance" in host.__all__
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        host.Nothing  # noqa: B018
