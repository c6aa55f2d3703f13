"""XAPI's wire formats: XML-RPC (the classic) and JSON-RPC 1.0/2.0.

XAPI never uses XML-RPC faults for API errors: every response is a struct with
``Status`` and ``Value`` or ``ErrorDescription``. Ints travel as strings,
strings are bare ``<value>text</value>``, datetimes as ``dateTime.iso8601``.
"""

from __future__ import annotations

import json
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
            put(f"<member><name>{_text(k if type(k) is str else str(k))}</name>")
            _xml(item, put)
            put("</member>")
        put("</struct></value>")
    elif t is list or t is tuple:
        put("<value><array><data>")
        for item in v:
            _xml(item, put)
        put("</data></array></value>")
    elif t is bool:
        put("<value><boolean>1</boolean></value>" if v else "<value><boolean>0</boolean></value>")
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


def parse_xml_call(body: bytes) -> tuple[str, list]:
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
