"""Host certificates end to end over TLS: a regenerated certificate is
served at once, the console waits for the admin's verdict instead of giving
up, and moves its pin only when told; keys and CSRs checked with
cryptography."""

import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.waiting import wait_for
from xstui.areas import watched_types
from xstui.services import security as sec
from xstui.services.actions import InvalidInput, RunContext
from xstui.sim.runner import start_simulator
from xstui.xapi.connection import Connection
from xstui.xapi.targets import parse_target
from xstui.xapi.tls import server_fingerprint


@pytest.fixture
def tls_pool():
    running = start_simulator("demo", tls=True, task_delay=0.01)
    target = parse_target(running.url)
    conn = Connection(
        target,
        "root",
        running.password,
        watch=watched_types(),
        fingerprints={target.trust_key: running.fingerprint},
    )
    conn.login()
    conn.start_events()
    wait_for(lambda: conn.cache.table("certificate"))
    yield running, conn
    conn.close()
    running.close()


def test_regenerate_then_trust_the_new_certificate(tls_pool):
    running, conn = tls_pool
    host = conn.this_host
    states = []
    conn.on_state = lambda state, detail: states.append((state, detail))
    action = sec.RegenerateCertificate(conn.cache, host, conn.target)
    assert action.plan().xe[0].startswith("xe host-reset-server-certificate")
    assert action.plan().title == f"{sec.NEW_CERTIFICATE} for xcp-a"  # trial s12 item 19
    action.execute(RunContext(conn))
    assert action.new_fingerprint and action.new_fingerprint != action.old_fingerprint
    assert server_fingerprint(conn.target.host, conn.target.port) == action.new_fingerprint
    # the record follows
    wait_for(
        lambda: (
            any(r.fingerprint == action.new_fingerprint for r in sec.host_certificates(conn.cache))
            or conn.state != "connected"
        )
    )
    # waiting for the verdict, not given up: it tries again and again
    wait_for(
        lambda: [d for s, d in states if s == "reconnecting" and "new certificate" in d][2:],
        what="three retries while the new certificate waits for a verdict",
    )
    assert conn.state == "reconnecting" and "new certificate" in conn.state_detail
    conn.repin(action.new_fingerprint)
    wait_for(lambda: conn.state == "connected")
    row = next(r for r in sec.host_certificates(conn.cache) if r.host == host)
    assert row.fingerprint == action.new_fingerprint and row.days_left >= 3600


def test_a_declined_certificate_is_refused(tls_pool):
    running, conn = tls_pool
    action = sec.RegenerateCertificate(conn.cache, conn.this_host, conn.target)
    action.execute(RunContext(conn))
    conn.expect_certificate_change(False)
    wait_for(lambda: conn.state == "refused", what="the new certificate refused")


def test_expiry_rows(tls_pool):
    _running, conn = tls_pool
    days = {r.name: r.days_left for r in sec.host_certificates(conn.cache)}
    assert days["xcp-b"] in (19, 20) and days["xcp-a"] > 2000


@pytest.mark.parametrize("key_type", sec.KEY_TYPES)
def test_key_and_csr(tmp_path, key_type):
    request = sec.CsrRequest.checked(
        key_type, "xcp-a.lab.example", "xcp-a.lab.example, 127.10.0.11"
    )
    key_pem, csr_pem = sec.make_csr(request)
    key = serialization.load_pem_private_key(key_pem, None)
    csr = x509.load_pem_x509_csr(csr_pem)
    assert csr.is_signature_valid
    assert csr.public_key().public_numbers() == key.public_key().public_numbers()
    assert csr.subject.rfc4514_string() == "CN=xcp-a.lab.example"
    sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(n.value) for n in sans] == ["xcp-a.lab.example", "127.10.0.11"]
    key_path, csr_path = sec.save_csr(tmp_path, request.cn, key_pem, csr_pem)
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    assert csr_path.read_bytes() == csr_pem


def test_the_subject_names_organisation_unit_and_country():
    request = sec.CsrRequest.checked(
        "RSA 2048", "xcp-a.lab.example", "xcp-a.lab.example", " Example SA ", "IT Ops", " fr "
    )
    assert (request.o, request.ou, request.c) == ("Example SA", "IT Ops", "FR")
    csr = x509.load_pem_x509_csr(sec.make_csr(request)[1])
    assert csr.subject.rfc4514_string() == "CN=xcp-a.lab.example,OU=IT Ops,O=Example SA,C=FR"


