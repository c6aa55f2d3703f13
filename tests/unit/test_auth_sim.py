"""The simulator's external authentication, subjects, roles and RBAC follow
XAPI: joining checks DNS, the join account, the OU and host names; directory
users log in with their subject's role and are refused what it does not allow."""

import XenAPI

from tests.unit.test_network_sim import fails
from tests.waiting import wait_for

JOIN = {"user": "Administrator", "pass": "Join-Demo1"}


def login(running, user, password):
    session = XenAPI.Session(running.url)
    session.xenapi.login_with_password(user, password, "1.0", "tests")
    return session


def test_join_checks_what_the_domain_controller_would(xapi, running_sim):
    x = xapi.xenapi
    pool = x.pool.get_all()[0]
    fails("AUTH_UNKNOWN_TYPE", x.pool.enable_external_auth, pool, JOIN, "corp.example", "LDAP")
    fails(
        "POOL_AUTH_ENABLE_FAILED_DOMAIN_LOOKUP_FAILED",
        x.pool.enable_external_auth,
        pool,
        JOIN,
        "corp.invalid",
        "AD",
    )
    wrong = {**JOIN, "pass": "nope"}
    fails(
        "POOL_AUTH_ENABLE_FAILED_WRONG_CREDENTIALS",
        x.pool.enable_external_auth,
        pool,
        wrong,
        "corp.example",
        "AD",
    )
    bad_ou = {**JOIN, "ou": "OU=Nowhere,DC=corp,DC=example"}
    fails(
        "POOL_AUTH_ENABLE_FAILED_INVALID_OU",
        x.pool.enable_external_auth,
        pool,
        bad_ou,
        "corp.example",
        "AD",
    )
    assert all(not h["external_auth_type"] for h in x.host.get_all_records().values())
    x.pool.enable_external_auth(pool, JOIN, "CORP.example", "AD")
    hosts = x.host.get_all_records().values()
    assert {h["external_auth_service_name"] for h in hosts} == {"corp.example"}
    assert all("pass" not in h["external_auth_configuration"] for h in hosts)
    fails(
        "POOL_AUTH_ALREADY_ENABLED", x.pool.enable_external_auth, pool, JOIN, "corp.example", "AD"
    )


def test_join_needs_the_controllers_dns_on_every_host(xapi, running_sim):
    x = xapi.xenapi
    st = running_sim.sim.store
    xcp_c = st.find_one("host", name_label="xcp-c")
    pif = st.find("PIF", host=xcp_c, management=True)[0]
    st.set("PIF", pif, DNS="127.10.0.99")
    details = fails(
        "POOL_AUTH_ENABLE_FAILED_DOMAIN_LOOKUP_FAILED",
        x.pool.enable_external_auth,
        x.pool.get_all()[0],
        JOIN,
        "corp.example",
        "AD",
    )
    assert details[1] == xcp_c


def test_subjects_and_roles(xapi, running_sim):
    x = xapi.xenapi
    fails("AUTH_IS_DISABLED", x.auth.get_subject_identifier, "alice")
    x.pool.enable_external_auth(x.pool.get_all()[0], JOIN, "corp.example", "AD")
    fails("SUBJECT_CANNOT_BE_RESOLVED", x.auth.get_subject_identifier, "mallory")
    sid = x.auth.get_subject_identifier("CORP\\alice")
    assert sid == x.auth.get_subject_identifier("alice@corp.example")
    info = x.auth.get_subject_information_from_identifier(sid)
    assert info["subject-name"] == "CORP\\alice"
    fails("SESSION_AUTHORIZATION_FAILED", login, running_sim, "alice", "Alice-Demo1")
    subject = x.subject.create({"subject_identifier": sid, "other_config": info})
    fails("SUBJECT_ALREADY_EXISTS", x.subject.create, {"subject_identifier": sid})
    fails("SESSION_AUTHORIZATION_FAILED", login, running_sim, "alice", "Alice-Demo1")
    read_only = x.role.get_by_name_label("read-only")[0]
    x.subject.add_to_roles(subject, read_only)
    fails("ROLE_ALREADY_EXISTS", x.subject.add_to_roles, subject, read_only)
    fails("SESSION_AUTHENTICATION_FAILED", login, running_sim, "alice", "wrong")
    alice = login(running_sim, "alice", "Alice-Demo1")
    x.subject.destroy(subject)  # her sessions end with it (the client logs in again: refused)
    fails("SESSION_AUTHORIZATION_FAILED", alice.xenapi.pool.get_all)


def test_rbac_follows_the_role(joined_sim):
    joined = joined_sim
    alice = login(joined, "CORP\\alice", "Alice-Demo1").xenapi
    host = alice.host.get_all()[0]
    assert alice.host.get_record(host)["name_label"]
    details = fails("RBAC_PERMISSION_DENIED", alice.host.disable, host)
    assert details[1] == "host.disable"
    fails("RBAC_PERMISSION_DENIED", alice.Async.host.reboot, host)
    fails("RBAC_PERMISSION_DENIED", alice.pool.set_name_label, alice.pool.get_all()[0], "x")
    bob = login(joined, "bob", "Bob-Demo1").xenapi  # through the xen-admins group
    bob.host.disable(host)
    bob.host.enable(host)
    fails(
        "RBAC_PERMISSION_DENIED",
        bob.pool.disable_external_auth,
        bob.pool.get_all()[0],
        {},
    )
    fails("USER_IS_NOT_LOCAL_SUPERUSER", bob.session.change_password, "", "new")


def test_disabling_ends_directory_sessions(joined_sim):
    joined = joined_sim
    bob = login(joined, "bob", "Bob-Demo1").xenapi
    root = login(joined, "root", joined.password).xenapi
    details = fails(
        "POOL_AUTH_DISABLE_FAILED_WRONG_CREDENTIALS",
        root.pool.disable_external_auth,
        root.pool.get_all()[0],
        {"user": "Administrator", "pass": "nope"},
    )
    assert details[0].startswith("POOL_AUTH_DISABLE")
    assert all(not h["external_auth_type"] for h in root.host.get_all_records().values())
    # his session ended; the client's automatic new login is refused
    fails("SESSION_AUTHENTICATION_FAILED", bob.pool.get_all)
    assert root.pool.get_all()


def test_the_join_lists_every_port_the_controllers_must_answer(connection):
    """The ports XenServer's AD documentation lists, each with its use, in the
    join's prerequisites and in the hint when the controllers do not answer."""
    from xstui.services.security.directory import AD_PORTS, prerequisites
    from xstui.xapi.errors import describe

    assert [p for p, _, _ in AD_PORTS] == [53, 88, 123, 137, 139, 389, 445, 464, 3268]
    connection.start_events()
    wait_for(lambda: connection.cache.table("host"), what="the hosts")
    listed = next(c.text for c in prerequisites(connection.cache) if "reach the" in c.text)
    assert "137 UDP (NetBIOS names)" in listed and "139 TCP (NetBIOS sessions)" in listed
    assert "3268 TCP (Global Catalog)" in listed and "445 TCP (SMB)" in listed
    hint = describe(["POOL_AUTH_ENABLE_FAILED_UNAVAILABLE", "", ""]).remedy
    assert all(f"{p}," in hint or f"{p})" in hint for p, _, _ in AD_PORTS)
