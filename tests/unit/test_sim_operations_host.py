"""allowed_operations and current_operations of hosts, the pool and networks,
as XAPI computes them: each rule against the state that triggers it (the
store set as XAPI's own unit tests set the database), then end to end with
the stock XenAPI client over real HTTP: refusals with XAPI's error that
change nothing, operations visible while they run, and allowed_operations
kept current through event.from."""

from __future__ import annotations

import copy
from contextlib import contextmanager

import pytest
import XenAPI

from tests.waiting import wait_for
from xstui.sim import operations
from xstui.sim.runner import make_store, start_simulator
from xstui.sim.scenario import load_scenario

FRESH_HOST = ["provision", "evacuate", "vm_start", "vm_resume", "vm_migrate", "enable"]
POOL_ALL = [
    "ha_enable",
    "ha_disable",
    "cluster_create",
    "designate_new_master",
    "tls_verification_enable",
    "configure_repositories",
    "sync_updates",
    "sync_bundle",
    "apply_updates",
    "cert_refresh",
    "exchange_certificates_on_join",
    "exchange_ca_certificates_on_join",
    "copy_primary_host_certs",
    "eject",
    "get_updates",
    "exchange_crls_on_join",
]
BLOCKING = POOL_ALL[:9]


@pytest.fixture
def store():
    return make_store("demo")


def host(store, name="xcp-b") -> str:
    return store.find_one("host", name_label=name)


def pool(store) -> str:
    return next(iter(store.table("pool")))


def allowed(store, cls, ref) -> list[str]:
    return store.get(cls, ref)["allowed_operations"]


def error(store, cls, ref, op) -> list[str] | None:
    problem = operations.error(store, cls, ref, op)
    return None if problem is None else problem.description


def running(store, cls, ref, op, task="OpaqueRef:task-1") -> None:
    """The object as XAPI's with_*_operation leaves it while ``op`` runs."""
    current = store.get(cls, ref)["current_operations"]
    store.set(cls, ref, current_operations={**current, task: op})


# host: xapi_host_helpers.ml valid_operations ------------------------------------------
def test_an_enabled_live_host(store):
    """xapi_host_helpers.ml: disabled before reboot, shutdown, apply_updates;
    power_on only when host_metrics.live is false."""
    b = host(store)
    assert allowed(store, "host", b) == FRESH_HOST
    for op in ("reboot", "shutdown", "apply_updates"):
        assert error(store, "host", b, op) == ["HOST_NOT_DISABLED"]
    assert error(store, "host", b, "power_on") == ["HOST_IS_LIVE", b]


def test_a_disabled_host_may_go_down(store):
    """xapi_host_helpers.ml: "The host must be disabled before reboots or shutdowns"."""
    b = host(store)
    store.set("host", b, enabled=False)
    assert allowed(store, "host", b) == [
        "provision",
        "evacuate",
        "shutdown",
        "reboot",
        "vm_start",
        "vm_resume",
        "vm_migrate",
        "apply_updates",
        "enable",
    ]


def test_power_on_needs_a_dead_host_with_a_power_on_mode(store):
    """xapi_host_helpers.ml: HOST_IS_LIVE, then HOST_POWER_ON_MODE_DISABLED;
    the host follows its metrics (reached_by host_metrics)."""
    b = host(store)
    store.set("host_metrics", store.get("host", b)["metrics"], live=False)
    assert "power_on" in allowed(store, "host", b)  # the demo's hosts have a BMC (iLO)
    store.set("host", b, power_on_mode="")
    assert "power_on" not in allowed(store, "host", b)
    assert error(store, "host", b, "power_on") == ["HOST_POWER_ON_MODE_DISABLED"]