def test_only_keys_xapi_installs_are_offered():
    # ocaml/gencert/lib.ml validate_private_key: RSA of 2048 to 4096 bits only
    assert sec.KEY_TYPES == ("RSA 2048", "RSA 3072", "RSA 4096")
    with pytest.raises(InvalidInput, match="XAPI installs RSA keys of 2048 to 4096 bits only"):
        sec.CsrRequest.checked("ECDSA P-256", "xcp-a", "xcp-a")


@pytest.mark.parametrize(
    "o, ou, c, why",
    [
        ("", "", "France", "country 'France' is not two letters"),
        ("", "", "F1", "is not two letters"),
        ("x" * 65, "", "", "organisation is longer than 64 characters"),
        ("", "a\tb", "", "unit has a control character"),
    ],
)
def test_bad_subject_parts_are_refused(o, ou, c, why):
    with pytest.raises(InvalidInput, match=why):
        sec.CsrRequest.checked("RSA 2048", "xcp-a", "xcp-a", o, ou, c)


def test_bad_csr_requests_are_refused():
    with pytest.raises(InvalidInput):
        sec.CsrRequest.checked("DSA 1024", "xcp-a", "xcp-a")
    with pytest.raises(InvalidInput):
        sec.CsrRequest.checked("RSA 2048", "bad host!", "xcp-a")
    with pytest.raises(InvalidInput):
        sec.CsrRequest.checked("RSA 2048", "xcp-a", "")


