"""The dom0-only features against a fake dom0 (a temporary folder with
scripts that behave like the host's tools): never this machine's system."""

import pytest

from tests.waiting import wait_for
from xstui.services.actions import InvalidInput, RunContext
from xstui.services.host.local import (
    LocalError,
    LocalSystem,
    ResetNetworking,
    SetKeymap,
    StatusReport,
)
from xstui.sim.dom0 import make_dom0


@pytest.fixture
def dom0(tmp_path):
    return LocalSystem(make_dom0(tmp_path / "root"))


def test_chrony_state_both_ways(tmp_path):
    synced = LocalSystem(make_dom0(tmp_path / "a")).ntp_state()
    assert synced.synchronised and synced.sources == {
        "127.10.0.123": "synced",
        "127.10.0.124": "combined",
    }
    lost = LocalSystem(make_dom0(tmp_path / "b", synchronised=False)).ntp_state()
    assert not lost.synchronised and set(lost.sources.values()) == {"unreachable"}


def test_a_missing_tool_is_said_not_raised_raw(tmp_path):
    empty = LocalSystem(tmp_path)
    with pytest.raises(LocalError, match="ntpq is not on this host"):
        empty.ntp_state()


def test_keymaps_and_time_zones_are_dom0s_own_lists(dom0, tmp_path):
    assert "de-latin1" in dom0.keymaps() and dom0.keymaps() == sorted(dom0.keymaps())
    assert dom0.timezones() == ["America/New_York", "Europe/London", "Europe/Paris", "UTC"]
    # without localectl: the keymap files it would list
    bare = LocalSystem(tmp_path / "bare")
    for name in ("i386/qwerty/us.map.gz", "i386/azerty/fr.map.gz", "i386/include/compose.map"):
        (bare.root / "usr/lib/kbd/keymaps" / name).parent.mkdir(parents=True, exist_ok=True)
        (bare.root / "usr/lib/kbd/keymaps" / name).write_bytes(b"")
    assert bare.keymaps() == ["fr", "us"]
    with pytest.raises(LocalError, match="localectl is not on this host"):
        LocalSystem(tmp_path / "empty").keymaps()


def test_keymap_set_and_undone(dom0):
    keymaps = dom0.keymaps()
    with pytest.raises(InvalidInput):
        SetKeymap(dom0, "klingon", keymaps)
    action = SetKeymap(dom0, "fr", keymaps)
    assert action.plan().xe == ["localectl set-keymap fr"]
    ctx = RunContext(conn=None)
    action.run(ctx)
    assert dom0.keymap() == "fr"
    ctx.rollback()
    assert dom0.keymap() == "us"


def test_network_reset_force_stops_the_vms_running_here_and_says_which(dom0, connection):
    """In a network emergency nothing can migrate: the reset is offered with
    the VMs it force-stops named in its plan (xe-reset-networking's warning)."""
    connection.start_events()
    wait_for(lambda: connection.cache.table("vm"))
    here = connection.this_host
    running = sorted(
        vm.name_label
        for vm in connection.cache.table("vm").values()
        if vm.resident_on == here
        and vm.power_state in ("Running", "Paused")
        and not vm.is_control_domain
    )
    assert running
    action = ResetNetworking(connection.cache, dom0, here, {"device": "eth1", "mode": "dhcp"})
    plan = action.plan()
    assert action.stopped == running and plan.risk == "high" and plan.confirm_word == "reset"
    assert f"force-stop {len(running)} VM(s)" in plan.summary
    stops = next(line for line in plan.impact if line.startswith("FORCE-STOPS"))
    assert all(name in stops for name in running[:6])
    assert not (dom0.root / "tmp/network-reset").exists()  # nothing ran: a plan only


