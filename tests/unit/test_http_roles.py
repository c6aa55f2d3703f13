"""Every HTTP handler the simulator serves checks the role of the session, as
XAPI's xapi_http.ml does (assert_credentials_ok: the permission
"http/<action>" of ocaml/idl/datamodel.ml's http_actions): a role without it
gets 403 Forbidden and the request's task fails with RBAC_PERMISSION_DENIED,
before anything is read or written."""

import http.client
from urllib.parse import urlencode, urlsplit

import pytest
import XenAPI

from xstui.datamodel import ROLES, http_permission, least_role

# (method, URI, query) for each handler the simulator serves; the query is
# valid enough to reach the role check (which comes first)
HANDLERS = [
    ("GET", "/pool/xmldbdump", {}),
    ("PUT", "/pool/xmldbdump", {"dry_run": "true"}),
    ("GET", "/host_backup", {}),
    ("GET", "/export", {"uuid": "none"}),
    ("GET", "/export_metadata", {"uuid": "none"}),
    ("GET", "/updates", {}),
    ("PUT", "/import_raw_vdi", {"vdi": "OpaqueRef:NULL"}),
    ("PUT", "/pool_patch_upload", {}),
    ("PUT", "/import_metadata", {"dry_run": "true"}),
    ("PUT", "/import", {}),
]
USERS = {"alice": ("Alice-Demo1", "read-only"), "bob": ("Bob-Demo1", "pool-operator")}


def request(url: str, method: str, uri: str, query: dict) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        body = b"" if method == "GET" else b"not a real body"
        conn.request(method, f"{uri}?{urlencode(query)}", body=body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("user", sorted(USERS))
def test_each_handler_serves_or_refuses_as_the_role_allows(joined_sim, user):
    password, role = USERS[user]
    session = XenAPI.Session(joined_sim.url)
    session.xenapi.login_with_password(user, password, "1.0", "tests")
    x = session.xenapi
    served = refused = 0
    for method, uri, query in HANDLERS:
        permission = http_permission(method, uri)
        assert permission, f"{method} {uri} is not in http_actions.tsv"
        allowed = ROLES.index(role) <= ROLES.index(least_role(permission))
        task = x.task.create(f"{method} {uri}", "")
        status, body = request(
            joined_sim.url, method, uri, {**query, "session_id": session._session, "task_id": task}
        )
        record = x.task.get_record(task)
        if allowed:
            served += 1
            assert status != 403, (method, uri, body)
        else:
            refused += 1
            assert status == 403, (method, uri, status)
            assert record["status"] == "failure"
            assert record["error_info"][:2] == ["RBAC_PERMISSION_DENIED", permission]
    # read-only may use none of them; a pool operator all but the database and
    # the host backup (pool-admin only: they hold the pool's secrets)
    assert (served, refused) == ((0, 10) if role == "read-only" else (7, 3))
