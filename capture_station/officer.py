"""The officer signs in at the station before a session (CaptureService.SignIn).

The verifier answers with a token bound to this station's certificate; the session's Start
carries it, and the case records the officer the token names. Signing in needs the verifier
(mutual TLS): a session cannot start offline, though once started it survives a lost link
as before (the spooled Start keeps its token, valid `[server] officer_token_minutes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.rpc import error_details_pb2, status_pb2

from capture_station.errors import OfficerSignInRefused, VerifierUnreachable
from lebong_contract.api.v1 import capture_pb2, capture_pb2_grpc
from lebong_contract.client_tls import ClientTls, open_channel

SIGN_IN_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SignedInOfficer:
    officer_id: str
    token: str
    expires_at_unix_ms: int


def _reason(error: grpc.aio.AioRpcError) -> str:
    """The ErrorInfo reason of the verifier's rich status, else the canonical code name."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            for detail in status_pb2.Status.FromString(value).details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info) and info.reason:
                    return info.reason
    return error.code().name


async def sign_in(address: str, tls: ClientTls, username: str, password: str,
                  totp_code: str = "") -> SignedInOfficer:
    """The officer's token from the verifier at `address`; OfficerSignInRefused when the
    verifier says no, VerifierUnreachable when it cannot be asked."""
    async with open_channel(address, tls) as channel:
        try:
            answer = await capture_pb2_grpc.CaptureServiceStub(channel).SignIn(
                capture_pb2.SignInRequest(username=username, password=password,
                                          totp_code=totp_code), timeout=SIGN_IN_TIMEOUT_S)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise VerifierUnreachable(f"cannot sign in: verifier {address} unreachable "
                                          f"({exc.code().name}: {exc.details()})") from None
            raise OfficerSignInRefused(f"sign-in as {username!r} refused: {exc.details()}",
                                       _reason(exc)) from None
    return SignedInOfficer(answer.officer_id, answer.officer_token, answer.expires_at_unix_ms)