# (running, refused, allowed meanwhile) from valid_operations: creating and
# removing VMs exclude each other; reboot, shutdown and apply_updates exclude
# each other (and apply_updates enable); one provision at a time
CONCURRENCY = [
    ("evacuate", ["provision", "vm_resume", "vm_migrate"], ["evacuate", "vm_start", "enable"]),
    ("vm_migrate", ["evacuate", "reboot", "shutdown"], ["provision", "vm_migrate", "vm_start"]),
    ("vm_resume", ["evacuate", "reboot", "shutdown"], ["vm_resume", "apply_updates", "enable"]),
    ("provision", ["provision", "evacuate", "reboot", "shutdown"], ["vm_migrate", "enable"]),
    ("reboot", ["shutdown", "apply_updates", "vm_resume", "vm_migrate", "provision"], ["reboot"]),
    ("shutdown", ["reboot", "apply_updates", "vm_migrate"], ["shutdown", "enable", "vm_start"]),
    ("apply_updates", ["reboot", "shutdown", "enable"], ["apply_updates", "evacuate"]),
    ("vm_start", [], FRESH_HOST + ["reboot", "shutdown", "apply_updates"]),
]


@pytest.mark.parametrize(("op", "refused", "still"), CONCURRENCY)
def test_what_a_running_operation_rules_out(store, op, refused, still):
    """xapi_host_helpers.ml valid_operations: OTHER_OPERATION_IN_PROGRESS
    names the operation that rules it out and its task."""
    b = host(store)
    store.set("host", b, enabled=False)
    running(store, "host", b, op)
    for other in refused:
        assert error(store, "host", b, other) == [
            "OTHER_OPERATION_IN_PROGRESS",
            "host",
            b,
            op,
            "OpaqueRef:task-1",
        ], other
        assert other not in allowed(store, "host", b)
    assert set(still) <= set(allowed(store, "host", b))


def test_the_first_running_operation_is_named(store):
    """xapi_host_helpers.ml: the creating/removing rule comes before the
    reboot/shutdown one, each naming the first such operation running."""
    b = host(store)
    store.set("host", b, enabled=False)
    running(store, "host", b, "vm_migrate", "OpaqueRef:t1")
    running(store, "host", b, "apply_updates", "OpaqueRef:t2")
    assert error(store, "host", b, "reboot") == [
        "OTHER_OPERATION_IN_PROGRESS",
        "host",
        b,
        "vm_migrate",
        "OpaqueRef:t1",
    ]
    assert error(store, "host", b, "enable")[3:] == ["apply_updates", "OpaqueRef:t2"]


def test_a_rolling_upgrade_lists_miamis_operations_only(store):
    """xapi_host_helpers.ml update_allowed_operations (CA-18377): during a
    rolling pool upgrade only host_operations_miami are listed; the check
    itself (assert_operation_valid) is unchanged."""
    b, p = host(store), pool(store)
    store.set("pool", p, other_config={"rolling_upgrade_in_progress": "true"})
    assert allowed(store, "host", b) == ["provision", "evacuate"]
    assert error(store, "host", b, "vm_start") is None
    store.set("pool", p, other_config={})
    assert allowed(store, "host", b) == FRESH_HOST


def test_a_recovering_clustered_sr_keeps_every_host_up(store):
    """xapi_host_helpers.ml: a plugged clustered SR with a health-check task
    ("SR Recovering", its description the SR) refuses shutdown, reboot and
    apply_updates on every host, CLUSTERED_SR_DEGRADED naming the SR."""
    b, c = host(store), host(store, "xcp-c")
    for h in (b, c):
        store.set("host", h, enabled=False)
    sr = store.find_one("SR", name_label="NFS VM store")
    store.set("SR", sr, clustered=True)
    assert "reboot" in allowed(store, "host", b)  # clustered, not recovering
    task = store.create("task", {"name_label": "SR Recovering", "name_description": sr})
    for h in (b, c):
        for op in ("shutdown", "reboot", "apply_updates"):
            assert error(store, "host", h, op) == ["CLUSTERED_SR_DEGRADED", sr]
            assert op not in allowed(store, "host", h)
        assert "evacuate" in allowed(store, "host", h)
    store.destroy("task", task)
    assert "reboot" in allowed(store, "host", c)


