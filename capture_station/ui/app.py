"""The counter application's web app: the officer's page, a JSON API over `Counter`, and the
live preview as server-sent events. Served on 127.0.0.1 only (`capture-station ui`).

The page is plain files under `static/` (no CDN, no build step). Every change is a POST with
the `X-Counter` header: a web page from elsewhere open in the same browser cannot send that
header without a CORS preflight this app never grants, and a Host other than the loopback
names is refused, so neither a stray page nor DNS rebinding can drive the counter.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from capture_station.errors import (CaptureStationError, MessageTooLarge, OfficerSignInRefused,
                                    VerifierUnreachable)
from capture_station.ui.counter import Counter, CounterRefused

STATIC = Path(__file__).parent / "static"
LOOPBACK_HOSTS = ["127.0.0.1", "localhost"]
CSRF_HEADER = "X-Counter"
# The preview stream sends a comment when the camera is quiet, so the browser sees it alive.
_KEEPALIVE_S = 2.0

Handler = Callable[[Request], Awaitable[Any]]


def _status(exc: CaptureStationError) -> int:
    if isinstance(exc, CounterRefused):
        return exc.status
    if isinstance(exc, OfficerSignInRefused):
        return 401
    if isinstance(exc, VerifierUnreachable):
        return 503
    if isinstance(exc, MessageTooLarge):
        return 413
    return 400


def action(handler: Handler) -> Handler:
    """A POST endpoint: checks the CSRF header, answers JSON, and turns the station's errors
    into their message (never a traceback) with a fitting status."""
    async def endpoint(request: Request) -> Response:
        if request.headers.get(CSRF_HEADER) != "1":
            return JSONResponse({"error": f"missing {CSRF_HEADER} header"}, 403)
        try:
            return JSONResponse({"ok": True, "result": await handler(request)})
        except CaptureStationError as exc:
            return JSONResponse({"error": str(exc)}, _status(exc))
    return endpoint


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CounterRefused(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CounterRefused("request body must be a JSON object")
    return data


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise CounterRefused(f"{name} must be a string")
    return value


def _position(request: Request) -> int:
    text = request.path_params["position"]
    if not text.isdigit():
        raise CounterRefused(f"finger position must be 1-10, got {text!r}")
    return int(text)


def create_app(counter: Counter) -> Starlette:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        counter.start()
        try:
            yield
        finally:
            await counter.close()

    async def index(_request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def state(_request: Request) -> Response:
        return JSONResponse(counter.view())

    async def health(_request: Request) -> Response:
        return JSONResponse(await counter.health())

    @action
    async def sign_in(request: Request) -> Any:
        data = await _json(request)
        officer = await counter.sign_in(_text(data, "username"), _text(data, "password"),
                                        _text(data, "totp"))
        return {"officer": officer.officer_id}

    @action
    async def sign_out(_request: Request) -> Any:
        counter.sign_out()

    @action
    async def start_visit(request: Request) -> Any:
        data = await _json(request)
        if "application" not in data:
            raise CounterRefused("request must hold the application form as \"application\"")
        visit = await counter.start_visit(data["application"])
        return {"visit": visit.id}

    @action
    async def accept_photo(_request: Request) -> Any:
        counter.accept_photo()

    @action
    async def retake(_request: Request) -> Any:
        return {"visit": (await counter.retake()).id}

    @action
    async def capture_finger(request: Request) -> Any:
        return await counter.capture_finger(_position(request))

    @action
    async def finger_exception(request: Request) -> Any:
        data = await _json(request)
        counter.declare_exception(_position(request), _text(data, "reason"),
                                  _text(data, "note"))

    @action
    async def document(request: Request) -> Any:
        kind = request.path_params["kind"]
        return counter.add_document(kind, await request.body(), "upload")

    @action
    async def document_from_camera(request: Request) -> Any:
        return counter.document_from_camera(request.path_params["kind"])

    @action
    async def correction(request: Request) -> Any:
        data = await _json(request)
        sequence = data.get("sequence")
        if not isinstance(sequence, int):
            raise CounterRefused("sequence must be the document's number")
        return counter.correct_field(sequence, _text(data, "field"), _text(data, "value"),
                                     _text(data, "note"))

    @action
    async def finish(_request: Request) -> Any:
        counter.finish()

    async def preview(_request: Request) -> Response:
        """Every camera frame as an SSE `frame` event: the JPEG and the verifier's latest
        guidance (face box, hints) for the overlay."""
        if counter.camera is None:
            return JSONResponse({"error": "no camera configured"}, 404)
        camera = counter.camera

        async def events() -> AsyncIterator[str]:
            number = 0
            while True:
                frame = await camera.wait_frame(number, _KEEPALIVE_S)
                if frame is None:
                    yield ": waiting for the camera\n\n"
                    continue
                number = frame.number
                visit = counter.visit
                payload = {"n": frame.number, "w": frame.width, "h": frame.height,
                           "jpeg": base64.b64encode(frame.jpeg).decode("ascii"),
                           "guidance": None if visit is None or visit.photo_jpeg is not None
                           else visit.guidance}
                yield f"event: frame\ndata: {json.dumps(payload)}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    routes = [
        Route("/", index),
        Route("/api/state", state),
        Route("/api/health", health),
        Route("/api/preview", preview),
        Route("/api/sign-in", sign_in, methods=["POST"]),
        Route("/api/sign-out", sign_out, methods=["POST"]),
        Route("/api/visit", start_visit, methods=["POST"]),
        Route("/api/photo/accept", accept_photo, methods=["POST"]),
        Route("/api/photo/retake", retake, methods=["POST"]),
        Route("/api/fingers/{position}/capture", capture_finger, methods=["POST"]),
        Route("/api/fingers/{position}/exception", finger_exception, methods=["POST"]),
        Route("/api/documents/{kind}", document, methods=["POST"]),
        Route("/api/documents/{kind}/camera", document_from_camera, methods=["POST"]),
        Route("/api/corrections", correction, methods=["POST"]),
        Route("/api/finish", finish, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[
        Middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_HOSTS)])
