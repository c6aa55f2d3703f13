"""Host certificates: what each host presents (the pool's ``Certificate``
records, and the live TLS handshake for the console's own host), a new
self-signed one (made by the host, or made here and installed, or written to
an older host's PEM file in dom0) with the console's pin moved only once the
admin has compared the fingerprints, and a key and CSR for a CA-signed one,
made here with ``cryptography``."""

from __future__ import annotations

import datetime
import ipaddress
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

from ... import clock
from ...files import write_atomic
from ...xapi import views
from ...xapi.cache import Cache
from ...xapi.config import safe_stem
from ...xapi.targets import Target
from ...xapi.tls import alt_names, self_signed, server_fingerprint
from .. import validate as v
from ..actions import Action, InvalidInput, Plan, RunContext
from ..fields import HERE, Field, optional, problem_of
from ..host.hosts import host_or_refuse
from ..host.local import XAPI_PEM, LocalError, LocalSystem

# what host.install_server_certificate takes: RSA of 2048 to 4096 bits, any
# other algorithm SERVER_CERTIFICATE_KEY_ALGORITHM_NOT_SUPPORTED (XAPI's
# ocaml/gencert/lib.ml, validate_private_key)
KEY_TYPES = ("RSA 2048", "RSA 3072", "RSA 4096")
SUBJECT_MAX = 64  # RFC 5280: ub-organization-name, ub-organizational-unit-name
NEW_CERT_SECONDS = 15  # how long to wait for the host to serve its new certificate


@dataclass(frozen=True)
class CertRow:
    host: str  # ref
    name: str
    days_left: int | None
    not_after: str
    fingerprint: str


@dataclass(frozen=True)
class Served:
    """A host's certificate as it serves it (``host.get_server_certificate``)."""

    not_after: datetime.datetime | None
    fingerprint: str


def host_certificates(
    cache: Cache, now: float | None = None, served: dict[str, Served] | None = None
) -> list[CertRow]:
    """Each host's certificate: its ``Certificate`` record, else (a release
    before 8.2 keeps none; a host may lack one) what it serves, as read by
    read_served."""
    now = clock.now() if now is None else now
    served = served or {}
    with cache.lock:
        certs = views.host_certificate_records(cache)
        rows = []
        for h in sorted(cache.table("host").values(), key=lambda h: h.name_label):
            cert = certs.get(h.ref)
            if cert is not None:
                end, fingerprint = cert.not_after, views.certificate_fingerprint(cert)
            elif h.ref in served:
                end, fingerprint = served[h.ref].not_after, served[h.ref].fingerprint
            else:
                end, fingerprint = None, ""
            rows.append(
                CertRow(
                    h.ref,
                    h.name_label,
                    clock.days_left(end, now) if end else None,
                    end.strftime("%Y-%m-%d") if end else "",
                    fingerprint,
                )
            )
        return rows


SERVED_CALL = "host.get_server_certificate"


def keeps_records(conn) -> bool:
    """Whether the release keeps ``Certificate`` records (XenServer 8.2 and
    later): before, each host's certificate is asked of the host itself."""
    return conn.has_method("Certificate.get_all")


def read_served(conn) -> dict[str, Served] | None:
    """Each live host without a certificate record (every host, where the
    release keeps none): the certificate it serves
    (``host.get_server_certificate``), its end and SHA-256 fingerprint read
    here. None when no host lacks a record, or the release cannot say; a
    host that does not answer is left out."""
    cache = conn.cache
    with cache.lock:
        recorded = views.host_certificate_records(cache)
        hosts = [
            h.ref
            for h in cache.table("host").values()
            if h.ref not in recorded and views.is_live(cache, h)
        ]
        if len(recorded) == len(cache.table("host")):
            return None
    if not conn.has_method(SERVED_CALL):
        return None
    # (imported only here: cryptography's x509 is a tenth of a second to import,
    # and on 8.2 and later every host has its record)
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from ...xapi.connection import XapiFailure
    from ...xapi.tls import format_fingerprint

    out = {}
    for ref in hosts:
        try:
            cert = x509.load_pem_x509_certificate(str(conn.call(SERVED_CALL, ref)).encode())
        except (XapiFailure, ValueError):
            continue
        out[ref] = Served(
            cert.not_valid_after_utc, format_fingerprint(cert.public_bytes(Encoding.DER))
        )
    return out