# pool: xapi_pool_helpers.ml compute_valid_operations ------------------------------------
def test_a_pool_without_ha_or_cluster(store):
    """xapi_pool_helpers.ml: everything but ha_disable (HA_NOT_ENABLED);
    test_clustering_allowed_operations.ml: cluster_create allowed."""
    p = pool(store)
    assert allowed(store, "pool", p) == [op for op in POOL_ALL if op != "ha_disable"]
    assert error(store, "pool", p, "ha_disable") == ["HA_NOT_ENABLED"]


def test_a_pool_with_ha(store):
    """xapi_pool_helpers.ml: with HA on, not ha_enable nor TLS verification
    (HA_IS_ENABLED), nor a cluster (INCOMPATIBLE_CLUSTER_STACK_ACTIVE)."""
    p = pool(store)
    store.set("pool", p, ha_enabled=True, ha_cluster_stack="xhad")
    assert error(store, "pool", p, "ha_enable") == ["HA_IS_ENABLED"]
    assert error(store, "pool", p, "tls_verification_enable") == ["HA_IS_ENABLED"]
    assert error(store, "pool", p, "cluster_create") == [
        "INCOMPATIBLE_CLUSTER_STACK_ACTIVE",
        "xhad",
    ]
    assert "ha_disable" in allowed(store, "pool", p)


def test_cluster_create_when_a_cluster_exists(store):
    """test_clustering_allowed_operations.ml: not when a cluster exists
    (reached_by Cluster), again once it is gone."""
    p = pool(store)
    cluster = store.create("Cluster", {})
    assert error(store, "pool", p, "cluster_create") == ["CLUSTER_ALREADY_EXISTS"]
    assert "cluster_create" not in allowed(store, "pool", p)
    store.destroy("Cluster", cluster)
    assert "cluster_create" in allowed(store, "pool", p)


def test_a_rolling_upgrade_rules_out_clusters_and_tls(store):
    """xapi_pool_helpers.ml: NOT_SUPPORTED_DURING_UPGRADE for cluster_create
    and tls_verification_enable (HA_IS_ENABLED first when HA is on)."""
    p = pool(store)
    store.set("pool", p, other_config={"rolling_upgrade_in_progress": "true"})
    assert error(store, "pool", p, "cluster_create") == ["NOT_SUPPORTED_DURING_UPGRADE"]
    assert error(store, "pool", p, "tls_verification_enable") == ["NOT_SUPPORTED_DURING_UPGRADE"]
    store.set("pool", p, ha_enabled=True)
    assert error(store, "pool", p, "tls_verification_enable") == ["HA_IS_ENABLED"]


@pytest.mark.parametrize(
    ("op", "code"),
    [
        ("ha_enable", "HA_ENABLE_IN_PROGRESS"),
        ("designate_new_master", "DESIGNATE_NEW_MASTER_IN_PROGRESS"),
        ("apply_updates", "APPLY_UPDATES_IN_PROGRESS"),
    ],
)
def test_a_blocking_operation_blocks_everything(store, op, code):
    """xapi_pool_helpers.ml: the blocking ones get its *_IN_PROGRESS, the
    waiting ones OTHER_OPERATION_IN_PROGRESS naming the pool alone;
    test_clustering_allowed_operations.ml: no cluster_create during ha_enable."""
    p = pool(store)
    running(store, "pool", p, op)
    assert allowed(store, "pool", p) == []
    for other in BLOCKING:
        assert error(store, "pool", p, other) == [code]
    assert error(store, "pool", p, "eject") == ["OTHER_OPERATION_IN_PROGRESS", "pool", p]


def test_a_waiting_operation_is_named(store):
    """xapi_pool_helpers.ml: a waiting operation running refuses every
    operation, naming itself and its task."""
    p = pool(store)
    running(store, "pool", p, "eject")
    for op in POOL_ALL:
        assert error(store, "pool", p, op) == [
            "OTHER_OPERATION_IN_PROGRESS",
            "pool",
            p,
            "eject",
            "OpaqueRef:task-1",
        ]
    running(store, "pool", p, "sync_updates", "OpaqueRef:task-2")
    assert error(store, "pool", p, "ha_enable") == ["SYNC_UPDATES_IN_PROGRESS"]
    assert error(store, "pool", p, "get_updates")[3:] == ["eject", "OpaqueRef:task-1"]


