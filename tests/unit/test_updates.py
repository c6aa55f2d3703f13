"""Patching end to end over real HTTP, for each generation of the API: the
generation detected from the API (scenarios with api:, and the real dumps),
the per-host model, upload with a checksum, precheck failures in words, apply
to a host and to the pool, clean up, XenServer 8 repositories; the baseline."""

from __future__ import annotations

import copy
import hashlib
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.waiting import wait_for
from xstui.services.actions import InvalidInput, RunContext
from xstui.services.updates import actions as upd
from xstui.services.updates.baseline import BaselineError, drift, parse
from xstui.services.updates.cli import current_view
from xstui.services.updates.generation import PATCHES, REPOSITORIES, UPDATES, detect
from xstui.sim.messages._updates import write_update_file
from xstui.sim.runner import start_simulator
from xstui.sim.scenario import load_scenario

from ..conftest import shared_path

REPOSITORY = {
    "repository": {"name": "base", "url": "https://127.10.9.9/repository/"},
    "repository_updates": [
        {
            "id": "XSI-1501",
            "summary": "Xen security fix",
            "guidance": ["reboot_host"],
            "applied": ["xcp-a"],
        },
        {"id": "XSI-1502", "summary": "toolstack fix", "guidance": ["restart_toolstack"]},
    ],
}


def scenario(api: str = "", **extra) -> dict:
    """The demo pool, its hotfixes as ISOs to upload (pool_update): as
    Citrix Hypervisor 8.2 plays them, or as written for an ``api`` named;
    with ``extra`` (a product's own hotfixes, yum or a repository), those only."""
    sc = copy.deepcopy(load_scenario("demo"))
    sc.pop("standalone", None)
    if api:
        sc["api"] = api
    if extra:
        sc.pop("updates")
        sc.update(extra)
    else:
        sc["release"] = "citrix-hypervisor-8.2"
    return sc


@pytest.fixture
def pool_of():
    """A pool from a scenario, logged in with live events."""
    from xstui.areas import watched_types
    from xstui.xapi.connection import Connection
    from xstui.xapi.targets import parse_target

    opened = []

    def make(sc: dict | None = None, dump: str | None = None, api: str = ""):
        running = start_simulator(sc or scenario(), dump=dump, task_delay=0.01, api=api)
        running.sim.time_scale = 0.05
        conn = Connection(
            parse_target(running.url), "root", running.password, watch=watched_types()
        )
        conn.login()
        conn.start_events()
        wait_for(lambda: conn.cache.loads > 0)
        opened.append((running, conn))
        return running, conn

    yield make
    for running, conn in opened:
        conn.close()
        running.close()


def run(conn, action) -> str:
    return action.execute(RunContext(conn))


@pytest.mark.parametrize(
    ("api", "generation"),
    [("creedence", PATCHES), ("ely", UPDATES), ("stockholm", UPDATES), ("", UPDATES)],
)
def test_generation_comes_from_the_api(pool_of, api, generation):
    _, conn = pool_of(scenario(api))
    assert detect(conn) is generation
    view = current_view(conn)
    c = view.host_named("xcp-c")
    assert "XS82ECU1033" in c.missing and "XS82ECU1001" in c.applied
    assert view.hosts[0].is_master


def test_older_releases_lack_what_came_later(pool_of):
    running, conn = pool_of(scenario("creedence"))
    from xstui.xapi.connection import XapiFailure

    with pytest.raises(XapiFailure) as unknown:
        conn.call("pool_update.get_all")
    assert unknown.value.code == "MESSAGE_METHOD_UNKNOWN"
    record = conn.call("host.get_record", conn.this_host)
    assert "updates" not in record and "patches" in record
    assert not conn.has_method("Certificate.get_all")


