"""The simulator against the unmodified PyPI XenAPI client, over real HTTP."""

import secrets
import threading
import time

import pytest
import XenAPI

from tests.waiting import TIMEOUT, wait_for


def test_login_and_records(running_sim, xapi):
    hosts = xapi.xenapi.host.get_all_records()
    assert sorted(h["name_label"] for h in hosts.values()) == ["xcp-a", "xcp-b", "xcp-c"]
    pool = next(iter(xapi.xenapi.pool.get_all_records().values()))
    assert hosts[pool["master"]]["name_label"] == "xcp-a"
    vm = xapi.xenapi.VM.get_by_name_label("web-01")[0]
    rec = xapi.xenapi.VM.get_record(vm)
    assert rec["power_state"] == "Running"
    assert rec["memory_static_max"] == str(4 * 1024**3)  # ints travel as strings
    assert xapi.xenapi.VM.get_by_uuid(rec["uuid"]) == vm
    assert xapi.xenapi.VM.get_name_label(vm) == "web-01"


def test_login_failure(running_sim):
    session = XenAPI.Session(running_sim.url)
    with pytest.raises(XenAPI.Failure) as err:
        session.xenapi.login_with_password("root", "wrong", "1.0", "t")
    assert err.value.details[0] == "SESSION_AUTHENTICATION_FAILED"


def test_invalid_session_and_handle(running_sim, xapi):
    proxy = XenAPI.xmlrpclib.ServerProxy(running_sim.url)
    out = proxy.VM.get_all("OpaqueRef:not-a-session")
    assert out == {
        "Status": "Failure",
        "ErrorDescription": ["SESSION_INVALID", "OpaqueRef:not-a-session"],
    }
    with pytest.raises(XenAPI.Failure) as err:
        xapi.xenapi.VM.get_record("OpaqueRef:nope")
    assert err.value.details == ["HANDLE_INVALID", "VM", "OpaqueRef:nope"]


def test_dispatch_errors(xapi):
    with pytest.raises(XenAPI.Failure) as err:
        xapi.xenapi.VM.frobnicate("x")
    assert err.value.details == ["MESSAGE_METHOD_UNKNOWN", "VM.frobnicate"]
    with pytest.raises(XenAPI.Failure) as err:
        xapi.xenapi.VM.get_record()
    assert err.value.details == ["MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_record", "2", "1"]


def test_event_from_initial_and_after_change(running_sim, xapi):
    first = xapi.xenapi.event_from(["*"], "", 0.0)
    assert {e["operation"] for e in first["events"]} == {"add"}
    assert {"vm", "host", "pif", "sr", "pool"} <= {e["class"] for e in first["events"]}
    token = first["token"]
    assert len(token) == 41 and token[20] == ","
    vm = xapi.xenapi.VM.get_by_name_label("web-01")[0]

    def rename():
        other = XenAPI.Session(running_sim.url)
        other.xenapi.login_with_password("root", running_sim.password)
        # not a wait: lets the event.from below start waiting, so that the
        # change wakes it (a change before it would be answered at once)
        time.sleep(0.2)
        other.xenapi.VM.set_name_label(vm, "web-01-renamed")

    threading.Thread(target=rename).start()
    started = time.monotonic()
    batch = xapi.xenapi.event_from(["vm"], token, TIMEOUT)
    # woken by the change, not at the timeout
    assert time.monotonic() - started < TIMEOUT / 2
    assert [(e["class"], e["operation"], e["ref"]) for e in batch["events"]] == [("vm", "mod", vm)]
    assert batch["events"][0]["snapshot"]["name_label"] == "web-01-renamed"
    assert batch["token"] > token


def test_event_from_times_out_empty(xapi):
    token = xapi.xenapi.event_from(["vm"], "", 0.0)["token"]
    started = time.monotonic()
    batch = xapi.xenapi.event_from(["vm"], token, 0.3)
    assert batch["events"] == [] and time.monotonic() - started >= 0.29


def test_event_from_reports_deletion(xapi):
    token = xapi.xenapi.event_from(["task"], "", 0.0)["token"]
    vm = xapi.xenapi.VM.get_by_name_label("web-02")[0]
    task = xapi.xenapi.Async.VM.clean_shutdown(vm)
    finished(xapi, task)
    xapi.xenapi.task.destroy(task)
    batch = xapi.xenapi.event_from(["task"], token, 1.0)
    # created and destroyed inside the window: nothing to report
    assert all(e["ref"] != task for e in batch["events"])
    task2 = xapi.xenapi.Async.VM.start(vm, False, False)
    finished(xapi, task2)
    token = xapi.xenapi.event_from(["task"], "", 0.0)["token"]
    xapi.xenapi.task.destroy(task2)
    batch = xapi.xenapi.event_from(["task"], token, 1.0)
    assert [(e["operation"], e["ref"]) for e in batch["events"]] == [("del", task2)]
    assert "snapshot" not in batch["events"][0]