SERVED_SOURCE = f"the host ({SERVED_CALL})"


def served_fingerprint(conn, host: str) -> tuple[str, str]:
    """(fingerprint, where from) of the certificate ``host`` serves, as
    Security (F6) shows it where there is no record (a release before 8.2):
    what Status shows when no TLS handshake tells it (plain HTTP); ("", "")
    when the host has a record, the release cannot say or the host does not."""
    from ...xapi.connection import ConnectionLost, XapiFailure

    try:
        served = read_served(conn) or {}
    except (XapiFailure, ConnectionLost):
        return "", ""
    return (served[host].fingerprint, SERVED_SOURCE) if host in served else ("", "")


def trusted_cas(cache: Cache, now: float | None = None) -> list[CertRow]:
    """The CA certificates the pool trusts (``Certificate`` records of type ca)."""
    now = clock.now() if now is None else now
    with cache.lock:  # (a release that sends no type keeps host certificates only)
        cas = [c for c in cache.table("certificate").values() if c.type == "ca"]
    return [
        CertRow(
            c.ref,
            c.name,
            clock.days_left(c.not_after, now) if c.not_after else None,
            c.not_after.strftime("%Y-%m-%d") if c.not_after else "",
            c.fingerprint_sha256 or c.fingerprint,
        )
        for c in sorted(cas, key=lambda c: c.name)
    ]


CRL_CALL = "pool.crl_list"


def read_crls(conn) -> list[str] | None:
    """The pool's CRLs by name; None when the host has no such call or the
    session's role may not read them (Pool Operator and up)."""
    if not conn.access.may(CRL_CALL) or not conn.has_method(CRL_CALL):
        return None
    return sorted(conn.call(CRL_CALL))


# how a host gets a new self-signed certificate, newest API first
RESET, INSTALL, DOM0 = "reset", "install", "dom0"
DAYS_DEFAULT = 3650


def regenerate_mode(has_method, local: bool) -> str:
    """RESET where the host makes its own (``host.reset_server_certificate``),
    INSTALL where it takes one made here (``host.install_server_certificate``),
    DOM0 for older hosts, whose PEM file is replaced in dom0; '' when none
    applies (an older host, and the console not in its dom0)."""
    if has_method("host.reset_server_certificate"):
        return RESET
    if has_method("host.install_server_certificate"):
        return INSTALL
    return DOM0 if local else ""


NEW_CERTIFICATE = "New certificate"  # the action's one name: its key, its form, its plan


