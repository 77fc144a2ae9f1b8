"""The revocation list as the server reads it: verified against the client CA, and read
again whenever the file changes, so `verifier pki revoke` takes effect without a restart."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography import x509

log = logging.getLogger(__name__)


def _load(crl_file: Path, ca: x509.Certificate) -> frozenset[int]:
    try:
        crl = x509.load_pem_x509_crl(crl_file.read_bytes())
    except (OSError, ValueError) as exc:
        raise ValueError(f"revocation list {crl_file} is unreadable: {exc}") from None
    public_key = ca.public_key()
    if crl.issuer != ca.subject or not crl.is_signature_valid(public_key):  # type: ignore[arg-type]
        raise ValueError(f"revocation list {crl_file} is not signed by the client CA")
    return frozenset(entry.serial_number for entry in crl)


class RevocationList:
    """Revoked serial numbers. Start-up fails on a bad list; a bad list written later keeps
    the last good one in force (logged), so a botched copy cannot un-revoke anyone."""

    def __init__(self, crl_file: Path, client_ca_file: Path) -> None:
        self.crl_file = crl_file
        self._ca = x509.load_pem_x509_certificate(client_ca_file.read_bytes())
        self._stamp = self._file_stamp()
        self._revoked = _load(crl_file, self._ca)

    def _file_stamp(self) -> tuple[int, int]:
        st = os.stat(self.crl_file)
        return st.st_mtime_ns, st.st_size

    def is_revoked(self, serial: int) -> bool:
        try:
            stamp = self._file_stamp()
        except OSError as exc:
            log.error("revocation list %s unreadable (%s); keeping the last one read",
                      self.crl_file, exc)
            stamp = self._stamp
        if stamp != self._stamp:
            try:
                self._revoked = _load(self.crl_file, self._ca)
                log.info("revocation list %s reloaded: %d revoked", self.crl_file,
                         len(self._revoked))
            except ValueError as exc:
                log.error("%s; keeping the last good list", exc)
            self._stamp = stamp
        return serial in self._revoked