def test_legacy_event_registration(xapi):
    with pytest.raises(XenAPI.Failure) as err:
        xapi.xenapi.event.next()
    assert err.value.details[0] == "SESSION_NOT_REGISTERED"
    xapi.xenapi.event.register(["host"])
    host = xapi.xenapi.host.get_all()[0]
    xapi.xenapi.host.set_name_description(host, "rack 4")
    events = xapi.xenapi.event.next()
    assert events[0]["class"] == "host" and events[0]["snapshot"]["name_description"] == "rack 4"
    xapi.xenapi.event.unregister(["host"])


def test_get_all_records_where(xapi):
    running = xapi.xenapi.VM.get_all_records_where(
        'field "power_state"="Running" and field "is_control_domain"="false"'
    )
    assert running and all(
        r["power_state"] == "Running" and not r["is_control_domain"] for r in running.values()
    )
    either = xapi.xenapi.VM.get_all_records_where(
        'field "name__label"="web-01" or field "name__label"="web-02"'
    )
    assert sorted(r["name_label"] for r in either.values()) == ["web-01", "web-02"]
    with pytest.raises(XenAPI.Failure) as err:  # the API's name is not the column's
        xapi.xenapi.VM.get_all_records_where('field "name_label"="web-01"')
    assert err.value.details[:3] == ["INTERNAL_ERROR", "missing field", "name_label"]
    assert xapi.xenapi.host.get_all_records_where("true").__len__() == 3
    with pytest.raises(XenAPI.Failure):
        xapi.xenapi.VM.get_all_records_where('field "power_state"=')


def finished(xapi, task):
    wait_for(
        lambda: xapi.xenapi.task.get_status(task) not in ("pending", "cancelling"),
        what=f"{task} finished",
    )
    return xapi.xenapi.task.get_record(task)


def test_async_task_success_and_failure(xapi):
    vm = xapi.xenapi.VM.get_by_name_label("web-03")[0]
    task = xapi.xenapi.Async.VM.clean_shutdown(vm)
    assert task.startswith("OpaqueRef:")
    rec = finished(xapi, task)
    assert rec["status"] == "success" and float(rec["progress"]) == 1.0
    assert rec["name_label"] == "Async.VM.clean_shutdown"
    assert xapi.xenapi.VM.get_power_state(vm) == "Halted"
    again = finished(xapi, xapi.xenapi.Async.VM.clean_shutdown(vm))
    assert again["status"] == "failure"
    assert again["error_info"] == ["VM_BAD_POWER_STATE", vm, "running", "halted"]


def test_async_task_cancel(running_sim, xapi):
    running_sim.sim.task_delay = 2.0
    vm = xapi.xenapi.VM.get_by_name_label("app-01")[0]
    task = xapi.xenapi.Async.VM.clean_shutdown(vm)
    xapi.xenapi.task.cancel(task)
    rec = finished(xapi, task)
    assert rec["status"] == "cancelled"
    assert xapi.xenapi.VM.get_power_state(vm) == "Running"


def test_map_and_set_setters(xapi):
    host = xapi.xenapi.host.get_all()[0]
    xapi.xenapi.host.add_to_other_config(host, "rack", "4")
    assert xapi.xenapi.host.get_other_config(host)["rack"] == "4"
    with pytest.raises(XenAPI.Failure) as err:
        xapi.xenapi.host.add_to_other_config(host, "rack", "5")
    assert err.value.details[0] == "MAP_DUPLICATE_KEY"
    xapi.xenapi.host.remove_from_other_config(host, "rack")
    assert "rack" not in xapi.xenapi.host.get_other_config(host)
    xapi.xenapi.host.add_tags(host, "gold")
    assert xapi.xenapi.host.get_tags(host) == ["gold"]
    xapi.xenapi.host.remove_tags(host, "gold")
    assert xapi.xenapi.host.get_tags(host) == []


def test_read_only_field_has_no_setter(xapi):
    vm = xapi.xenapi.VM.get_all()[0]
    with pytest.raises(XenAPI.Failure) as err:
        xapi.xenapi.VM.set_power_state(vm, "Halted")
    assert err.value.details[0] == "MESSAGE_METHOD_UNKNOWN"


def test_member_answers_host_is_slave(running_sim):
    assert running_sim.member_urls, "demo hosts listen on their own loopback addresses"
    url = running_sim.member_urls["xcp-b"]
    with pytest.raises(XenAPI.Failure) as err:
        XenAPI.Session(url).xenapi.login_with_password("root", running_sim.password)
    assert err.value.details == ["HOST_IS_SLAVE", "127.10.0.11"]