class RegenerateCertificate(Action):
    """A new self-signed certificate for a host: made by the host itself, or
    made here and installed, or (before XenServer 8.2) written to its PEM
    file in dom0 with the old one kept, then the toolstack restarted."""

    calls = ("host.reset_server_certificate", "host.install_server_certificate")
    optional = calls  # regenerate_mode takes the way the release has (dom0's PEM before 8.2)

    @classmethod
    def unavailable(cls, conn) -> str:
        """Before 8.2 the way is dom0's PEM file: from dom0 only."""
        if regenerate_mode(conn.has_method, conn.target.kind == "local"):
            return ""
        return (
            f"{conn.release} has no host.reset_server_certificate nor "
            "host.install_server_certificate: its certificate is a file in dom0, "
            "run xstui local there"
        )

    @staticmethod
    def fields(mode: str) -> list[Field]:
        if mode == RESET:
            return []  # the host decides the validity
        check = problem_of(v.int_in_range, "validity", 1, 10950, "days")
        return [Field("days", "Valid for (days)", str(DAYS_DEFAULT), check)]

    def __init__(
        self,
        cache: Cache,
        host: str,
        target: Target,
        mode: str = RESET,
        days: str | int = DAYS_DEFAULT,
        system: LocalSystem | None = None,
    ):
        if not mode:
            raise InvalidInput(
                [
                    "this host's API cannot replace its certificate (it predates XenServer 8.2): "
                    "run xstui in the host's dom0 (xstui local), which replaces the PEM file"
                ]
            )
        self.mode, self.days = mode, v.int_in_range(days, "validity", 1, 10950, "days")
        self.system = system if mode == DOM0 else None
        if mode == DOM0 and self.system is None:
            raise InvalidInput(["replacing the PEM file needs the console in the host's dom0"])
        with cache.lock:
            rec = host_or_refuse(cache, host)
            self.host, self.uuid, self.name, self.address = (
                host,
                rec.uuid,
                rec.name_label,
                rec.address,
            )
            self.hostname = rec.hostname or rec.name_label
        # the console's own host over HTTPS: its new fingerprint is read and shown
        self.watch = target if target.scheme == "https" and target.host == rec.address else None
        self.old_fingerprint = ""
        self.new_fingerprint = ""
        self.backup = ""  # DOM0: where the old PEM file was kept

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys([self.hostname, self.address]))

    def plan(self) -> Plan:
        impact = [
            f"{self.name} presents a new self-signed certificate for {self.address} and "
            f"{self.hostname}: make sure that address is final (the certificate names it).",
            "Every client that pinned the old one (XenCenter, Xen Orchestra, scripts) sees a "
            "changed fingerprint and must trust the new one.",
        ]
        if self.watch is not None:
            impact.append(
                "This console's connection drops for a moment; you then compare the old and new "
                "fingerprints before the console trusts the new one."
            )
        if self.mode == RESET:
            xe = [f"xe host-reset-server-certificate host={self.uuid}"]
            steps = ["host.reset_server_certificate (the host makes its own)"]
        elif self.mode == INSTALL:
            xe = [
                f"openssl req -x509 -newkey rsa:2048 -nodes -days {self.days} "
                f"-subj /CN={self.hostname} -addext subjectAltName={self._san_arg()} "
                "-keyout new.key -out new.pem",
                f"xe host-server-certificate-install host={self.uuid} certificate=new.pem "
                "private-key=new.key",
            ]
            steps = [
                f"make an RSA 2048 key and a certificate valid {self.days} days, here",
                "host.install_server_certificate",
            ]
        else:
            xe = [
                f"cp -p /{XAPI_PEM} /{XAPI_PEM}.<date>",
                f"(new key and certificate, {self.days} days) > /{XAPI_PEM}; chmod 400 /{XAPI_PEM}",
                "xe-toolstack-restart",
            ]
            steps = [
                f"make an RSA 2048 key and a certificate valid {self.days} days",
                f"keep the old /{XAPI_PEM} beside it, write the new one (mode 0400)",
                "restart the toolstack (xe-toolstack-restart) so that it serves the new one",
            ]
            impact.append(
                "The toolstack restarts: XenCenter and this console reconnect; VMs keep running."
            )
        return Plan(
            f"{NEW_CERTIFICATE} for {self.name}",
            f"Replace the TLS certificate of {self.name} with a new self-signed one.",
            xe,
            steps=steps,
            impact=impact,
            risk="medium",
        )

    def _san_arg(self) -> str:
        return ",".join(f"IP:{n}" if _is_ip(n) else f"DNS:{n}" for n in self.names)

    def run(self, ctx: RunContext) -> str:
        if self.mode == DOM0:
            return self._replace_pem(ctx)
        if self.mode == INSTALL:
            key_pem, cert_pem = make_self_signed(self.hostname, self.names, self.days)
            method, args = (
                "host.install_server_certificate",
                (cert_pem.decode(), key_pem.decode(), ""),
            )
        else:
            method, args = "host.reset_server_certificate", ()
        if self.watch is None:
            ctx.task(method, self.host, *args)
            return f"{self.name} has a new certificate."
        self.old_fingerprint = server_fingerprint(self.watch.host, self.watch.port)
        # the console's own host: its reply comes before its TLS front end
        # restarts, and the connection waits for the admin's verdict on the
        # new certificate rather than giving up on it
        ctx.conn.expect_certificate_change()
        try:
            ctx.call(method, self.host, *args)
            ctx.commit()
            ctx.progress(0.5)
            deadline = time.monotonic() + NEW_CERT_SECONDS
            while time.monotonic() < deadline and not ctx.cancel.is_set():
                try:
                    seen = server_fingerprint(self.watch.host, self.watch.port, timeout=3)
                except OSError:
                    seen = ""  # restarting
                if seen and seen != self.old_fingerprint:
                    self.new_fingerprint = seen
                    break
                ctx.cancel.wait(0.3)
        except BaseException:  # no verdict to ask for: a changed certificate is refused
            ctx.conn.expect_certificate_change(False)
            raise
        if not self.new_fingerprint:
            return f"{self.name} was asked for a new certificate; it still presents the old one."
        return f"{self.name} has a new certificate (SHA-256 {self.new_fingerprint[:23]}...)."

    def _replace_pem(self, ctx: RunContext) -> str:
        """dom0 of a host older than 8.2: the toolstack serves xapi-ssl.pem."""
        system = self.system
        pem = system.path(XAPI_PEM)
        key_pem, cert_pem = make_self_signed(self.hostname, self.names, self.days)
        backup = pem.with_name(pem.name + time.strftime(".%Y%m%d-%H%M%S"))
        try:
            old = pem.read_bytes()
            write_atomic(backup, old, 0o400, exclusive=True)
            ctx.on_undo(f"put the old {pem.name} back", lambda: write_atomic(pem, old, 0o400))
            write_atomic(pem, key_pem + cert_pem, 0o400)
        except OSError as exc:
            raise InvalidInput([f"cannot replace {pem}: {exc}"]) from None
        self.backup = str(backup)
        ctx.note("restarting the toolstack")
        ctx.progress(0.5)
        try:
            system.run("xe-toolstack-restart", timeout=180)
        except LocalError as exc:
            raise InvalidInput([str(exc)]) from None
        ctx.commit()
        return (
            f"{self.name} serves a new certificate after the toolstack restart; the old one "
            f"is kept as {backup}."
        )


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def make_self_signed(cn: str, sans: list[str], days: int) -> tuple[bytes, bytes]:
    """(private key PEM, certificate PEM): RSA 2048 (what XAPI installs), ``days`` from now."""
    key_pem, cert_pem, _fingerprint = self_signed(cn, sans, days, rsa=True)
    return key_pem, cert_pem


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.replace(" ", ",").split(",") if n.strip()]
    if not names:
        raise InvalidInput(["give at least one name or address"])
    return [v.host_or_ip(n, "alternative name") for n in names]


