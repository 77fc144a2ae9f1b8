"""The verifier's certificate authority as a directory of PEM files.

    DIR/ca.pem, ca.key                 the CA (P-256); ca.key signs everything below
    DIR/server.pem, server.key         the verifier's certificate for the names given at init
    DIR/stations/ID.pem, ID.key        one client certificate per capture station
    DIR/precheck/NAME.pem, NAME.key    one per PrecheckService client (an upload portal)
    DIR/proxies/NAME.pem, NAME.key     one per gRPC proxy forwarding station certificates
    DIR/crl.pem                        the revocation list, signed by the CA

Private keys are written readable by their owner only. ca.key is needed only to issue and
revoke: keep the directory off the verifier host and copy out what each machine needs
(server: ca.pem, server.*, crl.pem; station: ca.pem and its own ID.*).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from verifier.pki.names import (check_client_name, check_station_id, precheck_uri, proxy_uri,
                                station_uri)

CA_CERT, CA_KEY = "ca.pem", "ca.key"
SERVER_CERT, SERVER_KEY = "server.pem", "server.key"
CRL = "crl.pem"
STATIONS = "stations"
PRECHECK_CLIENTS = "precheck"
PROXIES = "proxies"
CA_VALIDITY = dt.timedelta(days=3650)
LEAF_VALIDITY = dt.timedelta(days=825)  # the longest TLS clients commonly accept
# Servers do not refuse a list past its next-update time (that would lock every station out
# on a forgotten renewal); each revocation writes a fresh one anyway.
CRL_VALIDITY = dt.timedelta(days=365)


@dataclass(frozen=True)
class IssuedCertificate:
    subject: str  # a station id, a precheck client's name, or the server's first host name
    serial: int
    cert_file: Path
    key_file: Path
    not_after: dt.datetime


@dataclass(frozen=True)
class Revocation:
    serial: int
    client: str | None  # the station id or precheck client name given, if any
    crl_file: Path
    revoked_count: int  # entries in the list after this revocation


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _write_private(path: Path, data: bytes) -> None:
    """Atomically, mode 0600 from creation (never briefly world-readable)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    try:
        cert = x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes())
        key = serialization.load_pem_private_key((directory / CA_KEY).read_bytes(), None)
    except FileNotFoundError:
        raise ValueError(f"{directory} holds no CA: run `verifier pki init {directory}`") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{directory / CA_KEY} is not an EC key")
    return cert, key


def _leaf(ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, common_name: str,
          sans: list[x509.GeneralName], usage: x509.ObjectIdentifier
          ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))  # clock skew between machines
            .not_valid_after(now + LEAF_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=True, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert, key


def _host_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _write_crl(directory: Path, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey,
               revoked: list[x509.RevokedCertificate]) -> None:
    now = _now()
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
               .last_update(now).next_update(now + CRL_VALIDITY))
    for entry in revoked:
        builder = builder.add_revoked_certificate(entry)
    crl = builder.sign(ca_key, hashes.SHA256())
    _write_public(directory / CRL, crl.public_bytes(serialization.Encoding.PEM))


def init_authority(directory: Path, hosts: list[str]) -> IssuedCertificate:
    """Create the CA, the server certificate for `hosts` (DNS names or IP addresses; the
    first is its CN) and an empty revocation list. Refuses a directory that has a CA."""
    if not hosts:
        raise ValueError("give the verifier's names with --host (at least one)")
    if (directory / CA_KEY).exists():
        raise ValueError(f"{directory} already holds a CA; issue and revoke with it instead")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / STATIONS).mkdir(exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lebong verifier"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Lebong verifier station CA")])
    now = _now()
    ca_cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + CA_VALIDITY)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=False, content_commitment=False, key_encipherment=False,
                   data_encipherment=False, key_agreement=False, key_cert_sign=True,
                   crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))
    _write_private(directory / CA_KEY, _key_pem(ca_key))
    _write_public(directory / CA_CERT, ca_cert.public_bytes(serialization.Encoding.PEM))
    cert, key = _leaf(ca_cert, ca_key, hosts[0], [_host_name(h) for h in hosts],
                      ExtendedKeyUsageOID.SERVER_AUTH)
    _write_private(directory / SERVER_KEY, _key_pem(key))
    _write_public(directory / SERVER_CERT, cert.public_bytes(serialization.Encoding.PEM))
    _write_crl(directory, ca_cert, ca_key, [])
    return IssuedCertificate(hosts[0], cert.serial_number, directory / SERVER_CERT,
                             directory / SERVER_KEY, cert.not_valid_after_utc)


