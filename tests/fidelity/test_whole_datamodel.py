"""The simulator knows the whole datamodel of the release it plays: every
current class answers get_all_records, and no explicit message is unknown
(NOT_IMPLEMENTED at worst). The datamodel is ../shared's xenapi.json when it
is there, else the project's schema generated from it."""

import json
import xmlrpc.client

import pytest

from tests.conftest import SHARED
from xstui.datamodel import class_spec, classes, explicit_messages
from xstui.sim.api import implicit


def datamodel() -> tuple[list[str], list[tuple[str, str, int]]]:
    """(classes with records, messages as (class, name, arity)): from
    xenapi.json every current message, implicit ones (getters, setters,
    constructors) included; else the explicit ones of the generated schema."""
    path = SHARED / "xapi" / "xenapi.json"
    if not path.exists():
        msgs = [(c, m, len(types)) for (c, m), types in explicit_messages().items()]
        listed = [c for c in sorted(classes()) if implicit(class_spec(c), "get_all_records")]
        return listed, msgs  # every table but session's
    model = json.loads(path.read_text())

    def removed(item) -> bool:
        return any(t["transition"] == "removed" for t in item["lifecycle"]["transitions"])

    current = [c for c in model if not removed(c)]
    stored = [
        c["name"] for c in current if any(m["name"] == "get_all_records" for m in c["messages"])
    ]
    msgs = [
        (c["name"], m["name"], len(m["params"]))
        for c in current
        for m in c["messages"]
        if not removed(m)
    ]
    return stored, msgs


@pytest.fixture
def rpc(running_sim):
    proxy = xmlrpc.client.ServerProxy(running_sim.url, allow_none=True)
    login = proxy.session.login_with_password("root", running_sim.password, "1.0", "walk")
    return proxy, login["Value"]


def test_every_class_lists_its_records(rpc):
    proxy, session = rpc
    stored, _ = datamodel()
    failed = {}
    for cls in stored:
        answer = getattr(proxy, f"{cls}.get_all_records")(session)
        if answer["Status"] != "Success" or not isinstance(answer["Value"], dict):
            failed[cls] = answer.get("ErrorDescription")
    assert not failed, failed
    assert len(stored) >= 60


def test_no_message_is_unknown(rpc):
    proxy, session = rpc
    _, msgs = datamodel()
    unknown = []
    for cls, name, arity in msgs:
        # one argument too many: XAPI checks the count before anything runs
        args = [session] + ["OpaqueRef:NULL"] * arity
        answer = getattr(proxy, f"{cls}.{name}")(*args)
        error = answer.get("ErrorDescription") or [""]
        if error[0] == "MESSAGE_METHOD_UNKNOWN":
            unknown.append(f"{cls}.{name}")
        assert answer["Status"] == "Failure", f"{cls}.{name} ran with {len(args)} arguments"
    assert not unknown, f"{len(unknown)} unknown: {unknown[:20]}"
    assert len(msgs) >= 500
