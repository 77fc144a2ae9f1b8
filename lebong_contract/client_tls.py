"""What a client needs for a mutually authenticated channel to the verifier: the CA that
signed the server's certificate, and its own certificate and key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc


@dataclass(frozen=True)
class ClientTls:
    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def from_paths(cls, ca_file: Path | None, cert_file: Path | None,
                   key_file: Path | None) -> ClientTls | None:
        """None when none is given; all three or a ValueError naming what is missing."""
        given = {"--tls-ca": ca_file, "--tls-cert": cert_file, "--tls-key": key_file}
        if not any(given.values()):
            return None
        missing = [name for name, path in given.items() if not path]
        if missing:
            raise ValueError(f"TLS needs --tls-ca, --tls-cert and --tls-key together; "
                             f"missing {', '.join(missing)}")
        for name, path in given.items():
            if not Path(path).is_file():  # type: ignore[arg-type]
                raise ValueError(f"{name} {path}: no such file")
        return cls(Path(ca_file), Path(cert_file), Path(key_file))  # type: ignore[arg-type]

    def credentials(self) -> grpc.ChannelCredentials:
        # Read at each call: a channel opened after a certificate renewal uses the new one.
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca_file.read_bytes(),
            private_key=self.key_file.read_bytes(),
            certificate_chain=self.cert_file.read_bytes())


def open_channel(address: str, tls: ClientTls | None,
                 options: Sequence[tuple[str, object]] = ()) -> grpc.aio.Channel:
    """An asyncio channel: mutual TLS when `tls` is given, plain text otherwise."""
    if tls is None:
        return grpc.aio.insecure_channel(address, options=list(options))
    return grpc.aio.secure_channel(address, tls.credentials(), options=list(options))