def test_a_pending_secret_rotation_refuses_without_changing_the_list(store):
    """xapi_pool_helpers.ml: assert_operation_valid refuses every operation
    while is_psr_pending; update_allowed_operations does not look at it."""
    p = pool(store)
    before = allowed(store, "pool", p)
    store.set("pool", p, is_psr_pending=True)
    assert error(store, "pool", p, "eject") == ["POOL_SECRET_ROTATION_PENDING"]
    assert allowed(store, "pool", p) == before


# network: xapi_network.ml ------------------------------------------------------------------
def test_networks_never_list_an_operation(store):
    """xapi_network.ml creates networks with empty allowed_operations and
    current_operations, and nothing in XAPI changes them."""
    net = store.find_one("network", name_label="Backup")
    assert allowed(store, "network", net) == []
    store.set("network", net, MTU=9000)
    assert allowed(store, "network", net) == []
    assert error(store, "network", net, "attaching") is None


# end to end, with the stock XenAPI client ------------------------------------------------
REPOSITORY = {
    "repository": {"name": "base", "url": "https://127.10.9.9/repository/"},
    "repository_updates": [{"id": "XSI-1502", "summary": "fix", "guidance": ["restart_toolstack"]}],
}


@pytest.fixture
def pool_sim():
    """The demo pool with its VMs on shared storage only (every host can be
    evacuated), updated from a repository."""
    sc = copy.deepcopy(load_scenario("demo"))
    sc.pop("standalone", None)
    sc["vms"] = [vm for vm in sc["vms"] if not vm[6].startswith("Local")]
    sc.update(REPOSITORY)
    running = start_simulator(sc, task_delay=0.01)
    running.sim.time_scale = 0.05
    yield running
    running.close()


@pytest.fixture
def x(pool_sim):
    """The stock XenAPI client, logged in."""
    session = XenAPI.Session(pool_sim.url)
    session.xenapi.login_with_password("root", pool_sim.password, "1.0", "xstui-tests")
    return session.xenapi


@contextmanager
def slow(running):
    """Calls started in the block take long enough to be seen running (a
    call's pace is set when it starts working); brisk again after."""
    running.sim.time_scale = 4.0
    try:
        yield
    finally:
        running.sim.time_scale = 0.05


def refused(call, *args) -> list[str]:
    with pytest.raises(XenAPI.Failure) as failure:
        call(*args)
    return failure.value.details


def finished(x, task: str) -> str:
    wait_for(lambda: x.task.get_status(task) != "pending", what=f"{task} to finish")
    return x.task.get_status(task)


def test_an_evacuation_and_an_arriving_vm_exclude_each_other(pool_sim, x):
    """message_forwarding.ml: Host.evacuate runs as the host's evacuate,
    VM.pool_migrate as vm_migrate on the target (allocate_vm_to_host);
    xapi_host_helpers.ml: each refuses the other. current_operations shows
    the Async task while it runs; the refused call changes nothing."""
    b = x.host.get_by_name_label("xcp-b")[0]
    web = x.VM.get_by_name_label("web-01")[0]
    where = x.VM.get_resident_on(web)
    with slow(pool_sim):
        task = x.Async.host.evacuate(b)
        wait_for(lambda: x.host.get_current_operations(b) == {task: "evacuate"}, what="evacuate")
        ops = x.host.get_allowed_operations(b)
        assert "evacuate" in ops and "vm_migrate" not in ops and "vm_resume" not in ops
        assert refused(x.VM.pool_migrate, web, b, {}) == [
            "OTHER_OPERATION_IN_PROGRESS",
            "host",
            b,
            "evacuate",
            task,
        ]
        assert x.VM.get_resident_on(web) == where and x.VM.get_current_operations(web) == {}
    assert finished(x, task) == "success"
    assert x.host.get_current_operations(b) == {}
    assert x.host.get_allowed_operations(b) == FRESH_HOST

    with slow(pool_sim):
        moving = x.Async.VM.pool_migrate(web, b, {})
        wait_for(lambda: x.host.get_current_operations(b) == {moving: "vm_migrate"})
        assert refused(x.host.evacuate, b) == [
            "OTHER_OPERATION_IN_PROGRESS",
            "host",
            b,
            "vm_migrate",
            moving,
        ]
    assert finished(x, moving) == "success"
    assert x.VM.get_resident_on(web) == b and x.host.get_current_operations(b) == {}


