"""PrecheckService: passport-photo checks of uploaded files."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from verifier.api.v1 import precheck_pb2, precheck_pb2_grpc
from verifier.precheck import precheck_photo
from verifier.server import convert
from verifier.server.runtime import Runtime
from verifier.server.status import to_rpc_status, unary_errors


class PrecheckServicer(precheck_pb2_grpc.PrecheckServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def _check(self, request: precheck_pb2.PhotoRequest) -> precheck_pb2.PhotoReport:
        name = convert.enum_name(precheck_pb2.Profile, request.profile, "profile", "PROFILE_")
        profile = (name or "UPLOAD").lower()  # UNSPECIFIED means UPLOAD
        models = self.runtime.loaded_models()
        assessment = await self.runtime.run(precheck_photo, request.image, models,
                                            self.runtime.config, profile)
        return convert.photo_report_to_pb(request.photo_id, assessment)

    @unary_errors
    async def CheckPhoto(self, request: precheck_pb2.PhotoRequest,
                         context: grpc.aio.ServicerContext) -> precheck_pb2.PhotoReport:
        return await self._check(request)

    async def CheckPhotos(self, request_iterator: AsyncIterator[precheck_pb2.PhotoRequest],
                          context: grpc.aio.ServicerContext) -> AsyncIterator[precheck_pb2.PhotoReport]:
        async for request in request_iterator:
            try:
                yield await self._check(request)
            except Exception as exc:  # noqa: BLE001 - reported per photo; the stream goes on
                yield precheck_pb2.PhotoReport(photo_id=request.photo_id,
                                               error=to_rpc_status(exc))