def test_xenserver_8_uses_repositories(pool_of):
    _, conn = pool_of(scenario(**REPOSITORY))
    assert detect(conn) is REPOSITORIES
    view = current_view(conn)
    a, b = view.host_named("xcp-a"), view.host_named("xcp-b")
    assert a.missing == ("XSI-1502",) and b.missing == ("XSI-1501", "XSI-1502")
    assert view.hash
    action = upd.ApplyUpdate(view, "", b.ref)
    assert "host-apply-updates" in action.plan().xe[0]
    assert "Reboot the host" in " ".join(action.plan().impact)
    run(conn, action)
    wait_for(
        lambda: (
            set(conn.cache.get("host", b.ref).pending_guidances)
            == {"reboot_host", "restart_toolstack"}
        ),
    )
    after = current_view(conn)
    assert after.host_named("xcp-b").missing == ()
    assert after.host_named("xcp-b").pending == ("reboot_host", "restart_toolstack")


YUM = {
    "yum_updates": [
        {
            "name": "xen-hypervisor",
            "version": "4.17.5",
            "release": "3.xcpng8.3",
            "applied": ["xcp-a"],
        },
        {"name": "xapi-core", "version": "25.6.0", "release": "1.xcpng8.3"},
        {
            "name": "curl",
            "version": "8.9.1",
            "release": "2.xcpng8.3",
            "applied": ["xcp-a", "xcp-b"],
        },
    ]
}


def test_xcp_ng_updates_through_the_updater_plugin(pool_of):
    from xstui.services.updates.generation import YUM as YUM_GENERATION
    from xstui.services.updates.rolling import RollingUpdate, prepare

    running, conn = pool_of(scenario(**YUM))
    assert detect(conn) is YUM_GENERATION
    view = current_view(conn)
    a, c = view.host_named("xcp-a"), view.host_named("xcp-c")
    assert a.missing == ("xapi-core",) and c.missing == ("curl", "xapi-core", "xen-hypervisor")
    assert view.update("curl").guidance == ("restartHost",)  # the plugin cannot tell
    assert all(v.ok for v in upd.precheck(conn, view, "", [a.ref, c.ref]))
    action = upd.ApplyUpdate(view, "", c.ref)
    assert "plugin=updater.py fn=update" in action.plan().xe[0]
    run(conn, action)
    view = current_view(conn)
    assert view.host_named("xcp-c").missing == ()
    assert view.host_named("xcp-c").pending == ("restartHost",)  # installed since its boot
    assert sorted(n for w, h, n in running.sim.records if h == "xcp-c") == [
        "curl",
        "xapi-core",
        "xen-hypervisor",
    ]
    # the rolling update takes the rest; xcp-c's pending reboot is done on the way
    running.sim.reboot_seconds = 20
    prep = prepare(conn, view)
    run(conn, RollingUpdate(conn.cache, prep, "shut them down"))
    view = current_view(conn)
    assert all(not h.missing and not h.pending for h in view.hosts)
    reboots = sorted(h for w, h, _ in running.sim.records if w == "reboot")
    assert reboots == ["xcp-a", "xcp-b", "xcp-c"]  # after yum, every host asks for one


def test_xenserver_has_no_updater_plugin(pool_of):
    _, conn = pool_of()
    from xstui.xapi.connection import XapiFailure

    with pytest.raises(XapiFailure) as missing:
        conn.call("host.call_plugin", conn.this_host, "updater.py", "check_update", {})
    assert missing.value.code == "XENAPI_MISSING_PLUGIN"


# updatesState.xml is a XenServer 5.5.900 database (a 5.6 beta): its own
# release has no event.from, which the console needs (6.0 and later); its
# hotfixes are played on XenServer 6.0's API
FIVE_SIX_AS_SIX = "boston"


def test_generation_of_the_real_dumps(pool_of):
    for name, api in (("updatesState.xml", FIVE_SIX_AS_SIX), ("boston-db.xml", "")):
        _, conn = pool_of(dump=str(shared_path("dumps", name)), api=api)
        assert detect(conn) is PATCHES
    view = current_view(conn)
    assert view.generation is PATCHES and view.hosts


def test_updates_state_dump_lists_applied_and_missing(pool_of):
    _, conn = pool_of(dump=str(shared_path("dumps", "updatesState.xml")), api=FIVE_SIX_AS_SIX)
    view = current_view(conn)
    (host,) = view.hosts
    assert len(view.updates) == 8
    assert len(host.applied) + len(host.missing) == 8 and host.applied and host.missing