def make_ca(name="Lab CA"):
    import datetime as dt

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def sign(csr_pem: bytes, ca, days=365, start_days_ago=1):
    import datetime as dt

    from cryptography.hazmat.primitives import hashes

    ca_key, ca_cert = ca
    csr = x509.load_pem_x509_csr(csr_pem)
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca_cert.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=start_days_ago))
        .not_valid_after(now - dt.timedelta(days=start_days_ago) + dt.timedelta(days=days))
        .add_extension(
            csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value,
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def foreign_key_and_csr(key, cn: str, names: str) -> tuple[bytes, bytes]:
    """A CSR for a key the console would not make (ECDSA, RSA 1024), as another tool would."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    from xstui.xapi.tls import alt_names

    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .add_extension(
            x509.SubjectAlternativeName(alt_names([n.strip() for n in names.split(",")])),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, csr.public_bytes(serialization.Encoding.PEM)


def write(tmp_path, name, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_install_a_ca_signed_certificate_and_trust_it(tls_pool, tmp_path):
    running, conn = tls_pool
    host = conn.this_host
    rec = conn.cache.get("host", host)
    ca = make_ca()
    key_pem, csr_pem = sec.make_csr(
        sec.CsrRequest.checked("RSA 2048", rec.hostname, f"{rec.hostname}, {rec.address}")
    )
    chain = ca[1].public_bytes(serialization.Encoding.PEM)
    paths = {
        "cert": write(tmp_path, "host.crt", sign(csr_pem, ca)),
        "key": write(tmp_path, "host.key", key_pem),
        "chain": write(tmp_path, "chain.pem", chain),
    }
    action = sec.InstallCertificate(conn.cache, host, conn.target, **paths)
    assert "xe host-server-certificate-install" in action.plan().xe[0]
    assert "PRIVATE KEY" not in repr(action) + str(action.plan())
    action.execute(RunContext(conn))

    def served() -> str:
        try:
            return server_fingerprint(conn.target.host, conn.target.port, timeout=3)
        except OSError:
            return ""  # restarting with the new certificate

    wait_for(lambda: served() == action.new_fingerprint)
    conn.repin(action.new_fingerprint)
    wait_for(lambda: conn.state == "connected")
    row = next(r for r in sec.host_certificates(conn.cache) if r.host == host)
    wait_for(
        lambda: (
            next(r for r in sec.host_certificates(conn.cache) if r.host == host).fingerprint
            == action.new_fingerprint
        )
    )
    assert row.name == rec.name_label


def test_a_bad_certificate_is_refused_before_any_call(tls_pool, tmp_path):
    running, conn = tls_pool
    host = conn.this_host
    rec = conn.cache.get("host", host)
    ca, other_ca = make_ca(), make_ca("Other CA")
    names = f"{rec.hostname}, {rec.address}"
    key_pem, csr_pem = sec.make_csr(sec.CsrRequest.checked("RSA 2048", rec.hostname, names))
    other_key, _ = sec.make_csr(sec.CsrRequest.checked("RSA 2048", rec.hostname, names))
    _, csr_without_ip = sec.make_csr(sec.CsrRequest.checked("RSA 2048", rec.hostname, rec.hostname))
    ec_key, ec_csr = foreign_key_and_csr(
        ec.generate_private_key(ec.SECP256R1()), rec.hostname, names
    )
    chain = write(tmp_path, "chain.pem", ca[1].public_bytes(serialization.Encoding.PEM))
    cases = {
        "does not belong": (sign(csr_pem, ca), other_key, chain),
        "expired": (sign(csr_pem, ca, days=10, start_days_ago=20), key_pem, chain),
        "does not name 127.10.0.11": (sign(csr_without_ip, ca), key_pem, chain),
        "chain does not verify": (
            sign(csr_pem, ca),
            key_pem,
            write(tmp_path, "other.pem", other_ca[1].public_bytes(serialization.Encoding.PEM)),
        ),
        "RSA keys of 2048 to 4096": (sign(ec_csr, ca), ec_key, chain),
    }
    generation = running.sim.store.generation
    for why, (cert, key, chain_path) in cases.items():
        with pytest.raises(InvalidInput) as refused:
            sec.InstallCertificate(
                conn.cache,
                host,
                conn.target,
                write(tmp_path, "c.crt", cert),
                write(tmp_path, "k.key", key),
                chain_path,
            )
        assert why in "; ".join(refused.value.problems), (why, refused.value.problems)
    with pytest.raises(InvalidInput, match="there is no file /nonexistent.crt"):
        sec.InstallCertificate(conn.cache, host, conn.target, "/nonexistent.crt", "x", "")
    assert running.sim.store.generation == generation


def test_without_reset_the_certificate_is_made_here_and_installed(tls_pool):
    """A host before XAPI 1.290 (XCP-ng 8.2) has install but no reset: the
    console makes the certificate, with the validity asked, and installs it."""
    running, conn = tls_pool
    running.sim.hidden.add("host.reset_server_certificate")
    conn._methods = None  # as after a login to that host
    mode = sec.regenerate_mode(conn.has_method, local=False)
    assert mode == "install"
    assert [f.name for f in sec.RegenerateCertificate.fields(mode)] == ["days"]
    with pytest.raises(InvalidInput):
        sec.RegenerateCertificate(conn.cache, conn.this_host, conn.target, mode, "0")
    action = sec.RegenerateCertificate(conn.cache, conn.this_host, conn.target, mode, "400")
    assert "host-server-certificate-install" in action.plan().xe[1]
    action.execute(RunContext(conn))
    assert action.new_fingerprint and action.new_fingerprint != action.old_fingerprint
    conn.repin(action.new_fingerprint)
    wait_for(lambda: conn.state == "connected")

    def days_left():
        return next(
            r for r in sec.host_certificates(conn.cache) if r.host == conn.this_host
        ).days_left

    wait_for(lambda: days_left() in (399, 400))


def test_an_old_host_needs_dom0(tls_pool):
    running, conn = tls_pool
    running.sim.hidden |= {"host.reset_server_certificate", "host.install_server_certificate"}
    conn._methods = None
    assert sec.regenerate_mode(conn.has_method, local=False) == ""
    with pytest.raises(InvalidInput) as refused:
        sec.RegenerateCertificate(conn.cache, conn.this_host, conn.target, "")
    assert "dom0" in str(refused.value)
    assert sec.regenerate_mode(conn.has_method, local=True) == "dom0"


def test_in_dom0_the_pem_file_is_replaced_and_the_old_one_kept(tmp_path, connection):
    from xstui.services.host.local import XAPI_PEM, LocalSystem
    from xstui.sim.dom0 import make_dom0

    connection.load_once()
    system = LocalSystem(make_dom0(tmp_path / "dom0"))
    pem = system.path(XAPI_PEM)
    old = pem.read_bytes()
    action = sec.RegenerateCertificate(
        connection.cache, connection.this_host, connection.target, "dom0", 30, system
    )
    assert action.plan().xe[-1] == "xe-toolstack-restart"
    outcome = action.execute(RunContext(connection))
    assert action.backup in outcome
    assert open(action.backup, "rb").read() == old
    assert stat.S_IMODE(os.stat(action.backup).st_mode) == 0o400
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o400
    cert = x509.load_pem_x509_certificate(pem.read_bytes())
    key = serialization.load_pem_private_key(pem.read_bytes(), None)
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert 29 <= (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 30
    assert (tmp_path / "dom0/tmp/toolstack-restarts").read_text().count("\n") == 1


@pytest.mark.parametrize(
    "key, refusal",
    [
        (
            ec.generate_private_key(ec.SECP256R1()),
            ["SERVER_CERTIFICATE_KEY_ALGORITHM_NOT_SUPPORTED", "p256"],
        ),
        (
            ec.generate_private_key(ec.SECP384R1()),
            ["SERVER_CERTIFICATE_KEY_ALGORITHM_NOT_SUPPORTED", "p384"],
        ),
        (
            rsa.generate_private_key(public_exponent=65537, key_size=1024),
            ["SERVER_CERTIFICATE_KEY_RSA_LENGTH_NOT_SUPPORTED", "1024"],
        ),
    ],
)
def test_the_simulator_installs_only_what_xapi_does(running_sim, xapi, key, refusal):
    """XAPI's ocaml/gencert/lib.ml validate_private_key: RSA of 2048 to 4096
    bits; else the key type as ocaml-x509 names it, or the RSA length."""
    import XenAPI

    host = xapi.xenapi.pool.get_master(xapi.xenapi.pool.get_all()[0])
    name = xapi.xenapi.host.get_hostname(host)
    key_pem, csr_pem = foreign_key_and_csr(key, name, name)
    before = xapi.xenapi.Certificate.get_all_records()
    with pytest.raises(XenAPI.Failure) as refused:
        xapi.xenapi.host.install_server_certificate(
            host, sign(csr_pem, make_ca()).decode(), key_pem.decode(), ""
        )
    assert refused.value.details == refusal
    assert xapi.xenapi.Certificate.get_all_records() == before


@pytest.mark.parametrize("tls", [False, True])
def test_a_release_without_certificate_records_asks_each_host(tls):
    """XenServer 6.5 and 7.1 have no Certificate class: each host is asked
    for the certificate it serves (host.get_server_certificate), its end and
    fingerprint read from it; over TLS, the one the host really serves."""
    running = start_simulator(
        "demo", release="xenserver-6.5", members=False, tls=tls, own_certificates=tls
    )
    target = parse_target(running.url)
    conn = Connection(
        target,
        "root",
        running.password,
        watch=watched_types(),
        fingerprints={target.trust_key: running.fingerprint} if tls else None,
    )
    try:
        conn.login()
        conn.load_once()
        assert not sec.keeps_records(conn) and not conn.cache.table("certificate")
        assert {r.not_after for r in sec.host_certificates(conn.cache)} == {""}
        served = sec.read_served(conn)
        rows = {r.name: r for r in sec.host_certificates(conn.cache, served=served)}
        assert all(len(r.fingerprint.split(":")) == 32 for r in rows.values())
        if tls:  # what each host serves: a fresh certificate, the master's the one seen
            assert rows["xcp-a"].fingerprint == server_fingerprint(target.host, target.port)
            assert all(r.days_left >= 3600 for r in rows.values())
        else:  # made for the dates the scenario gives
            assert rows["xcp-b"].days_left in (19, 20) and rows["xcp-a"].days_left > 2000
        assert sec.read_served(conn) == served  # the same certificate, asked again
    finally:
        conn.close()
        running.close()


def test_a_release_with_records_is_not_asked(connection):
    connection.load_once()
    assert sec.keeps_records(connection) and sec.read_served(connection) is None