def test_session_calls(running_sim, xapi):
    ref = xapi._session
    assert xapi.xenapi.session.get_this_host(ref) == xapi.xenapi.pool.get_master(
        xapi.xenapi.pool.get_all()[0]
    )
    assert xapi.xenapi.session.get_this_user(ref) == "OpaqueRef:NULL"
    assert xapi.xenapi.session.get_is_local_superuser(ref) is True
    assert "vm.start" in xapi.xenapi.session.get_rbac_permissions(ref)
    xapi.xenapi.session.change_password("ignored", "n3w-Secret")
    fresh = XenAPI.Session(running_sim.url)
    fresh.xenapi.login_with_password("root", "n3w-Secret")
    old_ref = fresh._session
    fresh.xenapi.session.logout()
    out = XenAPI.xmlrpclib.ServerProxy(running_sim.url).VM.get_all(old_ref)
    assert out["ErrorDescription"] == ["SESSION_INVALID", old_ref]


def test_unix_socket_login_is_trusted():
    from xstui.sim.runner import start_simulator

    # UDSTransport turns "_" into "/", so the path must not contain underscores
    path = f"/tmp/xstui-{secrets.token_hex(6)}.sock"
    running = start_simulator("demo", unix_socket=path, members=False)
    try:
        session = XenAPI.Session(
            "http://" + path.replace("/", "_") + "/", transport=XenAPI.UDSTransport()
        )
        session.xenapi.login_with_password("root", "", "1.0", "dom0")
        assert len(session.xenapi.host.get_all()) == 3
        # the socket is its host's dom0's: this_host stays that host after
        # another host becomes master
        mine = session.xenapi.session.get_this_host(session.handle)
        other = next(h for h in session.xenapi.host.get_all() if h != mine)
        session.xenapi.pool.designate_new_master(other)
        again = XenAPI.Session(
            "http://" + path.replace("/", "_") + "/", transport=XenAPI.UDSTransport()
        )
        again.xenapi.login_with_password("root", "", "1.0", "dom0")
        assert again.xenapi.session.get_this_host(again.handle) == mine != other
    finally:
        running.close()


def test_tls_listener_and_fingerprint():
    import ssl
    import urllib.request

    from xstui.sim.runner import start_simulator

    running = start_simulator("demo", tls=True, members=False)
    try:
        assert running.url.startswith("https://")
        assert len(running.fingerprint.split(":")) == 32
        session = XenAPI.Session(running.url, ignore_ssl=True)
        session.xenapi.login_with_password("root", running.password)
        assert len(session.xenapi.VM.get_all()) > 25
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        req = urllib.request.Request(
            running.url + "/jsonrpc", data=b'{"method":"x","params":[],"id":1}'
        )
        body = urllib.request.urlopen(req, context=context).read()
        assert b"MESSAGE_METHOD_UNKNOWN" in body
    finally:
        running.close()


def test_a_message_of_the_api_without_behaviour_is_not_implemented(xapi):
    vm = xapi.xenapi.VM.get_all()[0]
    with pytest.raises(XenAPI.Failure) as err:
        xapi.xenapi.VM.get_boot_record(vm)
    assert err.value.details == ["NOT_IMPLEMENTED", "VM.get_boot_record"]


def test_the_coverage_table_in_the_repo_is_current():
    from pathlib import Path

    from xstui.sim.api import coverage_table

    kept = Path(__file__).resolve().parents[2] / "xstui" / "sim" / "COVERAGE.md"
    assert kept.read_text() == coverage_table(), (
        "run: python -m xstui.sim.api > xstui/sim/COVERAGE.md"
    )


def test_an_unknown_ref_is_handle_invalid_before_any_behaviour(xapi):
    with pytest.raises(XenAPI.Failure) as err:
        xapi.xenapi.PIF.reconfigure_ip("OpaqueRef:nope", "DHCP", "", "", "", "")
    assert err.value.details == ["HANDLE_INVALID", "PIF", "OpaqueRef:nope"]


def test_introspection_and_simple_explicit_messages(xapi):
    methods = xapi.xenapi_request("system.listMethods", ())
    assert "VM.start" in methods and "PIF.get_MTU" in methods and "host.get_servertime" in methods
    vm = next(r for r, v in xapi.xenapi.VM.get_all_records().items() if v["name_label"] == "web-01")
    assert "0" not in xapi.xenapi.VM.get_allowed_VBD_devices(vm)  # its system disk is device 0
    pif = xapi.xenapi.PIF.get_all()[0]
    xapi.xenapi.PIF.set_disallow_unplug(pif, True)
    assert xapi.xenapi.PIF.get_disallow_unplug(pif) is True
