"""The admin's trial of issue #23, item by item, against the demo played as
each release: what a release can tell is read the way that release has it
(each test names the trial's item)."""

from __future__ import annotations

import pytest

from xstui import clock
from xstui.areas import watched_types
from xstui.services import logs
from xstui.services import security as sec
from xstui.services.actions import InvalidInput, RunContext
from xstui.services.health import collect
from xstui.services.host import SetNtp
from xstui.services.host.local import LocalSystem, SetKeymap
from xstui.services.pool import check_join, join_refusal
from xstui.services.status import build_status
from xstui.services.status import health as status_health
from xstui.services.status.dom0 import ssh_fingerprints
from xstui.services.updates import health as updates_health
from xstui.services.updates.actions import CleanUpdate
from xstui.services.updates.generation import PATCHES, YUM, detect
from xstui.services.updates.model import build, read_document
from xstui.sim.dom0 import make_dom0
from xstui.sim.runner import start_simulator
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target


@pytest.fixture
def release_conn(request):
    """The demo as ``request.param`` (a release profile): the simulator and
    a connection with the pool loaded."""
    running = start_simulator("demo", release=request.param, task_delay=0.01)
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    conn.login()
    conn.load_once()
    yield running, conn
    conn.close()
    running.close()


def by_name(rows):
    return {r.name: r for r in rows}


@pytest.mark.parametrize("release_conn", ["xcp-ng-8.2"], indirect=True)
def test_xcp_ng_82_certificate_records_without_a_type_are_the_hosts(release_conn):
    """Item 3: XCP-ng 8.2's Certificate records have no type (XAPI 1.294
    added it, with CA certificates): they are the hosts', read with their
    dates, and Health flags the one ending soon (item 4)."""
    _running, conn = release_conn
    assert not conn.cache.reports("certificate", "type")
    rows = by_name(sec.host_certificates(conn.cache))
    assert all(r.not_after and r.fingerprint for r in rows.values()), rows
    assert rows["xcp-b"].days_left in (19, 20)
    assert sec.read_served(conn) is None  # every host has its record: none is asked
    flags = [f.text for f in collect(conn.cache, status_health.RULES, clock.now())]
    assert any(t.startswith("Certificate of xcp-b expires in") for t in flags), flags


@pytest.mark.parametrize("release_conn", ["latest"], indirect=True)
def test_a_host_without_a_record_is_asked_on_any_release(release_conn):
    """Item 3: a host whose record is missing is asked for the certificate
    it serves, like every host of a release that keeps none."""
    running, conn = release_conn
    st = running.sim.store
    b = st.find_one("host", name_label="xcp-b")
    with st.lock:
        st.destroy("Certificate", st.find_one("Certificate", host=b))
    conn.load_once()
    served = sec.read_served(conn)
    assert served is not None and set(served) == {b}
    rows = by_name(sec.host_certificates(conn.cache, served=served))
    assert rows["xcp-b"].days_left > 0 and rows["xcp-b"].fingerprint  # what it serves now


@pytest.mark.parametrize("release_conn", ["xenserver-6.5"], indirect=True)
def test_health_asks_the_hosts_of_a_release_without_records(release_conn):
    """Item 4: XenServer 6.5 keeps no certificate records: Health's probe
    asks each host, flags xcp-b's (19 days) as F6 shows it, and says which
    host's it cannot tell."""
    running, conn = release_conn
    probe = status_health.CertificateProbe()
    flags = [f.text for f in probe(conn)]
    assert any(t.startswith("Certificate of xcp-b expires in") for t in flags), flags
    assert not any("xcp-a" in t for t in flags)  # years left
    running.sim.hidden.add("host.get_server_certificate")
    assert [f.text for f in probe(conn)] == flags  # read once: not asked every minute
    unknown = [f.text for f in status_health.CertificateProbe()(conn)]  # the hosts say nothing
    assert len(unknown) == 3 and all("not known" in t for t in unknown), unknown


@pytest.mark.parametrize("release_conn", ["xenserver-6.5"], indirect=True)
def test_dom0_memory_on_a_release_without_control_domain(release_conn):
    """Item 10: XenServer 6.5 has no host.control_domain (7.1 added it):
    dom0 is the control domain resident on the host, its memory shown."""
    _running, conn = release_conn
    assert not conn.cache.reports("host", "control_domain")
    status = build_status(conn.cache, conn.this_host, rules=())
    assert status.host.dom0_memory >= 4 << 30


@pytest.mark.parametrize(
    "release_conn, daemon",
    [("xcp-ng-8.2", "chronyd"), ("xenserver-7.1", "ntpd"), ("xenserver-6.5", "ntpd")],
    indirect=["release_conn"],
)
def test_the_ntp_key_names_the_releases_own_daemon(release_conn, daemon):
    """Item 9: XCP-ng 8.2 runs chronyd, XenServer 7.1 and 6.5 ntpd: the
    dimmed NTP key names that one, not both."""
    _running, conn = release_conn
    why = SetNtp.unavailable(conn)
    assert f"sets NTP in dom0 ({daemon}): run xstui local" in why, why
    assert ("ntpd" if daemon == "chronyd" else "chronyd") not in why


@pytest.mark.parametrize("release_conn", ["xenserver-6.5"], indirect=True)
def test_xenserver_65_boots_by_bios_and_keeps_patches_in_dom0(release_conn):
    """Items 11 and 12: 6.5's recovery guide is extlinux on BIOS (no UEFI
    then); cleaning a 6.x patch frees its files in dom0, not an SR."""
    _running, conn = release_conn
    guide = sec.recovery_guide(conn.cache, conn.this_host)
    assert guide.firmware == "BIOS" and "UEFI" not in guide.title, guide.title
    generation = detect(conn)
    assert generation is PATCHES
    view = build(conn.cache, generation)
    impact = " ".join(CleanUpdate(view, view.updates[0].name).plan().impact)
    assert "/var/patch" in impact and "SR" not in impact, impact