def test_network_reset_on_a_vlan_with_the_nic_picked_from_the_host(dom0, connection):
    connection.start_events()
    wait_for(lambda: connection.cache.table("pif"))
    here = connection.this_host
    fields = {f.name: f for f in ResetNetworking.fields(connection.cache, dom0, here)}
    nics = list(fields["device"].choices)
    assert nics[:2] == ["eth0", "eth1"] and fields["device"].value == "eth0"
    assert nics == sorted(nics, key=lambda n: int(n[3:]))  # eth10 after eth9, not after eth1
    assert fields["vlan"].value == "" and fields["vlan"].check("4095")
    values = {"device": "eth1", "vlan": "42", "mode": "dhcp"}
    action = ResetNetworking(connection.cache, dom0, here, values)
    assert action.plan().xe == ["xe-reset-networking --device=eth1 --vlan=42 --mode=dhcp"]
    assert "eth1, VLAN 42 becomes the management interface" in " ".join(action.plan().impact)
    # the installer put management on a VLAN: none now must be said, or the tool keeps it
    conf = dom0.root / "etc/firstboot.d/data/management.conf"
    conf.write_text(conf.read_text() + "VLAN='7'\n")
    fields = {f.name: f for f in ResetNetworking.fields(connection.cache, dom0, here)}
    assert fields["vlan"].value == "7"
    values["vlan"] = ""
    action = ResetNetworking(connection.cache, dom0, here, values)
    assert action.plan().xe == ["xe-reset-networking --device=eth1 --novlan --mode=dhcp"]


def test_network_reset_on_an_empty_member(tmp_path, running_sim, connection):
    st = running_sim.sim.store
    c = st.find_one("host", name_label="xcp-c")
    for ref in list(st.get("host", c)["resident_VMs"]):
        if not st.get("VM", ref)["is_control_domain"]:
            st.set("VM", ref, power_state="Halted", resident_on="OpaqueRef:NULL")
    connection.start_events()
    wait_for(
        lambda: (
            not any(
                vm.resident_on == c and not vm.is_control_domain
                for vm in connection.cache.table("vm").values()
            )
        ),
    )
    system = LocalSystem(make_dom0(tmp_path / "member", master="127.10.0.11"))
    fields = {f.name: f for f in ResetNetworking.fields(connection.cache, system, c)}
    assert fields["master"].value == "127.10.0.11"
    with pytest.raises(InvalidInput):
        ResetNetworking(
            connection.cache,
            system,
            c,
            {"master": "127.10.0.11", "device": "eth0", "mode": "static", "ip": "127.10.0.13"},
        )
    values = {
        "master": "127.10.0.11",
        "device": "eth0",
        "mode": "static",
        "ip": "127.10.0.13",
        "netmask": "255.255.255.0",
        "gateway": "127.10.0.1",
        "dns": "127.10.0.53",
    }
    action = ResetNetworking(connection.cache, system, c, values)
    plan = action.plan()
    assert plan.risk == "high" and plan.confirm_word == "reset"
    assert plan.xe == [
        "xe-reset-networking --master=127.10.0.11 --device=eth0 --mode=static --ip=127.10.0.13 "
        "--netmask=255.255.255.0 --gateway=127.10.0.1 --dns=127.10.0.53"
    ]
    notes = []
    outcome = action.execute(RunContext(connection, note=notes.append))
    assert "rebooting" in outcome and "Rebooting..." in notes
    written = (system.root / "tmp/network-reset").read_text()
    assert "--master=127.10.0.11" in written and "--ip=127.10.0.13" in written


def test_status_report_here_and_remotely(dom0, running_sim, connection):
    connection.start_events()
    wait_for(lambda: connection.cache.table("host"))
    here = StatusReport(connection.cache, connection.this_host, system=dom0)
    outcome = here.execute(RunContext(connection))
    assert "bug-report-20261126.tar.bz2" in outcome
    with pytest.raises(InvalidInput):
        StatusReport(connection.cache, connection.this_host, url="not a url")
    remote = StatusReport(connection.cache, connection.this_host, url="https://127.10.0.99/upload")
    assert remote.plan().xe[0].startswith("xe host-bugreport-upload")
    assert "uploaded" in remote.execute(RunContext(connection))


