"""How a client's identity is written into its certificate, shared by issuer and server."""

from __future__ import annotations

import re

# The subject CN carries the station id for people reading the certificate; the server reads
# this URI SAN, which only a station certificate has, so a server or other certificate from
# the same CA is never taken for a station.
STATION_URI_PREFIX = "urn:lebong-verifier:station:"
# A PrecheckService client (an upload portal, a photo booth): may call PrecheckService only.
PRECHECK_URI_PREFIX = "urn:lebong-verifier:precheck:"
# A TLS-terminating gRPC proxy in front of several verifiers: it verifies the station's
# certificate itself and forwards it; verifiers take a forwarded certificate from it only.
PROXY_URI_PREFIX = "urn:lebong-verifier:proxy:"
# The case store keeps station ids in 64 characters.
_STATION_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _checked(value: str, what: str) -> str:
    if not _STATION_ID.match(value):
        raise ValueError(f"{what} {value!r} must be 1-64 of A-Z a-z 0-9 _ . -")
    return value


def check_station_id(station_id: str) -> str:
    return _checked(station_id, "station id")


def station_uri(station_id: str) -> str:
    return STATION_URI_PREFIX + check_station_id(station_id)


def check_client_name(name: str) -> str:
    """A precheck client's name: the same characters as a station id (it names files)."""
    return _checked(name, "client name")


def precheck_uri(name: str) -> str:
    return PRECHECK_URI_PREFIX + check_client_name(name)


def proxy_uri(name: str) -> str:
    return PROXY_URI_PREFIX + check_client_name(name)
