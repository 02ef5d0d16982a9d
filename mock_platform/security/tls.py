"""TLS for the sandbox: a sandbox certificate authority, a valid server certificate for
localhost/127.0.0.1, and deliberately invalid ones so the suite can check that a client refuses
them (requirement C6: "the EPJ must reject an invalid server certificate").

Kinds:
  valid       issued by the sandbox CA for localhost and 127.0.0.1
  self-signed not issued by the CA
  expired     issued by the CA, validity ended yesterday
  wrong-host  issued by the CA for another host name (wrong.sandkasse.invalid)

Everything is written as PEM into one folder (the CA is created once and reused, so vendors
can add `ca.pem` to their trust store); `ssl_context(kind, folder)` is what werkzeug's
`make_server(..., ssl_context=...)` takes.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KINDS = ("valid", "self-signed", "expired", "wrong-host")
HOSTS = ("localhost", "127.0.0.1")
WRONG_HOST = "wrong.sandkasse.invalid"


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sandkasse (test only)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    # The sandbox CA and server keys are test-only; they are written unencrypted, owner-readable.
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _load(files: CertFiles) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    return (x509.load_pem_x509_certificate(files.cert.read_bytes()),
            serialization.load_pem_private_key(files.key.read_bytes(), None))


def sandbox_ca(folder: Path) -> CertFiles:
    """The sandbox CA (created on first use)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = CertFiles(folder / "ca.pem", folder / "ca-key.pem")
    if files.cert.exists() and files.key.exists():
        return files
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name("sandkasse sandbox CA")).issuer_name(_name("sandkasse sandbox CA"))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write_key(key, files.key)
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files


def server_certificate(kind: str, folder: Path) -> CertFiles:
    """A server certificate of the given kind (see the module docstring), created on first use."""
    if kind not in KINDS:
        raise ValueError(f"unknown TLS kind {kind!r}; one of {', '.join(KINDS)}")
    files = CertFiles(folder / f"server-{kind}.pem", folder / f"server-{kind}-key.pem")
    if files.cert.exists() and files.key.exists():
        return files
    ca_cert, ca_key = _load(sandbox_ca(folder))
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    hosts = (WRONG_HOST,) if kind == "wrong-host" else HOSTS
    not_before, not_after = now - dt.timedelta(days=1), now + dt.timedelta(days=365)
    if kind == "expired":
        not_before, not_after = now - dt.timedelta(days=30), now - dt.timedelta(days=1)
    issuer_name, signing_key = ca_cert.subject, ca_key
    if kind == "self-signed":
        issuer_name, signing_key = _name(hosts[0]), key
    sans = [x509.IPAddress(ipaddress.ip_address(h)) if h[0].isdigit() else x509.DNSName(h) for h in hosts]
    builder = (x509.CertificateBuilder().subject_name(_name(hosts[0])).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.SubjectAlternativeName(sans), critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    if kind != "self-signed":
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    cert = builder.sign(signing_key, hashes.SHA256())
    _write_key(key, files.key)
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files


def ssl_context(kind: str, folder: Path) -> ssl.SSLContext:
    """A server-side context serving the certificate of this kind (TLS 1.2 or newer)."""
    files = server_certificate(kind, folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.cert, files.key)
    return context
