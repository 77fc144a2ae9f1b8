"""`capture-station ui`: the counter application served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import webbrowser
from collections.abc import Callable

import uvicorn

from capture_station.camera import OpenCVCamera
from capture_station.spool import Spool
from capture_station.ui.app import create_app
from capture_station.ui.counter import Counter, CounterSettings
from capture_station.ui.preview import CameraHub

HOST = "127.0.0.1"  # one officer at one counter: never reachable from the network


def counter_for(settings: CounterSettings, open_spool: Callable[[], Spool],
                camera: str | None) -> Counter:
    """The counter with its camera hub (not started: the app starts it on its loop). A bad
    camera source fails here, before the server starts; a device that drops out later is
    reopened by the hub and shown in the health panel."""
    hub = None
    if camera is not None:
        OpenCVCamera(camera).close()  # CameraUnavailable now, with its message
        hub = CameraHub(lambda: OpenCVCamera(camera))
    return Counter(settings, open_spool, hub)


async def serve_counter(counter: Counter, port: int, *, open_browser: bool = False,
                        say: Callable[[str], None] = print) -> None:
    """Serve until interrupted (Ctrl-C): sessions still open stay in the spool."""
    config = uvicorn.Config(create_app(counter), host=HOST, port=port, log_level="warning",
                            lifespan="on")
    server = uvicorn.Server(config)
    url = f"http://{HOST}:{port}/"

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.05)
        say(f"aplikasi loket / counter application: {url}")
        if open_browser:
            await asyncio.to_thread(webbrowser.open, url)

    announcer = asyncio.create_task(announce())
    try:
        await server.serve()
    finally:
        announcer.cancel()
