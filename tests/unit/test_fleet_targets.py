"""The fleet file, saved targets with a group, and where passwords come from."""

import sys

import pytest

from xstui.services.fleet.passwords import NoPassword, Passwords, env_name
from xstui.services.fleet.targets import (
    FleetError,
    FleetTarget,
    load_fleet,
    parse_fleet,
    resolve_fleet,
    saved_fleet,
    write_fleet,
)
from xstui.xapi.config import Config

PIN = "AB:" * 31 + "AB"

GOOD = f"""\
- name: paris
  url: https://127.30.0.11
  group: site-a
  fingerprint: "{PIN.lower()}"
- name: lyon
  url: http://127.30.1.11:8080
  user: ops
"""


def test_a_fleet_file_is_read_with_defaults():
    pools = parse_fleet(GOOD, "f.yaml")
    assert pools == [
        FleetTarget("paris", "https://127.30.0.11", "root", "site-a", PIN),
        FleetTarget("lyon", "http://127.30.1.11:8080", "ops", "", ""),
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "- name: a\n  url: https://h\n  password: x\n",
            "f.yaml line 3, [0].password: unknown key",
        ),
        ("- name: a\n  url: https://h\n- name: a\n  url: https://g\n", "f.yaml line 3, [1].name"),
        ("- name: a\n  url: not a url\n", "f.yaml line 2, [0].url: 'not a url' is not a URL"),
        ("- name: a\n  url: ftp://h\n", "f.yaml line 2, [0].url: ftp://h: only https://"),
        ("- url: https://h\n", "f.yaml line 1, [0]: name is required"),
        ("- name: a\n  url: https://h\n  fingerprint: zz\n", "line 3, [0].fingerprint"),
        ("- name: a\n  url: [1]\n", "f.yaml line 2, [0].url: expected text"),
        ("name: a\n", "f.yaml: a fleet file is a YAML list"),
        ("[]\n", "f.yaml: no pools"),
        (
            "- name: a\n  url: https://h\n  name: b\n",
            "f.yaml line 3: the key 'name' is given twice",
        ),
    ],
)
def test_a_bad_fleet_file_names_file_line_and_key(text, said):
    with pytest.raises(FleetError) as err:
        parse_fleet(text, "f.yaml")
    assert said in str(err.value)


def test_a_duplicate_name_says_where_it_was_first():
    with pytest.raises(FleetError, match=r"'a' is given twice \(first on line 1\)"):
        parse_fleet("- name: a\n  url: https://h\n- name: a\n  url: https://g\n", "f.yaml")


def test_written_fleet_reads_back(tmp_path):
    pools = parse_fleet(GOOD, "f.yaml")
    write_fleet(tmp_path / "fleet.yaml", pools)
    assert load_fleet(tmp_path / "fleet.yaml") == pools
    assert (tmp_path / "fleet.yaml").stat().st_mode & 0o777 == 0o600
    with pytest.raises(FleetError, match="cannot be read"):
        load_fleet(tmp_path / "none.yaml")


def test_saved_targets_carry_a_group_and_never_a_password(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        "targets:\n"
        "- https://127.30.0.11\n"
        "- {url: 'https://127.30.1.11', name: lyon, group: site-b}\n"
        "- {url: 'https://127.30.2.11', group: site-b, user: ops}\n"
    )
    config = Config.load(path)
    assert not config.problem
    assert [p.name for p in saved_fleet(config)] == ["127.30.0.11", "lyon", "127.30.2.11"]
    site_b = saved_fleet(config, "site-b")
    assert [(p.name, p.user, p.group) for p in site_b] == [
        ("lyon", "root", "site-b"),
        ("127.30.2.11", "ops", "site-b"),
    ]
    assert resolve_fleet("site-b", config) == site_b
    with pytest.raises(FleetError, match="groups: site-b"):
        resolve_fleet("site-c", config)
    assert config.save()
    assert Config.load(path).saved == config.saved
    path.write_text("targets:\n- {url: 'https://h', password: x}\n")
    assert "unknown: password" in Config.load(path).problem


def test_password_sources_in_order(monkeypatch, tmp_path):
    pool = FleetTarget("fleet-02.b", "http://127.30.0.11:80")
    assert env_name(pool.name) == "XSTUI_PASSWORD_FLEET_02_B"
    monkeypatch.delenv("XSTUI_PASSWORD", raising=False)
    monkeypatch.delenv("XSTUI_PASSWORD_COMMAND", raising=False)
    with pytest.raises(NoPassword, match="XSTUI_PASSWORD_FLEET_02_B"):
        Passwords(interactive=False).for_pool(pool)
    monkeypatch.setenv("XSTUI_PASSWORD", "generic")
    assert Passwords(interactive=False).for_pool(pool) == "generic"
    script = tmp_path / "pw.py"
    script.write_text("import sys; print('from-cmd-' + sys.argv[1] + '@' + sys.argv[2])\n")
    command = f"{sys.executable} {script}"
    assert Passwords(command).for_pool(pool) == "from-cmd-fleet-02.b@http://127.30.0.11:80"
    failing = Passwords(f"{sys.executable} -c 'raise SystemExit(4)'")
    with pytest.raises(NoPassword, match="exit 4"):
        failing.for_pool(pool)
    monkeypatch.setenv("XSTUI_PASSWORD_FLEET_02_B", "own")
    assert Passwords(command).for_pool(pool) == "own"
