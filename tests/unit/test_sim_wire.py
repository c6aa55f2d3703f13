"""Raw wire format: the XML and JSON that XAPI clients actually parse."""

import json
import re
import urllib.request
import xmlrpc.client

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xstui.sim.wire import WireError, _plain_call, parse_xml_call


def post(url: str, path: str, body: bytes, ctype: str = "text/xml") -> tuple[int, bytes]:
    req = urllib.request.Request(url + path, data=body, headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def call_xml(name: str, *params: str) -> bytes:
    ps = "".join(f"<param><value>{p}</value></param>" for p in params)
    return f"<?xml version='1.0'?><methodCall><methodName>{name}</methodName><params>{ps}</params></methodCall>".encode()


def login_xml(running_sim) -> str:
    _, body = post(
        running_sim.url, "/", call_xml("session.login_with_password", "root", running_sim.password)
    )
    return re.search(rb"OpaqueRef:[0-9a-f-]+", body).group().decode()


def test_success_envelope_bare_strings_and_int_as_string(running_sim):
    session = login_xml(running_sim)
    host = running_sim.sim.master
    status, body = post(running_sim.url, "/RPC2", call_xml("host.get_record", session, host))
    assert status == 200
    text = body.decode()
    assert "<member><name>Status</name><value>Success</value></member>" in text
    assert "<name>name_label</name><value>xcp-a</value>" in text  # bare string, no <string>
    assert re.search(r"<name>API_version_major</name><value>2</value>", text)  # int as string
    assert "<name>enabled</name><value><boolean>1</boolean></value>" in text
    assert re.search(r"<name>suspend_image_sr</name><value>OpaqueRef:NULL</value>", text)
    assert re.search(r"<dateTime.iso8601>\d{8}T\d\d:\d\d:\d\dZ</dateTime.iso8601>", text)
    assert "<fault>" not in text


def test_failure_envelope(running_sim):
    _, body = post(running_sim.url, "/", call_xml("VM.get_all", "OpaqueRef:bogus"))
    text = body.decode()
    assert "<name>Status</name><value>Failure</value>" in text
    assert "<name>ErrorDescription</name><value><array><data><value>SESSION_INVALID</value>" in text


def test_ints_accepted_as_int_i8_or_string(running_sim):
    session = login_xml(running_sim)
    vm = running_sim.sim.store.find_one("VM", name_label="web-01")
    for encoded in ("<int>3</int>", "<i4>3</i4>", "<i8>3</i8>", "3"):
        body = call_xml("VM.set_user_version", session, vm, encoded)
        _, out = post(running_sim.url, "/", body)
        assert b"Success" in out, encoded
        assert running_sim.sim.store.get("VM", vm)["user_version"] == 3


def test_underscore_alias(running_sim):
    session = login_xml(running_sim)
    _, body = post(
        running_sim.url,
        "/",
        call_xml(
            "event_from",
            session,
            "<array><data><value>pool</value></data></array>",
            "",
            "<double>0</double>",
        ),
    )
    assert b"<name>token</name>" in body
    _, body = post(running_sim.url, "/", call_xml("VM_metrics_get_all", session))
    assert b"Success" in body


def test_malformed_xml_is_http_500(running_sim):
    status, _ = post(running_sim.url, "/", b"<methodCall><methodName>session.logout</methodName>")
    assert status == 500


def test_jsonrpc_v1_and_v2(running_sim):
    req = {
        "method": "session.login_with_password",
        "params": ["root", running_sim.password],
        "id": 7,
    }
    _, body = post(running_sim.url, "/jsonrpc", json.dumps(req).encode(), "application/json")
    v1 = json.loads(body)
    assert v1["error"] is None and v1["id"] == 7 and v1["result"].startswith("OpaqueRef:")
    session = v1["result"]
    req = {"jsonrpc": "2.0", "method": "VM.get_all_records", "params": [session], "id": "a"}
    _, body = post(running_sim.url, "/jsonrpc", json.dumps(req).encode(), "application/json")
    v2 = json.loads(body)
    assert v2["jsonrpc"] == "2.0" and v2["id"] == "a" and "error" not in v2
    assert any(r["name_label"] == "web-01" for r in v2["result"].values())
    # a session from JSON-RPC works over XML-RPC too
    _, out = post(running_sim.url, "/", call_xml("pool.get_all", session))
    assert b"Success" in out
    req = {"jsonrpc": "2.0", "method": "VM.get_record", "params": [session, "OpaqueRef:x"], "id": 2}
    _, body = post(running_sim.url, "/jsonrpc", json.dumps(req).encode(), "application/json")
    err = json.loads(body)["error"]
    assert err["message"] == "HANDLE_INVALID" and err["data"] == ["VM", "OpaqueRef:x"]


def test_pool_dump_over_http(running_sim):
    from xstui.sim.dump import load_dump

    session = login_xml(running_sim)
    with urllib.request.urlopen(f"{running_sim.url}/pool/xmldbdump?session_id={session}") as resp:
        text = resp.read()
    store = load_dump(text)
    assert sorted(h["name_label"] for h in store.table("host").values()) == [
        "xcp-a",
        "xcp-b",
        "xcp-c",
    ]
    status, _ = post(running_sim.url, "/pool/xmldbdump?session_id=nope", b"")
    try:
        urllib.request.urlopen(f"{running_sim.url}/pool/xmldbdump?session_id=nope")
        raise AssertionError("expected 403")
    except urllib.error.HTTPError as err:
        assert err.code == 403


# the plain-call reader (strings only) against the XML parser ------------------
@settings(max_examples=300, deadline=None)
@given(
    method=st.from_regex(r"[A-Za-z_][\w.]{0,30}", fullmatch=True),
    params=st.lists(
        st.one_of(
            st.text(),
            st.integers(-(2**31), 2**31 - 1),
            st.booleans(),
            st.dictionaries(st.text(), st.text()),
        ),
        max_size=4,
    ),
)
def test_any_call_reads_as_the_xml_parser_reads_it(method, params):
    """Plain string calls take the fast reader; the rest the XML parser:
    the same outcome either way, including a refusal."""
    body = xmlrpc.client.dumps(tuple(params), method, allow_none=True).encode()
    try:
        expected = xmlrpc.client.loads(body, use_builtin_types=True)
    except Exception:  # what XML cannot carry (control characters)
        with pytest.raises(WireError):
            parse_xml_call(body)
        return
    got_method, got_params = parse_xml_call(body)
    assert (got_method, got_params) == (expected[1], list(expected[0]))


def test_plain_calls_take_the_fast_reader():
    body = xmlrpc.client.dumps(("OpaqueRef:s", "b c", "é>"), "VM.get_record").encode()
    assert _plain_call(body) is None  # ">" goes to the parser
    body = xmlrpc.client.dumps(("OpaqueRef:s", "x y"), "VM.get_record").encode()
    assert _plain_call(body) == ("VM.get_record", ["OpaqueRef:s", "x y"])
    bare = b"<methodCall><methodName>m</methodName><params><param><value>a</value></param></params></methodCall>"
    assert _plain_call(bare) == ("m", ["a"])