def test_status_report_saved_to_a_file_is_what_the_upload_sends(tmp_path, running_sim, connection):
    """Over the simulator: the report saved to a file (GET /system-status of
    that host) has the bytes host.bugreport_upload sends; the file is checked
    in the form (its directory, an existing file kept unless overwrite)."""
    import hashlib
    import tarfile

    connection.start_events()
    wait_for(lambda: connection.cache.table("host"))
    master = connection.this_host
    cache, sim = connection.cache, running_sim.sim
    StatusReport(cache, master, url="https://127.10.0.99/upload").execute(RunContext(connection))
    sent = next(d for what, _, d in sim.records if what == "status report").split()[1]
    dest = tmp_path / "xcp-a.tar.bz2"
    saving = StatusReport(cache, master, path=str(dest))
    assert not saving.plan().xe and "GET /system-status" in saving.plan().steps[0]
    assert "saved to" in saving.execute(RunContext(connection))
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == sent
    with pytest.raises(InvalidInput, match="exists already"):
        StatusReport(cache, master, path=str(dest))
    again = StatusReport(cache, master, path=str(dest), overwrite=True)
    assert f"{dest} is replaced." in again.plan().impact
    member = next(r for r, h in cache.table("host").items() if h.name_label == "xcp-b")
    StatusReport(cache, member, path=str(dest), overwrite=True).execute(RunContext(connection))
    with tarfile.open(dest) as tar:  # asked of xcp-b itself
        inventory = next(m for m in tar.getmembers() if m.name.endswith("/inventory"))
        assert "name_label=xcp-b" in tar.extractfile(inventory).read().decode()
    for path, url, refusal in (
        (str(tmp_path / "nowhere/r.tar.bz2"), "", "there is no directory"),
        (str(tmp_path), "", "is a directory"),
        ("", "", "give the URL to upload to, or a file"),
        (str(tmp_path / "r.tar.bz2"), "https://127.10.0.99/upload", "not both"),
    ):
        with pytest.raises(InvalidInput, match=refusal):
            StatusReport(cache, master, url=url, path=path)
    assert StatusReport.fields(False)[1].check(str(tmp_path / "nowhere/r")) is not None


@pytest.mark.parametrize(
    "init, ntp, ssh_off",
    [
        ("systemd", "chronyd", ["systemctl stop sshd", "systemctl disable sshd"]),
        ("sysv", "ntpd", ["service sshd stop", "chkconfig sshd off"]),
    ],
)
def test_settings_older_releases_keep_in_dom0_are_set_and_undone(
    tmp_path, connection, init, ntp, ssh_off
):
    """SSH, NTP and the time zone through dom0's own tools (issue #23), each
    undone on rollback; bad input refused before anything runs."""
    from xstui.services.host import NtpInDom0, SshInDom0, TimezoneInDom0

    system = LocalSystem(make_dom0(tmp_path / "root", init=init, ntp=ntp))
    connection.start_events()
    wait_for(lambda: connection.cache.table("host"))
    here = connection.this_host
    cache = connection.cache
    with pytest.raises(InvalidInput):
        SshInDom0(cache, here, system, "maybe", True)
    ssh = SshInDom0(cache, here, system, "off", SshInDom0.running(system))
    assert ssh.plan().xe == ssh_off
    ctx = RunContext(conn=None)
    ssh.run(ctx)
    assert not system.service_running("sshd")
    ctx.rollback()
    assert system.service_running("sshd")

    daemon, conf = system.ntp_daemon()
    assert daemon == ntp
    before = system.read(conf)
    with pytest.raises(InvalidInput):
        NtpInDom0(cache, here, system, "not a host!", True)
    action = NtpInDom0(cache, here, system, "127.10.0.77", NtpInDom0.running(system))
    ctx = RunContext(conn=None)
    action.run(ctx)
    assert system.ntp_servers() == ["127.10.0.77"] and "driftfile" in system.read(conf)
    peer = "synced" if ntp == "chronyd" else "system peer"  # each daemon's own word
    assert system.ntp_state().sources == {"127.10.0.77": peer}
    ctx.rollback()
    assert system.read(conf) == before
    off = NtpInDom0(cache, here, system, "", True)
    assert off.plan().risk == "medium" and off.plan().title == "NTP off"
    off.run(RunContext(conn=None))
    assert not system.service_running(daemon)

    zones = system.timezones()
    with pytest.raises(InvalidInput, match="not a time zone"):
        TimezoneInDom0(cache, here, system, "Mars/Olympus", zones)
    tz = TimezoneInDom0(cache, here, system, "Europe/Paris", zones)
    ctx = RunContext(conn=None)
    tz.run(ctx)
    assert system.timezone() == "Europe/Paris"
    ctx.rollback()
    assert system.timezone() == "UTC"
