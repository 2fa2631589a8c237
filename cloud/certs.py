"""Development certificates for TLS and mTLS: one CA, a server certificate and a client certificate.

Made with the `cryptography` package (ECDSA P-256), so no openssl binary is needed. For production, use
certificates from your own CA; these exist so that the demo and the tests run the way users should.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from shared.files import write_atomic

DEFAULT_HOSTS = ("127.0.0.1", "localhost")
FILES = ("ca.pem", "server.pem", "server-key.pem", "client.pem", "client-key.pem")


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tandem dev"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _san(hosts: tuple[str, ...]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def make_ca(days: int = 825, common_name: str = "Tandem dev CA") -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign + cRLSign
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def issue(
    ca: Issued,
    common_name: str,
    hosts: tuple[str, ...] = (),
    client: bool = False,
    days: int = 825,
    not_before: dt.datetime | None = None,
) -> Issued:
    """A leaf certificate signed by `ca`; `not_before` in the past with few `days` makes an expired one."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if hosts:
        builder = builder.add_extension(_san(hosts), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def write_pem(path: Path, data: bytes, secret: bool = False) -> None:
    """Atomic (a reloading server never reads half a file); keys are readable by the owner only."""
    write_atomic(path, data, 0o600 if secret else 0o644)


def write_dev_certs(
    out: Path, hosts: tuple[str, ...] = DEFAULT_HOSTS, client_name: str = "tandem-edge", days: int = 825
) -> dict[str, Path]:
    """Writes ca.pem, server.pem, server-key.pem, client.pem, client-key.pem into `out`."""
    if not hosts:
        raise ValueError("at least one host name or address is needed for the server certificate")
    out.mkdir(parents=True, exist_ok=True)
    ca = make_ca(days)
    server = issue(ca, hosts[0], hosts, client=False, days=days)
    client = issue(ca, client_name, client=True, days=days)
    paths = {name: out / name for name in FILES}
    write_pem(paths["ca.pem"], ca.cert_pem())
    write_pem(paths["server.pem"], server.cert_pem())
    write_pem(paths["server-key.pem"], server.key_pem(), secret=True)
    write_pem(paths["client.pem"], client.cert_pem())
    write_pem(paths["client-key.pem"], client.key_pem(), secret=True)
    return paths