def _subject_part(text: str, what: str) -> str:
    """An optional Organisation or Organisational unit: one line of at most 64 characters."""
    value = (text or "").strip()
    if len(value) > SUBJECT_MAX:
        raise InvalidInput([f"{what} is longer than {SUBJECT_MAX} characters"])
    if not value.isprintable():
        raise InvalidInput([f"{what} has a control character"])
    return value


def _country(text: str) -> str:
    """An optional country: two letters (ISO 3166, e.g. FR), upper case."""
    value = (text or "").strip().upper()
    if value and not (len(value) == 2 and value.isascii() and value.isalpha()):
        raise InvalidInput([f"country {text.strip()!r} is not two letters (e.g. FR, DE, US)"])
    return value


def csr_fields(cache: Cache, host: str) -> list[Field]:
    rec = cache.get("host", host)
    hostname = (rec.hostname or rec.name_label) if rec else ""
    return [
        Field("key", "Key (what XAPI installs)", KEY_TYPES[0], choices=KEY_TYPES),
        Field("cn", "Common name", hostname, problem_of(v.hostname, "common name")),
        Field(
            "sans",
            "Alternative names",
            ", ".join(dict.fromkeys(x for x in (hostname, rec.address if rec else "") if x)),
            problem_of(_names),
            placeholder="names and addresses, comma separated",
        ),
        Field("o", "Organisation (O)", "", problem_of(_subject_part, "organisation")),
        Field("ou", "Organisational unit (OU)", "", problem_of(_subject_part, "unit")),
        Field("c", "Country (C)", "", problem_of(_country), placeholder="two letters, e.g. FR"),
    ]


