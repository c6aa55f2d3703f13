"""Release profiles: each product the console supports, played by the
simulator as that product's XAPI, claiming exactly what it serves."""

import subprocess
import sys

import pytest
import XenAPI

from xstui.datamodel import absent_in, releases, removed_in
from xstui.sim.profiles import PROFILES
from xstui.sim.runner import start_simulator
from xstui.sim.scenario import ScenarioError


@pytest.fixture(params=sorted(PROFILES))
def profile_sim(request):
    running = start_simulator("demo", release=request.param, members=False, task_delay=0.01)
    yield PROFILES[request.param], running
    running.close()


def test_each_profile_claims_the_release_it_serves(profile_sim):
    profile, running = profile_sim
    session = XenAPI.Session(running.url)
    session.xenapi.login_with_password("root", running.password, "1.0", "xstui-test")
    try:
        host = session.xenapi.host.get_record(session.xenapi.session.get_this_host(session.handle))
        version = host["software_version"]
        assert (version["product_brand"], version["product_version"], version["xapi"]) == (
            profile.brand,
            profile.version,
            profile.xapi,
        )
        assert (int(host["API_version_major"]), int(host["API_version_minor"])) == (
            profile.api_version
        )
        methods = set(session.xenapi.system.listMethods())
        lacked = {a[:-2] for a in absent_in(profile.api) if a.endswith("()")}
        assert not lacked & methods  # what the release lacked is not offered
        # what it has is: one message of each release up to it, at least
        assert "host.get_record" in methods
    finally:
        session.xenapi.session.logout()


def test_the_newest_profile_is_the_newest_release():
    assert PROFILES["latest"].api == releases()[-1][0]
    assert (
        PROFILES["xcp-ng-8.2"].api == "stockholm" and PROFILES["xenserver-6.5"].api == "creedence"
    )


def test_removed_messages_answer_message_removed_and_fields_stay():
    """XAPI answers MESSAGE_REMOVED for a call it had once; a removed field
    (host_metrics.memory_free, "disabled in favour of RRD") stays in records."""
    assert "VDI.resize_online()" in removed_in("stockholm")
    assert "VDI.resize_online()" not in absent_in(releases()[-1][0])  # brought back
    assert "host_metrics.memory_free" not in absent_in("creedence")
    running = start_simulator("demo", release="xcp-ng-8.2", members=False, task_delay=0.01)
    try:
        session = XenAPI.Session(running.url)
        session.xenapi.login_with_password("root", running.password, "1.0", "xstui-test")
        vdi = session.xenapi.VDI.get_all()[0]
        with pytest.raises(XenAPI.Failure) as err:
            session.xenapi.VDI.resize_online(vdi, "1073741824")
        assert err.value.details[0] == "MESSAGE_REMOVED"
        metrics = session.xenapi.host_metrics.get_all_records()
        assert all("memory_free" in m for m in metrics.values())
        session.xenapi.session.logout()
    finally:
        running.close()


def test_an_unknown_release_is_one_line_listing_the_known():
    with pytest.raises(ScenarioError, match="known are xenserver-6.5, xenserver-7.1"):
        start_simulator("demo", release="xenserver-9")
    out = subprocess.run(
        [sys.executable, "-m", "xstui", "sim", "--release", "xenserver-9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "known are xenserver-6.5" in out.stderr


def test_the_cache_knows_what_the_release_does_not_report():
    from xstui.xapi.cache import Cache

    cache = Cache()
    assert cache.reports("host", "ssh_enabled")  # nothing seen yet: assume it does
    cache.replace(
        [
            {
                "class": "host",
                "ref": "OpaqueRef:h",
                "operation": "add",
                "snapshot": {"name_label": "a"},
            }
        ]
    )
    assert cache.reports("host", "name_label") and not cache.reports("host", "ssh_enabled")


@pytest.mark.parametrize(
    "release,ssh", [("xcp-ng-8.2", ("not reported by this release",)), ("latest", ("on", "off"))]
)
def test_a_field_the_release_lacks_is_not_reported_and_its_action_says_why(release, ssh):
    """On XCP-ng 8.2 the host has no ssh_enabled and no host.enable_ssh: the
    console says so rather than showing "SSH off" or failing with a raw error."""
    from tests.waiting import wait_for
    from xstui.areas import watched_types
    from xstui.services.host.access import SetSsh
    from xstui.services.host.facts import host_facts
    from xstui.xapi.connection import Connection
    from xstui.xapi.targets import parse_target

    running = start_simulator("demo", release=release, members=False, task_delay=0.01)
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    try:
        conn.login()
        conn.start_events()
        wait_for(lambda: conn.cache.table("host"))
        facts = dict(host_facts(conn.cache, running.sim.master))
        assert facts["SSH"] in ssh
        why = SetSsh.unavailable(conn)
        if release == "latest":
            assert why == ""
        else:
            assert why.startswith("XCP-ng 8.2.1 has no host.enable_ssh: ") and "dom0" in why
    finally:
        conn.close()
        running.close()


@pytest.mark.parametrize("release", sorted(PROFILES))
def test_the_cli_commands_on_every_release(release):
    """xstui status and xstui check against each release: an answer in
    words (check exits 1 when it finds something), never a raw XAPI error."""
    import os

    running = start_simulator("demo", release=release, task_delay=0.01)
    env = {**os.environ, "XSTUI_PASSWORD": running.password}
    try:
        for command in (["status"], ["check"], ["status", "--json"]):
            out = subprocess.run(
                [sys.executable, "-m", "xstui", command[0], running.url, *command[1:]],
                capture_output=True,
                text=True,
                timeout=120,
                stdin=subprocess.DEVNULL,
                env=env,
            )
            said = out.stdout + out.stderr
            assert out.returncode in (0, 1), said
            assert not any(raw in said for raw in ("MESSAGE_", "Traceback")), said
        assert (
            PROFILES[release].version
            in subprocess.run(
                [sys.executable, "-m", "xstui", "status", running.url],
                capture_output=True,
                text=True,
                timeout=120,
                stdin=subprocess.DEVNULL,
                env=env,
            ).stdout
        )
    finally:
        running.close()
