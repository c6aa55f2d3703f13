"""TLS trust on first use, as XenCenter does: pin the host certificate's SHA-256
fingerprint, refuse a later mismatch with an explanation."""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
from dataclasses import dataclass


def format_fingerprint(der: bytes) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


class FingerprintError(ValueError):
    """Text that is not a SHA-256 fingerprint; the message says why, in words."""


def parse_fingerprint(text: str) -> str:
    """A SHA-256 fingerprint as people write it, in the stored form
    (``AB:CD:…``, 32 pairs, upper case): any case, with or without colons,
    in groups (:func:`spaced`), or as openssl prints it (``sha256
    Fingerprint=…``). Every pin (--fingerprint, the config file) is read
    here; FingerprintError otherwise."""
    value = str(text).strip()
    if value.lower().startswith(("sha256 fingerprint=", "sha-256 fingerprint=")):
        value = value.split("=", 1)[1]
    groups = [g for g in re.split(r"[\s:]+", value) if g]
    digits = "".join(groups)
    if not re.fullmatch(r"[0-9A-Fa-f]+", digits):
        raise FingerprintError(
            "a SHA-256 fingerprint is hexadecimal digits (0-9, A-F), with or without colons; "
            f"not {value[:24]!r}"
        )
    if len(digits) != 64:
        raise FingerprintError(
            f"a SHA-256 fingerprint has 64 hexadecimal digits (32 pairs), not {len(digits)}"
        )
    if len(groups) > 1 and any(len(g) % 2 for g in groups):
        raise FingerprintError("the colons of a SHA-256 fingerprint go between pairs of digits")
    digits = digits.upper()
    return ":".join(digits[i : i + 2] for i in range(0, 64, 2))


def same_fingerprint(pinned: str, actual: str) -> bool:
    """Whether a pin names this fingerprint, however it is written; a pin
    that is no fingerprint names none."""
    try:
        return parse_fingerprint(pinned) == parse_fingerprint(actual)
    except FingerprintError:
        return False


def spaced(fingerprint: str, per_group: int = 8) -> str:
    """For people: the fingerprint in groups of 8 bytes, so that text wraps
    between groups and never inside one (the stored form has no spaces)."""
    octets = fingerprint.split(":")
    return " ".join(":".join(octets[i : i + per_group]) for i in range(0, len(octets), per_group))


def insecure_context() -> ssl.SSLContext:
    """No CA verification: trust comes from the pinned fingerprint instead."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def fetch_certificate(host: str, port: int, timeout: float = 10) -> bytes:
    """The DER certificate the server presents (no verification: we pin)."""
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with insecure_context().wrap_socket(raw, server_hostname=host) as tls:
            return tls.getpeercert(binary_form=True)


def server_fingerprint(host: str, port: int, timeout: float = 10) -> str:
    return format_fingerprint(fetch_certificate(host, port, timeout))


def live_fingerprint(target, cert_file: str) -> tuple[str, str]:
    """(fingerprint, how it was obtained) of the host certificate, computed now:
    a TLS handshake for https targets, ``cert_file`` in dom0 (xapi-ssl.pem,
    where LocalSystem says)."""
    if target.kind == "remote" and target.scheme == "https":
        try:
            return server_fingerprint(target.host, target.port, timeout=5), "live TLS handshake"
        except (OSError, ssl.SSLError):
            return "", ""
    if target.kind == "local":
        try:
            pem = open(cert_file).read()
            start = pem.index("-----BEGIN CERTIFICATE-----")
            der = ssl.PEM_cert_to_DER_cert(
                pem[start : pem.index("-----END CERTIFICATE-----", start) + 25]
            )
            return format_fingerprint(der), cert_file
        except (OSError, ValueError):
            return "", ""
    return "", ""


class FingerprintMismatch(ssl.SSLError):
    def __init__(self, expected: str, actual: str):
        super().__init__(
            f"certificate fingerprint {spaced(actual)} does not match the trusted {spaced(expected)}"
        )
        self.expected, self.actual = expected, actual


@dataclass
class TrustDecision:
    status: str  # "trusted", "unknown", "mismatch"
    fingerprint: str
    pinned: str | None = None


def check_trust(fingerprints: dict[str, str], key: str, actual: str) -> TrustDecision:
    pinned = fingerprints.get(key)
    if pinned is None:
        return TrustDecision("unknown", actual)
    return TrustDecision(
        "trusted" if same_fingerprint(pinned, actual) else "mismatch", actual, pinned
    )


def alt_names(names: list[str]) -> list:
    """A certificate's subject alternative names: addresses as IPs, the rest as DNS names."""
    import ipaddress

    from cryptography import x509

    out = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def self_signed(
    cn: str, names: list[str], days: int = 3650, *, rsa: bool = False, valid=None
) -> tuple[bytes, bytes, str]:
    """(private key PEM, certificate PEM, SHA-256 fingerprint) of a fresh
    self-signed certificate for ``names``: RSA 2048 where XAPI must install
    it (it takes RSA only), else EC P-256; valid ``days`` from five minutes
    ago, or over ``valid`` (two aware datetimes)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric import rsa as rsa_keys
    from cryptography.x509.oid import NameOID

    if rsa:
        key = rsa_keys.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    start, end = valid or (start, start + datetime.timedelta(days=days))
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(alt_names(names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    return key_pem, cert.public_bytes(serialization.Encoding.PEM), format_fingerprint(der)