def _revoked_entries(directory: Path) -> list[x509.RevokedCertificate]:
    path = directory / CRL
    if not path.exists():
        return []
    return list(x509.load_pem_x509_crl(path.read_bytes()))


def _issue_client(directory: Path, folder: str, name: str, uri: str,
                  revoke_hint: str) -> IssuedCertificate:
    """A client certificate carrying `uri`. A client that already has a certificate gets a
    new one only after the old one is revoked, so two valid keys never name one client."""
    ca_cert, ca_key = _load_ca(directory)
    cert_file = directory / folder / f"{name}.pem"
    key_file = directory / folder / f"{name}.key"
    if cert_file.exists():
        old = x509.load_pem_x509_certificate(cert_file.read_bytes())
        revoked = {e.serial_number for e in _revoked_entries(directory)}
        if old.serial_number not in revoked:
            raise ValueError(f"{name} already has certificate serial {old.serial_number:x}; "
                             f"revoke it first (`verifier pki revoke {directory} "
                             f"{revoke_hint} {name}`)")
    cert, key = _leaf(ca_cert, ca_key, name, [x509.UniformResourceIdentifier(uri)],
                      ExtendedKeyUsageOID.CLIENT_AUTH)
    (directory / folder).mkdir(exist_ok=True)
    _write_private(key_file, _key_pem(key))
    _write_public(cert_file, cert.public_bytes(serialization.Encoding.PEM))
    return IssuedCertificate(name, cert.serial_number, cert_file, key_file,
                             cert.not_valid_after_utc)


def issue_station(directory: Path, station_id: str) -> IssuedCertificate:
    """A capture station's certificate: it may open CaptureService sessions as that station
    (and call PrecheckService: an officer pre-checks a photo at the counter)."""
    return _issue_client(directory, STATIONS, station_id, station_uri(station_id),
                         "--station-id")


def issue_precheck_client(directory: Path, name: str) -> IssuedCertificate:
    """A PrecheckService client's certificate; it can open no capture session."""
    return _issue_client(directory, PRECHECK_CLIENTS, name, precheck_uri(name),
                         "--precheck-client")


def issue_proxy(directory: Path, name: str) -> IssuedCertificate:
    """A gRPC proxy's client certificate (deploy/README.md): verifiers take the station
    certificate it forwards in `x-client-cert` as the caller's, from this certificate only."""
    return _issue_client(directory, PROXIES, name, proxy_uri(name), "--proxy")


def revoke(directory: Path, *, station_id: str | None = None,
           precheck_client: str | None = None, proxy: str | None = None,
           serial: int | None = None) -> Revocation:
    """Add a station's, precheck client's or proxy's current certificate (or any serial) to
    the revocation list."""
    if sum(x is not None for x in (station_id, precheck_client, proxy, serial)) != 1:
        raise ValueError("give one of --station-id, --precheck-client, --proxy or --serial")
    ca_cert, ca_key = _load_ca(directory)
    client = next((c for c in (station_id, precheck_client, proxy) if c is not None), None)
    if client is not None:
        folder, name = ((STATIONS, check_station_id(client)) if station_id is not None
                        else (PRECHECK_CLIENTS if proxy is None else PROXIES,
                              check_client_name(client)))
        cert_file = directory / folder / f"{name}.pem"
        if not cert_file.exists():
            raise ValueError(f"no certificate for {name} in {directory / folder}")
        serial = x509.load_pem_x509_certificate(cert_file.read_bytes()).serial_number
    assert serial is not None
    entries = _revoked_entries(directory)
    if all(e.serial_number != serial for e in entries):
        entries.append(x509.RevokedCertificateBuilder().serial_number(serial)
                       .revocation_date(_now()).build())
    _write_crl(directory, ca_cert, ca_key, entries)
    return Revocation(serial, client, directory / CRL, len(entries))
