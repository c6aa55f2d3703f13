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