@pytest.mark.parametrize("release_conn", ["xcp-ng-8.2", "xenserver-6.5"], indirect=True)
def test_ad_prerequisites_do_not_claim_ntp_a_release_does_not_report(release_conn):
    """Item 15: these releases report no NTP mode: the AD check says it
    cannot tell and where to look, not "every host has NTP"."""
    _running, conn = release_conn
    assert not conn.cache.reports("host", "ntp_mode")
    said = [(c.ok, c.text) for c in sec.prerequisites(conn.cache)]
    assert not any("NTP" in text for ok, text in said if ok), said
    assert any(ok is None and "NTP" in text and "not reported" in text for ok, text in said)


@pytest.mark.parametrize("release_conn", ["xcp-ng-8.2"], indirect=True)
def test_health_lists_what_yum_would_install(release_conn):
    """Item 18: XCP-ng lists what a host lacks only when asked (updater.py):
    Health's probe asks, and says what F4 shows xcp-c lacks."""
    _running, conn = release_conn
    generation = detect(conn)
    view = build(conn.cache, generation, read_document(conn, generation))
    lacking = view.host_named("xcp-c").missing
    assert generation is YUM and lacking
    flags = [f.text for f in updates_health.MissingProbe()(conn)]
    for name in lacking:
        said = [t for t in flags if t.startswith(f"Update {name} not applied on ")]
        assert said and ("xcp-c" in said[0] or said[0].endswith("any host")), flags


@pytest.mark.parametrize("release_conn", ["xcp-ng-8.2"], indirect=True)
def test_join_is_refused_in_a_pool_and_a_refused_login_said_in_words(release_conn):
    """Item 19: a host in a pool of three cannot join another (said before
    any form); the master's refusals are said in words."""
    running, conn = release_conn
    why = join_refusal(conn.cache, conn.this_host)
    assert "master of 2 other host(s): eject them first" in why, why
    with pytest.raises(InvalidInput) as refused:
        check_join(conn, "127.10.0.11", "not-the-password")
    text = str(refused.value)
    assert "did not accept this root password" in text and "detail" not in text, text
    with pytest.raises(InvalidInput) as refused:
        check_join(conn, "127.0.0.1", running.password)  # nothing listens on port 80 there
    text = str(refused.value)
    assert "cannot reach the pool master at 127.0.0.1: connection refused" in text, text
    assert "Errno" not in text


@pytest.fixture
def centos5(tmp_path):
    """XenServer 6.5's dom0 (CentOS 5): SysV init, ntpd, no localectl."""
    return LocalSystem(make_dom0(tmp_path / "root", init="sysv", ntp="ntpd"))


def test_a_sysv_dom0_sets_its_keymap_with_keytable_and_loadkeys(centos5):
    """Item 14: no localectl before systemd: KEYTABLE in
    /etc/sysconfig/keyboard and loadkeys, from /lib/kbd's keymaps; undone."""
    assert not centos5.has("localectl")
    keymaps = centos5.keymaps()
    assert "be-latin1" in keymaps and centos5.keymap() == "us"
    action = SetKeymap(centos5, "be-latin1", keymaps)
    assert action.plan().xe == [
        "sed -i 's|^KEYTABLE=.*|KEYTABLE=\"be-latin1\"|' /etc/sysconfig/keyboard",
        "loadkeys be-latin1",
    ]
    ctx = RunContext(conn=None)
    action.run(ctx)
    assert centos5.keymap() == "be-latin1"
    assert centos5.read("run/fake-loadkeys") == "be-latin1\n"
    assert 'MODEL="pc105"' in centos5.read("etc/sysconfig/keyboard")  # the rest kept
    ctx.rollback()
    assert centos5.keymap() == "us" and centos5.read("run/fake-loadkeys") == "us\n"


def test_a_sysv_dom0_shows_its_rsa_and_dsa_host_keys(centos5):
    """Item 14: 6.5's OpenSSH has RSA and DSA host keys, no Ed25519."""
    assert set(ssh_fingerprints(centos5)) == {"ssh-rsa", "ssh-dss"}


def test_the_log_profile_uses_what_dom0s_logrotate_knows(tmp_path, centos5):
    """Item 14: logrotate before 3.8.1 (6.5's 3.7.4) has no maxsize: size
    there (no interval: size ignores it), and the plan says what that changes;
    3.8.6 (XenServer 7 and later) keeps daily and maxsize."""
    old = logs.ApplyLogProfile(centos5)
    diff = old.diff()
    assert "+size 20M" in diff and "+daily" not in diff
    assert not [line for line in diff if "maxsize" in line]
    assert "3.7.4" in old.plan().impact[0] and "not every day" in old.plan().impact[0]
    recent = logs.ApplyLogProfile(LocalSystem(make_dom0(tmp_path / "recent")))
    assert "+maxsize 20M" in recent.diff() and "+daily" in recent.diff()


def test_ntpq_tally_codes_in_ntpqs_own_words(tmp_path):
    """Item 14: ntpd's sources say ntpq's tally (* system peer, + candidate;
    never reached: unreachable), not chrony's "combined"."""
    synced = LocalSystem(make_dom0(tmp_path / "a", init="sysv", ntp="ntpd")).ntp_state()
    assert synced.synchronised
    assert synced.sources == {"127.10.0.123": "system peer", "127.10.0.124": "candidate"}
    lost = LocalSystem(make_dom0(tmp_path / "b", ntp="ntpd", synchronised=False)).ntp_state()
    assert not lost.synchronised and set(lost.sources.values()) == {"unreachable"}