def test_upload_precheck_apply_and_clean(pool_of, tmp_path):
    running, conn = pool_of()
    path = tmp_path / "XS82ECU1050.iso"
    write_update_file(path, "XS82ECU1050", 3 << 20, guidance=("restartHost",))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    view = current_view(conn)
    srs = upd.upload_srs(conn.cache)
    assert srs[0] == "NFS VM store"
    with pytest.raises(InvalidInput):
        upd.UploadUpdate(conn.cache, view, str(tmp_path / "missing.iso"), srs[0])
    action = upd.UploadUpdate(conn.cache, view, str(path), srs[0])
    assert action.plan().xe[0].startswith("xe update-upload")
    outcome = run(conn, action)
    assert "XS82ECU1050" in outcome and sha in outcome
    view = current_view(conn)
    new = view.update("XS82ECU1050")
    assert new is not None and new.uploaded and new.guidance == ("restartHost",)
    # a second upload of the same update is refused by XAPI, in words, and its disk goes
    disks = len(conn.cache.table("vdi"))
    from xstui.services.actions import ActionFailed

    with pytest.raises(ActionFailed) as again:
        run(conn, upd.UploadUpdate(conn.cache, view, str(path), srs[0]))
    assert "UPDATE_ALREADY_EXISTS" in str(again.value) or "already" in str(again.value)
    wait_for(lambda: len(conn.cache.table("vdi")) == disks)
    # precheck: passes everywhere; apply on one host, then the pool
    verdicts = upd.precheck(conn, view, "XS82ECU1050", [h.ref for h in view.hosts])
    assert all(v.ok for v in verdicts)
    c = view.host_named("xcp-c")
    result = run(conn, upd.ApplyUpdate(view, "XS82ECU1050", c.ref))
    assert "Reboot the host" in result
    assert ("apply", "xcp-c", "XS82ECU1050") in running.sim.records
    view = current_view(conn)
    assert view.host_named("xcp-c").pending == ("restartHost",)
    with pytest.raises(InvalidInput):
        upd.ApplyUpdate(view, "XS82ECU1050", c.ref)  # applied already: refused before any call
    run(conn, upd.ApplyToPool(view, "XS82ECU1050"))
    view = current_view(conn)
    assert all("XS82ECU1050" in h.applied for h in view.hosts)
    run(conn, upd.CleanUpdate(view, "XS82ECU1050"))
    wait_for(lambda: not current_view(conn).update("XS82ECU1050").uploaded)


def test_precheck_failures_are_explained(pool_of, tmp_path):
    sc = scenario()
    sc["updates"][3]["precheck_fails"] = {"xcp-b": "UPDATE_PRECHECK_FAILED_OUT_OF_SPACE"}
    _, conn = pool_of(sc)
    view = current_view(conn)
    name = sc["updates"][3]["name"]
    verdicts = {
        v.host: v
        for v in upd.precheck(
            conn, view, name, [h.ref for h in view.hosts if name not in h.applied]
        )
    }
    assert verdicts["xcp-c"].ok and not verdicts["xcp-b"].ok
    assert "space" in verdicts["xcp-b"].text.lower()
    # a prerequisite missing
    path = tmp_path / "next.iso"
    write_update_file(path, "XS82ECU1052", 1 << 20, requires=("XS82ECU1050",))
    run(conn, upd.UploadUpdate(conn.cache, view, str(path), "NFS VM store"))
    view = current_view(conn)
    (v, *_) = upd.precheck(conn, view, "XS82ECU1052", [view.hosts[0].ref])
    assert not v.ok and "XS82ECU1050" in v.text


def test_patches_generation_upload_and_apply(pool_of, tmp_path):
    running, conn = pool_of(scenario("creedence"))
    path = tmp_path / "XS65E020.xsupdate"
    write_update_file(path, "XS65E020", 1 << 20, guidance=("restartXAPI",))
    view = current_view(conn)
    run(conn, upd.UploadUpdate(conn.cache, view, str(path)))
    wait_for(lambda: current_view(conn).update("XS65E020") is not None)
    view = current_view(conn)
    a = view.host_named("xcp-a")
    run(conn, upd.ApplyUpdate(view, "XS65E020", a.ref))
    wait_for(lambda: "XS65E020" in current_view(conn).host_named("xcp-a").applied, 5)


