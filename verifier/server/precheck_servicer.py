"""PrecheckService: passport-photo checks of uploaded files.

Callers need credentials (`client_auth.precheck_caller`: a station or precheck certificate,
or an API key); each caller has a rate of photos, and all of them together one share of the
analysis threads (`Runtime.precheck_share`), so uploads never starve the counters.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from lebong_contract.api.v1 import precheck_pb2, precheck_pb2_grpc
from lebong_contract.errors import PermissionDenied, Unauthenticated
from verifier.precheck import precheck_photo
from verifier.server import convert
from verifier.server.api_keys import ApiKeys
from verifier.server.client_auth import precheck_caller
from verifier.server.limits import TokenBuckets
from verifier.server.runtime import Runtime
from verifier.server.status import abort, to_rpc_status, unary_errors
from verifier.server.work_queue import Urgency


class PrecheckServicer(precheck_pb2_grpc.PrecheckServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        p = runtime.config.precheck
        self.keys = ApiKeys(Path(p.api_keys_file)) if p.api_keys_file else None
        self.photos = TokenBuckets(p.photos_per_minute, p.photo_burst, "photos",
                                   "[precheck] photos_per_minute, photo_burst")

    async def _check(self, caller: str,
                     request: precheck_pb2.PhotoRequest) -> precheck_pb2.PhotoReport:
        self.photos.take(caller)
        name = convert.enum_name(precheck_pb2.Profile, request.profile, "profile", "PROFILE_")
        profile = (name or "UPLOAD").lower()  # UNSPECIFIED means UPLOAD
        models = self.runtime.loaded_models()
        assessment = await self.runtime.run(precheck_photo, request.image, models,
                                            self.runtime.config, profile,
                                            share=self.runtime.precheck_share,
                                            urgency=Urgency.UPLOAD)
        return convert.photo_report_to_pb(request.photo_id, assessment)

    @unary_errors
    async def CheckPhoto(self, request: precheck_pb2.PhotoRequest,
                         context: grpc.aio.ServicerContext) -> precheck_pb2.PhotoReport:
        return await self._check(precheck_caller(context, self.keys), request)

    async def CheckPhotos(self, request_iterator: AsyncIterator[precheck_pb2.PhotoRequest],
                          context: grpc.aio.ServicerContext) -> AsyncIterator[precheck_pb2.PhotoReport]:
        try:
            caller = precheck_caller(context, self.keys)
        except (Unauthenticated, PermissionDenied) as exc:
            await abort(context, exc)
            return
        async for request in request_iterator:
            try:
                yield await self._check(caller, request)
            except Exception as exc:  # noqa: BLE001 - reported per photo; the stream goes on
                yield precheck_pb2.PhotoReport(photo_id=request.photo_id,
                                               error=to_rpc_status(exc))