def test_a_vm_starting_is_seen_on_its_host(pool_sim, x):
    """message_forwarding.ml VM.start_on: vm_start on the host meanwhile;
    VM.start_on refuses a host being evacuated (HOST_EVACUATE_IN_PROGRESS)."""
    a, c = x.host.get_by_name_label("xcp-a")[0], x.host.get_by_name_label("xcp-c")[0]
    vm = x.VM.get_by_name_label("backup-proxy")[0]
    with slow(pool_sim):
        task = x.Async.VM.start_on(vm, a, False, False)
        wait_for(lambda: x.host.get_current_operations(a) == {task: "vm_start"})
        evacuating = x.Async.host.evacuate(c)
        wait_for(lambda: evacuating in x.host.get_current_operations(c))
        other = x.VM.get_by_name_label("legacy-erp")[0]
        assert refused(x.VM.start_on, other, c, False, False) == ["HOST_EVACUATE_IN_PROGRESS", c]
        assert x.VM.get_power_state(other) == "Halted"
    assert finished(x, task) == "success" and finished(x, evacuating) == "success"
    assert x.VM.get_resident_on(vm) == a and x.host.get_current_operations(a) == {}


def test_evacuations_at_once_are_not_refused_by_the_host(pool_sim, x):
    """xapi_host_helpers.ml: evacuate only excludes what brings VMs
    (provision, vm_resume, vm_migrate), not another evacuate."""
    c = x.host.get_by_name_label("xcp-c")[0]
    with slow(pool_sim):
        first = x.Async.host.evacuate(c)
        wait_for(lambda: first in x.host.get_current_operations(c), what="evacuate")
        assert "evacuate" in x.host.get_allowed_operations(c)
        second = x.Async.host.evacuate(c)
    assert finished(x, first) == "success" and finished(x, second) == "success"
    assert x.host.get_current_operations(c) == {}


def test_applying_updates_holds_the_pool_and_the_host(pool_sim, x):
    """xapi_host.ml apply_updates: the pool's apply_updates (blocking: another
    host's apply, a sync, HA wait, APPLY_UPDATES_IN_PROGRESS), the host
    disabled, then its own apply_updates (no reboot, shutdown or enable:
    OTHER_OPERATION_IN_PROGRESS); refusals change nothing."""
    p = x.pool.get_all()[0]
    a, b = x.host.get_by_name_label("xcp-a")[0], x.host.get_by_name_label("xcp-b")[0]
    hash_ = x.pool.sync_updates(p, False, "", "")
    with slow(pool_sim):
        task = x.Async.host.apply_updates(b, hash_)
        wait_for(lambda: x.host.get_current_operations(b) == {task: "apply_updates"})
        assert x.pool.get_current_operations(p) == {task: "apply_updates"}
        assert x.pool.get_allowed_operations(p) == []
        assert x.host.get_enabled(b) is False
        busy = ["OTHER_OPERATION_IN_PROGRESS", "host", b, "apply_updates", task]
        for call in (x.host.reboot, x.host.shutdown, x.host.enable):
            assert refused(call, b) == busy
        assert refused(x.host.apply_updates, a, hash_) == ["APPLY_UPDATES_IN_PROGRESS"]
        assert x.host.get_enabled(a) is True and x.host.get_current_operations(a) == {}
        assert refused(x.pool.sync_updates, p, False, "", "") == ["APPLY_UPDATES_IN_PROGRESS"]
        assert refused(x.pool.enable_ha, [], {}) == ["APPLY_UPDATES_IN_PROGRESS"]
        assert x.pool.get_ha_enabled(p) is False
    assert finished(x, task) == "success"
    assert x.pool.get_current_operations(p) == {} and x.host.get_current_operations(b) == {}
    assert "ha_enable" in x.pool.get_allowed_operations(p)
    assert "reboot" in x.host.get_allowed_operations(b)  # left disabled, as XAPI leaves it


