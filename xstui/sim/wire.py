"""XAPI's wire formats: XML-RPC (the classic) and JSON-RPC 1.0/2.0.

XAPI never uses XML-RPC faults for API errors: every response is a struct with
``Status`` and ``Value`` or ``ErrorDescription``. Ints travel as strings,
strings are bare ``<value>text</value>``, datetimes as ``dateTime.iso8601``.
"""

from __future__ import annotations

import json
import re
import xmlrpc.client
from xml.sax.saxutils import escape

from .schema import XDate


class I4(int):
    """An int XAPI sends as XML-RPC <i4> (event.from's valid_ref_counts);
    every other int goes as its decimal string, as XAPI sends int64s."""


class WireError(Exception):
    """A request that cannot be parsed at all (answered with HTTP 500)."""


def xml_value(value) -> str:
    out: list[str] = []
    _xml(value, out.append)
    return "".join(out)


def _text(v: str) -> str:
    """XML-escaped (most strings need nothing: checked first, it is cheaper)."""
    return escape(v) if "&" in v or "<" in v or ">" in v else v


_BOOLEAN = {
    True: "<value><boolean>1</boolean></value>",
    False: "<value><boolean>0</boolean></value>",
}


def _xml(v, put) -> None:
    """``v`` as XML-RPC, piece by piece to ``put``. The common types are told
    by their exact type first (a reply is mostly strings, dicts and lists:
    VM.get_record's ~100 members each time), subclasses after."""
    t = type(v)
    if t is str:
        put(f"<value>{_text(v)}</value>")
    elif t is dict:
        put("<value><struct>")
        for k, item in v.items():
            name = _text(k if type(k) is str else str(k))
            leaf = type(item)  # most members are strings, bools and ints: written here
            if leaf is str:
                put(f"<member><name>{name}</name><value>{_text(item)}</value></member>")
            elif leaf is bool:
                put(f"<member><name>{name}</name>{_BOOLEAN[item]}</member>")
            elif leaf is int:
                put(f"<member><name>{name}</name><value>{item}</value></member>")
            else:
                put(f"<member><name>{name}</name>")
                _xml(item, put)
                put("</member>")
        put("</struct></value>")
    elif t is list or t is tuple:
        put("<value><array><data>")
        for item in v:
            if type(item) is str:
                put(f"<value>{_text(item)}</value>")
            else:
                _xml(item, put)
        put("</data></array></value>")
    elif t is bool:
        put(_BOOLEAN[v])
    elif isinstance(v, XDate):
        put(f"<value><dateTime.iso8601>{v}</dateTime.iso8601></value>")
    elif isinstance(v, str):
        put(f"<value>{_text(v)}</value>")
    elif isinstance(v, I4):
        put(f"<value><i4>{v}</i4></value>")
    elif isinstance(v, int):
        put(f"<value>{v}</value>")
    elif isinstance(v, float):
        put(f"<value><double>{v!r}</double></value>")
    elif isinstance(v, dict):
        _xml(dict(v), put)
    elif isinstance(v, list | tuple):
        _xml(list(v), put)
    elif v is None:
        put("<value></value>")
    else:
        raise TypeError(f"cannot marshal {type(v).__name__}")


def xml_response(payload: dict) -> bytes:
    return (
        "<?xml version='1.0'?>\n<methodResponse><params><param>"
        + xml_value(payload)
        + "</param></params></methodResponse>\n"
    ).encode()


def success(value) -> dict:
    return {"Status": "Success", "Value": "" if value is None else value}


def failure(description: list[str]) -> dict:
    return {"Status": "Failure", "ErrorDescription": description}


_TEXT = r"[^<>&\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]*"  # the same to any XML parser
_PLAIN_VALUE = rf"<value>(?:<string>({_TEXT})</string>|({_TEXT}))</value>"
_PLAIN_CALL = re.compile(
    rf"(?:<\?xml version=['\"]1\.0['\"]\?>)?\s*<methodCall>\s*"
    rf"<methodName>([\w.]+)</methodName>\s*<params>"
    rf"((?:\s*<param>\s*{_PLAIN_VALUE}\s*</param>)*)\s*</params>\s*</methodCall>\s*"
)
_PLAIN_PARAMS = re.compile(_PLAIN_VALUE)


def _plain_call(body: bytes) -> tuple[str, list] | None:
    """A call whose parameters are all plain strings (most: a session and a
    ref), read by two regular expressions instead of an XML parser; None
    for anything else."""
    try:
        match = _PLAIN_CALL.fullmatch(body.decode())
    except UnicodeDecodeError:
        return None
    if match is None:
        return None
    return match[1], [a or b for a, b in _PLAIN_PARAMS.findall(match[2])]


def parse_xml_call(body: bytes) -> tuple[str, list]:
    if plain := _plain_call(body):
        return plain
    try:
        params, method = xmlrpc.client.loads(body, use_builtin_types=True)
    except Exception as exc:  # malformed XML, unknown tags
        raise WireError(str(exc)) from exc
    if not method:
        raise WireError("not a methodCall")
    return method, [_from_xmlrpc(p) for p in params]


def _from_xmlrpc(v):
    if isinstance(v, xmlrpc.client.DateTime):
        return XDate(v.value if v.value.endswith("Z") else v.value + "Z")
    if hasattr(v, "strftime"):  # datetime with use_builtin_types
        return XDate(v.strftime("%Y%m%dT%H:%M:%SZ"))
    if isinstance(v, list):
        return [_from_xmlrpc(x) for x in v]
    if isinstance(v, dict):
        return {k: _from_xmlrpc(x) for k, x in v.items()}
    return v


# JSON-RPC --------------------------------------------------------------------
def parse_json_call(body: bytes) -> tuple[str, list, object, str | None]:
    """(method, params, id, version) of a JSON-RPC request; version is "2.0" or None."""
    try:
        req = json.loads(body)
        method = req["method"]
        params = req.get("params", [])
    except Exception as exc:
        raise WireError(str(exc)) from exc
    if not isinstance(params, list):
        raise WireError("params must be an array")
    return method, params, req.get("id"), req.get("jsonrpc")


def json_response(outcome: dict, req_id, version: str | None) -> bytes:
    """XAPI's JSON-RPC reply: ``result`` on success; on failure ``error`` with the
    code in ``message`` and the parameters in ``data`` (as XAPI has done since 7.3)."""
    body: dict = {"jsonrpc": "2.0"} if version == "2.0" else {}
    if outcome["Status"] == "Success":
        body["result"] = outcome["Value"]
        if version != "2.0":
            body["error"] = None
    else:
        code, *params = outcome["ErrorDescription"]
        body["error"] = {"code": 1, "message": code, "data": params}
        if version != "2.0":
            body["result"] = None
    body["id"] = req_id
    return json.dumps(body).encode()