@dataclass(frozen=True)
class CsrRequest:
    """What a key and CSR are made of, checked (``checked``) before anything is made."""

    key_type: str
    cn: str
    sans: list[str]
    o: str = ""
    ou: str = ""
    c: str = ""

    @classmethod
    def checked(
        cls, key_type: str, cn: str, sans: str, o: str = "", ou: str = "", c: str = ""
    ) -> CsrRequest:
        if key_type not in KEY_TYPES:
            raise InvalidInput(
                [
                    f"XAPI installs RSA keys of 2048 to 4096 bits only, not {key_type}: "
                    f"the key is one of {', '.join(KEY_TYPES)}"
                ]
            )
        problems, values = [], []
        for check, args in (
            (v.hostname, (cn, "common name")),
            (_names, (sans,)),
            (_subject_part, (o, "organisation")),
            (_subject_part, (ou, "unit")),
            (_country, (c,)),
        ):
            try:
                values.append(check(*args))
            except InvalidInput as exc:
                problems += exc.problems
        if problems:
            raise InvalidInput(problems)
        return cls(key_type, *values)


def make_csr(request: CsrRequest) -> tuple[bytes, bytes]:
    """(private key PEM, CSR PEM) for the request: an RSA key, the subject's
    C, O, OU and CN (those given), the alternative names."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=int(request.key_type.split()[1]))
    parts = (
        (NameOID.COUNTRY_NAME, request.c),
        (NameOID.ORGANIZATION_NAME, request.o),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, request.ou),
        (NameOID.COMMON_NAME, request.cn),
    )
    subject = x509.Name([x509.NameAttribute(oid, value) for oid, value in parts if value])
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(x509.SubjectAlternativeName(alt_names(request.sans)), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, csr.public_bytes(serialization.Encoding.PEM)


def csr_paths(folder: Path, name: str) -> tuple[Path, Path]:
    """Where a key and its CSR go: side by side, named after the host and the time."""
    stem = safe_stem(name) + time.strftime("-%Y%m%d-%H%M%S")
    return folder / f"{stem}.key", folder / f"{stem}.csr"


def save_csr(
    folder: Path, name: str, key_pem: bytes, csr_pem: bytes, paths: tuple[Path, Path] | None = None
) -> tuple[Path, Path]:
    """The key (mode 0600, never overwritten) and the CSR, side by side."""
    key_path, csr_path = paths or csr_paths(folder, name)
    write_atomic(key_path, key_pem, exclusive=True)
    write_atomic(csr_path, csr_pem)
    return key_path, csr_path


class MakeCsr(Action):
    """A private key and a certificate signing request for a CA, made here:
    nothing is asked of the pool; the signed certificate is installed later
    (InstallCertificate) with this key."""

    calls = ()

    def __init__(self, folder: Path, request: CsrRequest):
        self.request = request
        self.key_path, self.csr_path = csr_paths(folder, request.cn)

    def __repr__(self) -> str:
        return f"MakeCsr({self.request.cn})"

    def plan(self) -> Plan:
        r = self.request
        subject = "".join(
            f"/{k}={val}" for k, val in (("C", r.c), ("O", r.o), ("OU", r.ou), ("CN", r.cn)) if val
        )
        sans = ",".join(f"IP:{n}" if _is_ip(n) else f"DNS:{n}" for n in r.sans)
        return Plan(
            "Make a key and CSR",
            f"A new {r.key_type} key and a signing request for {r.cn}, made on {HERE}: "
            f"the CSR is saved to {self.csr_path}, the key to {self.key_path} (mode 0600).",
            [
                f"openssl req -new -newkey rsa:{r.key_type.split()[1]} -nodes "
                f"-subj {shlex.quote(subject)} -addext subjectAltName={sans} "
                f"-keyout {shlex.quote(str(self.key_path))} -out {shlex.quote(str(self.csr_path))}"
            ],
            impact=[
                "nothing changes on the pool",
                "send the CSR to your CA; the key stays here until the signed certificate "
                "is installed (i)",
            ],
        )

    def run(self, ctx: RunContext) -> str:
        ctx.note("making the key")
        key_pem, csr_pem = make_csr(self.request)
        ctx.progress(0.8)
        try:
            save_csr(self.key_path.parent, "", key_pem, csr_pem, (self.key_path, self.csr_path))
        except OSError as exc:
            raise InvalidInput([f"not saved: {exc.strerror or exc}"]) from None
        return (
            f"Send {self.csr_path} to your CA. The private key is {self.key_path} (mode 0600): "
            "keep it there until the signed certificate is installed."
        )


XE_INSTALL = "xe host-server-certificate-install"


def _read(text: str, kind: str) -> bytes:
    """A PEM file's bytes, once it looks like one (checked as the form's fields are)."""
    path = v.file_to_read(text, kind)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput([f"{path} cannot be read: {exc.strerror or exc}"]) from None


def check_certificate(
    cert_pem: bytes, key_pem: bytes, chain_pem: bytes, names: list[str], now: float | None = None
) -> str:
    """XAPI's checks and the console's, before any call: the certificate and
    key parse, the key is RSA 2048-4096 (all XAPI installs) and matches, the
    dates hold, the SANs name the host, the chain verifies. Returns the
    certificate's SHA-256 fingerprint; InvalidInput says what is wrong."""
    import datetime as dt

    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise InvalidInput(["the certificate file is not a PEM certificate"]) from None
    try:
        key = serialization.load_pem_private_key(key_pem, None)
    except (ValueError, TypeError):
        raise InvalidInput(["the key file is not an unencrypted PEM private key"]) from None
    problems = []
    if not isinstance(key, rsa.RSAPrivateKey) or not 2048 <= key.key_size <= 4096:
        problems.append("XAPI installs RSA keys of 2048 to 4096 bits only")
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        problems.append(
            "the key does not belong to the certificate (SERVER_CERTIFICATE_KEY_MISMATCH)"
        )
    at = dt.datetime.fromtimestamp(clock.now() if now is None else now, dt.timezone.utc)
    if at < cert.not_valid_before_utc:
        problems.append(
            f"the certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
        )
    if at > cert.not_valid_after_utc:
        problems.append(f"the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        named = {str(n.value).lower() for n in sans}
    except x509.ExtensionNotFound:
        named = set()
    missing = [n for n in names if n.lower() not in named]
    if missing:
        problems.append(
            f"the certificate does not name {', '.join(missing)} (its names: "
            f"{', '.join(sorted(named)) or 'none'}): clients reaching the host that way refuse it"
        )
    try:
        chain = x509.load_pem_x509_certificates(chain_pem) if chain_pem.strip() else []
    except ValueError:
        chain = None
        problems.append("the chain file is not PEM certificates")
    if chain is not None:
        issued = [cert, *chain]
        for child, parent in zip(issued, issued[1:], strict=False):
            try:
                child.verify_directly_issued_by(parent)
            except (ValueError, TypeError, InvalidSignature):
                problems.append(
                    f"the chain does not verify: {child.subject.rfc4514_string()} is not "
                    f"issued by {parent.subject.rfc4514_string()}"
                )
                break
        if not chain and cert.issuer != cert.subject:
            problems.append("give the CA chain (intermediate and root certificates) as well")
    if problems:
        raise InvalidInput(problems)
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def latest_key(folder: Path, cn: str) -> str:
    """The newest key made here for this name, for the install form."""
    keys = sorted(folder.glob(f"{safe_stem(cn)}-*.key")) if folder.is_dir() else []
    return str(keys[-1]) if keys else ""


class InstallCertificate(Action):
    """A CA-signed certificate for a host, checked before it is sent."""

    calls = ("host.install_server_certificate",)
    older = (
        "this release installs a certificate in dom0 (its /etc/xensource/xapi-ssl.pem, "
        "then xe-toolstack-restart)"
    )

    @staticmethod
    def fields(cache: Cache, host: str, folder: Path) -> list[Field]:
        rec = cache.get("host", host)
        cn = (rec.hostname or rec.name_label) if rec else ""
        return [
            Field(
                "cert",
                f"Certificate file ({HERE})",
                "",
                problem_of(v.file_to_read, "certificate"),
                placeholder="PEM, e.g. ~/xcp-a.crt",
            ),
            Field(
                "key",
                f"Private key file ({HERE})",
                latest_key(folder, cn),
                problem_of(v.file_to_read, "private key"),
            ),
            Field(
                "chain",
                f"CA chain file ({HERE})",
                "",
                optional(problem_of(v.file_to_read, "certificate")),
                placeholder="intermediate + root, PEM",
            ),
        ]

    def __init__(self, cache: Cache, host: str, target: Target, cert: str, key: str, chain: str):
        with cache.lock:
            rec = host_or_refuse(cache, host)
            self.host, self.uuid, self.name = host, rec.uuid, rec.name_label
            names = list(dict.fromkeys(n for n in (rec.hostname, rec.address) if n))
        self.files = (cert.strip(), key.strip(), chain.strip())
        self._cert = _read(cert, "certificate")
        self._key = _read(key, "private key")
        self._chain = _read(chain, "certificate") if chain.strip() else b""
        self.new_fingerprint = check_certificate(self._cert, self._key, self._chain, names)
        self.watch = target if target.scheme == "https" and target.host == rec.address else None
        self.old_fingerprint = ""

    def __repr__(self) -> str:
        return f"InstallCertificate({self.name})"  # never the key

    def plan(self) -> Plan:
        cert, key, chain = (shlex.quote(f) for f in self.files)
        xe = f"{XE_INSTALL} host={self.uuid} certificate={cert} private-key={key}"
        if self.files[2]:
            xe += f" certificate-chain={chain}"
        impact = [
            f"{self.name} presents the new certificate (SHA-256 {self.new_fingerprint[:23]}...)."
        ]
        if self.watch is not None:
            impact.append(
                "This console's connection drops for a moment; you then compare the old and new "
                "fingerprints before the console trusts the new one."
            )
        return Plan(
            "Install a CA-signed certificate",
            f"Install the certificate checked above on {self.name}.",
            [xe],
            impact=impact,
            risk="medium",
        )

    def run(self, ctx: RunContext) -> str:
        if self.watch is not None:
            self.old_fingerprint = server_fingerprint(self.watch.host, self.watch.port)
            ctx.conn.expect_certificate_change()
        try:
            ctx.call(
                "host.install_server_certificate",
                self.host,
                self._cert.decode(),
                self._key.decode(),
                self._chain.decode(),
            )
        except Exception:
            ctx.conn.expect_certificate_change(False)
            raise
        return f"{self.name} has its CA-signed certificate."
