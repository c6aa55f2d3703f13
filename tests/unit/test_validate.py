"""Validators refuse bad input with reasons; a property test feeds random text
and checks that refusals happen before any XAPI call."""

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xstui.services import validate as v
from xstui.services.actions import InvalidInput
from xstui.services.network import IpConfig, ReconfigureManagement

VALIDATORS = [v.ipv4, v.netmask, v.dns_servers, v.hostname, v.mtu, v.vlan_tag, v.mac]


@pytest.mark.parametrize(
    "value,ok",
    [
        ("127.10.0.5", True),
        ("256.1.1.1", False),
        ("1.2.3", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        (" 10.0.0.1 ", True),
    ],
)
def test_ipv4(value, ok):
    if ok:
        assert v.ipv4(value) == value.strip()
    else:
        with pytest.raises(InvalidInput):
            v.ipv4(value)


@pytest.mark.parametrize(
    "mask,ok",
    [
        ("255.255.255.0", True),
        ("255.255.0.255", False),
        ("255.255.255.255", True),
        ("0.0.0.0", False),
        ("255.0.0.0", True),
        ("24", False),
    ],
)
def test_netmask_contiguity(mask, ok):
    if ok:
        v.netmask(mask)
    else:
        with pytest.raises(InvalidInput):
            v.netmask(mask)


def test_gateway_inside_subnet():
    assert v.gateway("127.10.0.1", "127.10.0.11", "255.255.255.0") == "127.10.0.1"
    assert v.gateway("", "127.10.0.11", "255.255.255.0") == ""
    with pytest.raises(InvalidInput, match="outside the subnet"):
        v.gateway("127.11.0.1", "127.10.0.11", "255.255.255.0")
    with pytest.raises(InvalidInput, match="own address"):
        v.gateway("127.10.0.11", "127.10.0.11", "255.255.255.0")


@pytest.mark.parametrize(
    "name,ok",
    [
        ("xcp-a", True),
        ("xcp-a.lab.example", True),
        ("-bad", False),
        ("a_b", False),
        ("12345", False),
        ("x" * 64, False),
        ("", False),
        ("bad name", False),
    ],
)
def test_hostname_rules(name, ok):
    if ok:
        assert v.hostname(name) == name
    else:
        with pytest.raises(InvalidInput):
            v.hostname(name)


def test_ranges_and_mac():
    assert v.mtu("9000") == 9000 and v.vlan_tag("0") == 0 and v.vlan_tag(4094) == 4094
    for bad in ("9217", "100", "x"):
        with pytest.raises(InvalidInput):
            v.mtu(bad)
    for bad in ("4095", "-1", "ten"):
        with pytest.raises(InvalidInput):
            v.vlan_tag(bad)
    assert v.mac("02-AA-bb-CC-dd-EE") == "02:aa:bb:cc:dd:ee"
    for bad in ("01:00:5e:00:00:01", "02:aa:bb:cc:dd", "zz:aa:bb:cc:dd:ee"):
        with pytest.raises(InvalidInput):
            v.mac(bad)


@given(st.text(max_size=40))
def test_validators_only_ever_refuse_with_reasons(text):
    for check in VALIDATORS:
        try:
            check(text)
        except InvalidInput as exc:
            assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


@pytest.fixture(scope="module")
def demo_conn():
    from xstui.areas import watched_types
    from xstui.sim.runner import start_simulator
    from xstui.xapi.connection import Connection
    from xstui.xapi.targets import parse_target

    running = start_simulator("demo", members=False)
    conn = Connection(parse_target(running.url), "root", running.password, watch=watched_types())
    conn.login()
    conn.load_once()
    yield conn, running
    conn.close()
    running.close()


fragments = st.one_of(
    st.text(max_size=18),
    st.from_regex(r"127\.10\.0\.\d{1,3}", fullmatch=True),
    st.sampled_from(["255.255.255.0", "255.255.0.255", "", "127.10.0.1"]),
)


@settings(max_examples=200, deadline=None)
@given(
    mode=st.sampled_from(["static", "dhcp", "Static", "bogus", ""]),
    ip=fragments,
    mask=fragments,
    gw=fragments,
    dns=fragments,
)
def test_management_input_is_checked_before_any_call(demo_conn, mode, ip, mask, gw, dns):
    """The screen's path (check the fields, build the action) either refuses
    with reasons or yields a configuration an independent check accepts; either
    way no XAPI call has been made and the pool is unchanged."""
    conn, running = demo_conn
    calls, generation = conn.calls, running.sim.store.generation
    host = running.sim.master
    pif = next(
        r
        for r, p in running.sim.store.table("PIF").items()
        if p["host"] == host and p["device"] == "eth4"
    )
    try:
        config = IpConfig.checked(mode, ip, mask, gw, dns)
        ReconfigureManagement(
            conn.cache, host, pif, config, session_host="127.10.0.11", local=False
        )
    except InvalidInput as exc:
        assert exc.problems
    else:
        if config.mode == "Static":
            iface = ipaddress.IPv4Interface(f"{config.ip}/{config.netmask}")
            assert not config.gateway or ipaddress.IPv4Address(config.gateway) in iface.network
    assert conn.calls == calls and running.sim.store.generation == generation


# paths: one validator per purpose, checked where the console runs --------------------
def test_a_file_to_save(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert v.file_to_save("pool.db") == tmp_path / "pool.db"  # named in full
    (tmp_path / "old.db").write_text("x")
    assert v.file_to_save("old.db") == tmp_path / "old.db"  # overwriting was said
    for text, refusal in (
        ("", "give a file name"),
        (
            "nowhere/pool.db",
            f"pool.db cannot be saved: there is no directory {tmp_path / 'nowhere'}",
        ),
        (str(tmp_path), "is a directory"),
    ):
        with pytest.raises(InvalidInput, match=refusal):
            v.file_to_save(text)
    with pytest.raises(InvalidInput, match="exists already: choose another name"):
        v.file_to_save("old.db", overwrite=False)
    with pytest.raises(InvalidInput, match="/proc/1/pool.db is on the kernel's proc file system"):
        v.file_to_save("/proc/1/pool.db")  # not even root may make a file there


@pytest.mark.parametrize("mounts", [True, False])
def test_the_kernels_file_systems_are_no_place_for_files(tmp_path, monkeypatch, mounts):
    """Trial s12 item 2: /proc/x (or the folder /proc) passed every save form
    (root may "write" there); the refusal names the path given."""
    if not mounts:  # no mount table (not Linux): /proc, /sys and /dev as Linux has them
        monkeypatch.setattr(v, "MOUNTS", tmp_path / "no-mounts")
    for check, text in (
        (v.file_to_save, "/proc/x"),
        (v.file_to_save, "/sys/kernel/x.db"),
        (v.folder_to_write, "/proc"),
        (v.file_to_read, "/proc/version"),
        (v.folder_to_read, "/sys"),
    ):
        with pytest.raises(InvalidInput, match=f"^{text} is on the kernel's (proc|sysfs) file"):
            check(text)
    assert v.special_fs(tmp_path) == "" and v.file_to_save(str(tmp_path / "x")) == tmp_path / "x"


def test_a_folder_to_write_and_one_to_read(tmp_path):
    assert v.folder_to_write(str(tmp_path)) == tmp_path
    with pytest.raises(InvalidInput, match="there is no folder"):
        v.folder_to_write(str(tmp_path / "no"))
    with pytest.raises(InvalidInput, match="kernel's proc file system"):
        v.folder_to_write("/proc/1")
    (tmp_path / "a.meta.xva").write_text("x")
    (tmp_path / "b.txt").write_text("x")
    assert v.folder_to_read(str(tmp_path), "*.meta.xva") == [tmp_path / "a.meta.xva"]
    with pytest.raises(InvalidInput, match=f"no .db file in {tmp_path}"):
        v.folder_to_read(str(tmp_path), "*.db")
    with pytest.raises(InvalidInput, match="there is no folder"):
        v.folder_to_read(str(tmp_path / "a.meta.xva"))


@pytest.mark.parametrize(
    "start,ok",
    [
        (b"<database><manifest>", True),
        (b"<database>\n<manifest>", True),
        (b"<?xml version='1.0' encoding='utf-8'?>\n<database>", True),
        (b"\xef\xbb\xbf  <!-- a dump -->\n<database/>", True),
        (b"<databases>", False),
        (b"<html><database>", False),
        (b"PK\x03\x04", False),
        (b"", False),
    ],
)
def test_a_pool_database_is_told_from_its_start(tmp_path, start, ok):
    path = tmp_path / "pool.db"
    path.write_bytes(start + b"<table/>" * 10000)
    if ok:
        assert v.file_to_read(str(path), "pool database") == path
    else:
        with pytest.raises(InvalidInput, match=f"{path} is not a pool database"):
            v.file_to_read(str(path), "pool database")


def test_real_dumps_look_like_pool_databases():
    from tests.conftest import shared_path

    for name in ("boston-db.xml", "single-host-krakout.xml"):
        path = shared_path("dumps", name)
        assert v.file_to_read(str(path), "pool database") == path


def test_a_file_to_read(tmp_path):
    pem = tmp_path / "host.crt"
    pem.write_text("Certificate:\n    Data: ...\n-----BEGIN CERTIFICATE-----\nMIIB\n")
    assert v.file_to_read(str(pem), "certificate") == pem
    for text, kind, refusal in (
        ("", "", "give a file name"),
        (str(tmp_path / "gone.crt"), "", f"there is no file {tmp_path / 'gone.crt'}"),
        (str(tmp_path / "no/x.crt"), "", "there is no directory"),
        (str(tmp_path), "", "is a directory"),
        (str(pem), "private key", "is not a private key"),
    ):
        with pytest.raises(InvalidInput, match=refusal):
            v.file_to_read(text, kind)


def test_a_folder_in_the_consoles_own_is_checked_without_being_made(tmp_path):
    """Issue 27: the backup folder (made_in) and folders in it may be missing
    (made once the admin confirms); checking makes none; elsewhere a missing
    folder is refused."""
    own = tmp_path / "backups"
    assert v.folder_to_write(str(own / "metadata"), own) == own / "metadata"
    assert v.file_to_save(str(own / "pool.db"), made_in=own) == own / "pool.db"
    assert v.missing_folders(own / "metadata") == [own, own / "metadata"]
    assert not own.exists()
    with pytest.raises(InvalidInput, match="there is no folder"):
        v.folder_to_write(str(tmp_path / "elsewhere"), own)
    with pytest.raises(InvalidInput, match="there is no directory"):
        v.file_to_save(str(tmp_path / "elsewhere" / "pool.db"), made_in=own)


def test_a_notice_folds_a_long_path_at_its_slashes():
    """Trial s12 item 8: Textual wraps at spaces only, and cut a path mid-word."""
    from xstui.widgets.notice import fold_paths, notice_width

    path = "/root/.local/state/xstui/root-password-recovery-xcp-b.txt"
    width = notice_width(80)
    folded = fold_paths(f"Saved to {path} now", width)
    assert folded.replace("\n", "") == f"Saved to {path} now"
    assert folded.split("\n")[1].startswith("root-password-recovery-xcp-b.txt")
    assert all(len(part) <= width for part in folded.split() if "/" in part)
    assert fold_paths("short /a/b and words", width) == "short /a/b and words"


def test_an_update_file_is_told_from_its_start(tmp_path):
    """Trial s12 item 16: the F4 u file is checked as F5 i's is."""
    from xstui.services.updates.actions import ISO_AT, update_file
    from xstui.services.updates.generation import PATCHES, UPDATES
    from xstui.sim.messages._updates import write_update_file

    update = tmp_path / "XS82E001.iso"
    write_update_file(update, "XS82E001", 1 << 10)
    iso = tmp_path / "real.iso"
    iso.write_bytes(bytes(ISO_AT) + b"CD001" + bytes(100))
    signed = tmp_path / "XS65E001.xsupdate"
    signed.write_bytes(b"\xa3\x01" + bytes(100))  # OpenPGP: a compressed data packet
    text = tmp_path / "passwd"
    text.write_text("root:x:0:0::/root:/bin/bash\n")
    empty = tmp_path / "empty.iso"
    empty.write_bytes(b"")
    for path, generation in (
        (update, UPDATES),
        (iso, UPDATES),
        (update, PATCHES),
        (signed, PATCHES),
    ):
        assert update_file(str(path), generation).path == path
    for path, generation, refusal in (
        (text, UPDATES, "is not an update"),
        (text, PATCHES, "is not a patch"),
        (signed, UPDATES, "is not an update"),
        (empty, UPDATES, "is empty"),
        ("/proc/version", PATCHES, "kernel's proc file system"),
    ):
        with pytest.raises(InvalidInput, match=refusal):
            update_file(str(path), generation)


def test_refusals_start_lower_case_quote_the_value_and_say_what_to_give():
    """Trial s12 item 15: "VLAN tag '' is not a number", "hostname cannot be
    empty" for a common name, "x is not a DNS domain" unquoted, "The host
    name..." capitalised after "Not possible:"."""
    from xstui.services.actions import not_possible
    from xstui.services.status.identity import check_label
    from xstui.widgets.notice import error_text

    for check, args, words in (
        (v.vlan_tag, ("",), "give a VLAN tag (0 to 4094)"),
        (v.int_in_range, (" ", "the order", 0, 9), "give the order (0 to 9)"),
        (v.hostname, ("", "common name"), "give a common name"),
        (v.hostname, ("a_b",), "the hostname 'a_b' may contain only"),
        (v.domain_name, ("x",), "'x' is not a DNS domain"),
        (check_label, ("", "the host name"), "the host name cannot be empty"),
    ):
        with pytest.raises(InvalidInput) as refused:
            check(*args)
        assert refused.value.problems[0].startswith(words), refused.value.problems
        said = not_possible(refused.value.problems[0])
        assert said.startswith("Not possible: ") and said[14].islower() or said[14] in "'"
    # a refusal after the form (before anything ran) is said the same way in a notice
    assert error_text(InvalidInput(["nothing there"])) == "Not possible: nothing there."