def test_ha_cannot_be_enabled_while_the_master_changes(pool_sim, x):
    """message_forwarding.ml: Pool.designate_new_master and Pool.enable_ha run
    as the pool's operations whatever their arguments; xapi_pool_helpers.ml:
    both blocking, the second gets DESIGNATE_NEW_MASTER_IN_PROGRESS and HA
    stays off (no statefile made); eject, waiting, OTHER_OPERATION_IN_PROGRESS."""
    st = pool_sim.sim.store
    p = x.pool.get_all()[0]
    b = x.host.get_by_name_label("xcp-b")[0]
    nfs = x.SR.get_by_name_label("NFS VM store")[0]
    vdis = len(st.table("VDI"))
    with slow(pool_sim):
        task = x.Async.pool.designate_new_master(b)
        wait_for(lambda: x.pool.get_current_operations(p) == {task: "designate_new_master"})
        assert refused(x.pool.enable_ha, [nfs], {}) == ["DESIGNATE_NEW_MASTER_IN_PROGRESS"]
        assert refused(x.pool.eject, b) == ["OTHER_OPERATION_IN_PROGRESS", "pool", p]
        assert st.get("pool", p)["ha_enabled"] is False and len(st.table("VDI")) == vdis
    # the toolstacks restart after the hand-over: the store, not the API, says how it ended
    wait_for(lambda: st.get("pool", p)["current_operations"] == {}, what="the hand-over")
    assert st.get("pool", p)["master"] == b


def test_a_sync_is_seen_running_on_the_pool(pool_sim, x):
    """xapi_pool.ml sync_updates: the pool's sync_updates while it runs."""
    p = x.pool.get_all()[0]
    with slow(pool_sim):
        task = x.Async.pool.sync_updates(p, False, "", "")
        wait_for(lambda: x.pool.get_current_operations(p) == {task: "sync_updates"})
        assert x.pool.get_allowed_operations(p) == []
    assert finished(x, task) == "success"
    assert x.pool.get_current_operations(p) == {}
    assert "sync_updates" in x.pool.get_allowed_operations(p)


def host_events(x, token: str, ref: str) -> tuple[list[dict], str]:
    """The host's snapshots event.from reports after ``token``."""
    batch = x.event_from(["host"], token, 30.0)
    return [e["snapshot"] for e in batch["events"] if e["ref"] == ref], batch["token"]


def test_allowed_operations_follow_changes_through_events(pool_sim, x):
    """xapi_host_helpers.ml update_allowed_operations after Host.disable and
    when a host is found dead (host_metrics.live false): the new list comes
    in a host event."""
    c = x.host.get_by_name_label("xcp-c")[0]
    token = x.event_from(["host"], "", 0.0)["token"]
    x.host.disable(c)
    snapshots, token = host_events(x, token, c)
    assert snapshots[-1]["enabled"] is False
    assert "reboot" in snapshots[-1]["allowed_operations"]
    assert "power_on" not in snapshots[-1]["allowed_operations"]
    pool_sim.sim.kill_host(c)  # fault injection: the pool finds it dead
    seen: list[str] = []
    while "power_on" not in seen:  # each event.from waits for the next change
        snapshots, token = host_events(x, token, c)
        seen = snapshots[-1]["allowed_operations"] if snapshots else seen
    assert x.host_metrics.get_live(x.host.get_metrics(c)) is False


def test_networks_stay_without_operations_through_calls(x):
    """xapi_network.ml: nothing marks a network, whatever runs on it."""
    net = x.network.create({"name_label": "scratch", "MTU": "1500"})
    assert x.network.get_allowed_operations(net) == []
    assert x.network.get_current_operations(net) == {}