def test_invalid_file_is_refused_in_words(pool_of, tmp_path):
    _, conn = pool_of()
    # an ISO (so the form takes it: services.updates.actions.update_file)
    # holding no update.xml: XAPI refuses it
    junk = tmp_path / "junk.iso"
    data = bytearray(b"not an update" * 4000)
    data[upd.ISO_AT : upd.ISO_AT + 5] = upd.ISO_MAGIC
    junk.write_bytes(bytes(data))
    from xstui.services.actions import ActionFailed

    disks = len(conn.cache.table("vdi"))
    with pytest.raises(ActionFailed) as refused:
        run(conn, upd.UploadUpdate(conn.cache, current_view(conn), str(junk), "NFS VM store"))
    assert "not a valid update" in str(refused.value)
    assert refused.value.undone == 1  # the disk it went to is removed
    wait_for(lambda: len(conn.cache.table("vdi")) == disks)


# the baseline -----------------------------------------------------------------------------
def test_baseline_drift(pool_of):
    _, conn = pool_of()
    view = current_view(conn)
    base = parse(
        "require: [XS82ECU1001, XS82ECU1033]\nallow: [XS82ECU1019]\nhosts:\n  xcp-a: {allow: [XS82ECU1041]}\n",
        "b.yaml",
    )
    found = {d.host: d for d in drift(base, view, "Demo Pool")}
    assert found["xcp-a"].compliant
    assert found["xcp-c"].missing == ("XS82ECU1033",)
    assert found["xcp-b"].unexpected == ()
    with pytest.raises(BaselineError) as other_pool:
        drift(parse("pool: Other\n", "b.yaml"), view, "Demo Pool")
    assert "Other" in str(other_pool.value)
    with pytest.raises(BaselineError) as unknown:
        drift(parse("hosts:\n  nosuch: {require: [x]}\n", "b.yaml"), view, "Demo Pool")
    assert "b.yaml line 2, hosts.nosuch" in str(unknown.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("require: [a\n", "b.yaml line 2: not valid YAML"),
        ("requires: [a]\n", "b.yaml line 1, requires: unknown key"),
        ("hosts:\n  x:\n    require: a\n", "b.yaml line 3, hosts.x.require: expected a list"),
        ("- a\n", "a baseline is a YAML mapping"),
    ],
)
def test_bad_baselines_name_file_line_and_key(text, words):
    with pytest.raises(BaselineError) as bad:
        parse(text, "b.yaml")
    assert words in str(bad.value)


TOKENS = [*"ab:-[]{}\n #&*!|>'\"?,%@`<=1", "  ", "require", "allow", "hosts", "pool"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_any_text_is_a_baseline_or_a_message(text):
    try:
        parse(text, "b.yaml")
    except BaselineError as exc:
        assert str(exc).startswith("b.yaml")


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.text(max_size=8) | st.sampled_from(["require", "allow", "hosts", "pool"]),
                inner,
                max_size=3,
            )
        ),
        max_leaves=10,
    )
)
def test_any_yaml_value_is_a_baseline_or_a_message(value):
    import yaml

    try:
        parse(yaml.safe_dump(value), "b.yaml")
    except BaselineError as exc:
        assert str(exc).startswith("b.yaml")


def test_health_flags_missing_patches_and_a_pending_reboot(pool_of, tmp_path):
    from xstui.services.updates.health import health

    _, conn = pool_of(scenario("creedence"))
    flags = health(conn.cache, time.time())
    assert [f.text for f in flags if f.severity == "warning"] == []
    assert "Update XS82ECU1033 not applied on xcp-c" in [f.text for f in flags]
    view = current_view(conn)
    c = view.host_named("xcp-c")
    run(conn, upd.ApplyUpdate(view, "XS82ECU1033", c.ref))  # restartHost, applied after boot
    wait_for(
        lambda: (
            "xcp-c waits for the reboot an update asked for"
            in [f.text for f in health(conn.cache, time.time())]
        ),
    )


def test_rolling_update_with_ha(pool_of):
    """HA stays on when it can spare a host (the plan says what it costs);
    when its plan covers no failure, the rolling update is refused before
    any call, in words."""
    from xstui.services.updates.rolling import RollingUpdate, prepare

    sc = load_scenario("ha-demo")
    sc.pop("standalone", None)
    _, conn = pool_of(sc)
    prep = prepare(conn, current_view(conn))
    plan = RollingUpdate(conn.cache, prep, "shut them down").plan()
    assert any("HA stays on" in line for line in plan.impact)
    sc = copy.deepcopy(sc)
    sc["pool"]["ha"] = {**sc["pool"]["ha"], "failures_to_tolerate": 0, "plan_exists_for": 0}
    running, conn = pool_of(sc)
    prep = prepare(conn, current_view(conn))
    with pytest.raises(InvalidInput) as refused:
        RollingUpdate(conn.cache, prep, "shut them down")
    assert "HA is on and the pool cannot tolerate a host being down" in str(refused.value)
    assert not running.sim.records  # nothing was applied or rebooted


def test_rolling_update_moves_the_vms_back(pool_of):
    """Issue 27, item 13: as XenCenter does, the VMs moved off a host come
    back to it once it is updated and back; one stopped meanwhile, one moved
    by someone else and one that cannot go back stay where they are, each
    said in words."""
    from xstui.services.updates.rolling import RollingUpdate, prepare

    running, conn = pool_of()
    running.sim.reboot_seconds = 20  # x time_scale 0.05: 1 s away
    st = running.sim.store

    def vm(name: str) -> str:
        return st.find_one("VM", name_label=name)

    def host_of(name: str) -> str:
        return st.get("host", st.get("VM", vm(name))["resident_on"])["name_label"]

    action = RollingUpdate(conn.cache, prepare(conn, current_view(conn)), "shut them down")
    assert any("are moved back once the host is updated" in i for i in action.plan().impact)
    assert any(x.startswith("xe vm-migrate uuid=<vm> host-uuid=<host>") for x in action.plan().xe)
    meddled, notes, boards = [], [], []

    def note(text: str) -> None:
        """Once xcp-c is back from its reboot (its VMs still away), an admin meddles."""
        notes.append(text)
        boards.append(action.board())
        if text.startswith("xcp-c (3/3): back after") and not meddled:
            meddled.append(text)
            conn.call("VM.hard_shutdown", vm("fileserver"))
            other = next(h for h in ("xcp-a", "xcp-b") if h != host_of("vpn-gw"))
            conn.call("VM.pool_migrate", vm("vpn-gw"), st.find_one("host", name_label=other), {})
            conn.call("VM.add_to_blocked_operations", vm("app-02"), "pool_migrate", "audit")
            wait_for(
                lambda: "pool_migrate" in conn.cache.get("vm", vm("app-02")).blocked_operations
            )

    outcome = action.execute(RunContext(conn, note=note))
    assert meddled
    assert host_of("web-03") == "xcp-c"  # moved back
    assert {host_of(n) for n in ("build-agent-2", "sandbox")} == {"xcp-c"}  # started again
    assert st.get("VM", vm("fileserver"))["power_state"] == "Halted"  # not started by us
    moved_to = host_of("vpn-gw")
    assert moved_to != "xcp-c" and host_of("app-02") != "xcp-c"
    assert "1 VM(s) moved back where they were." in outcome
    assert "fileserver (halted meanwhile)" in outcome
    assert f"vpn-gw (moved by someone else, to {moved_to})" in outcome
    assert "app-02 (cannot go back: pool migrate is blocked on this VM (audit))" in outcome
    assert any(n == "xcp-c (3/3): moving web-03 back" for n in notes)
    assert any(n.startswith("xcp-c (3/3): fileserver stays where it is") for n in notes)
    # the progress dialog's table: each host, how far, and its VMs
    assert ("xcp-c", "rebooting", "4 away") in boards[notes.index(meddled[0])][1]
    assert action.board()[1][-1] == ("xcp-c", "done", "1 back, 3 left")
