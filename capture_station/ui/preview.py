"""The counter camera shared by the live preview and the session.

One thread reads the camera at its own rate and keeps only the latest frame with its preview
JPEG. The browser's preview gets every frame (SSE); a session gets the newest frame each time
it asks, so the verifier's slower analysis never holds the preview back. A video file starts
over when it ends, so a demo or test camera never runs dry.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from capture_station.camera import Camera, Frame, encode_jpeg
from capture_station.errors import CaptureStationError

# A camera that delivered nothing for this long counts as down in the station's health.
STALE_AFTER_S = 2.0
# Wait before reopening a camera that failed to open or ended, so a broken one is not spun on.
_REOPEN_DELAY_S = 1.0


@dataclass(frozen=True, eq=False)
class PreviewFrame:
    """The latest camera frame, its JPEG for the browser and its number since start."""

    number: int
    frame: Frame
    jpeg: bytes
    width: int
    height: int


class CameraHub:
    """Reads `open_camera()` on a thread until `close()`; see the module doc."""

    def __init__(self, open_camera: Callable[[], Camera], *, preview_quality: int = 80) -> None:
        self._open_camera = open_camera
        self._quality = preview_quality
        self._lock = threading.Condition()
        self._latest: PreviewFrame | None = None
        self._last_frame_mono = 0.0
        self._closed = threading.Event()
        self.error = ""  # why the camera is down, for the health panel
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new_frame: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._read, name="camera-hub", daemon=True)

    def start(self, loop: asyncio.AbstractEventLoop) -> CameraHub:
        """Start reading; new frames wake `wait_frame` callers on `loop`."""
        self._loop = loop
        self._new_frame = asyncio.Event()
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._lock.notify_all()
        self._thread.join(5)

    @property
    def latest(self) -> PreviewFrame | None:
        return self._latest

    @property
    def healthy(self) -> bool:
        return self._latest is not None and \
            time.monotonic() - self._last_frame_mono < STALE_AFTER_S

    async def wait_frame(self, after: int, timeout_s: float) -> PreviewFrame | None:
        """The first frame numbered above `after`, or None after `timeout_s`."""
        assert self._new_frame is not None, "start() the hub first"
        deadline = asyncio.get_running_loop().time() + timeout_s
        while (latest := self._latest) is None or latest.number <= after:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return None
            event = self._new_frame
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return None
        return latest

    def session_frames(self) -> Iterator[Frame]:
        """Blocking iterator over new frames for a session's camera stream; ends on close or
        when the camera has delivered nothing for `STALE_AFTER_S`."""
        seen = -1
        while not self._closed.is_set():
            with self._lock:
                if not self._lock.wait_for(
                        lambda: self._closed.is_set() or (
                            self._latest is not None and self._latest.number > seen),
                        STALE_AFTER_S):
                    return
                latest = self._latest
            if latest is None or self._closed.is_set():
                return
            seen = latest.number
            yield latest.frame

    def _read(self) -> None:
        number = 0
        while not self._closed.is_set():
            try:
                camera = self._open_camera()
            except CaptureStationError as exc:
                self.error = str(exc)
                self._closed.wait(_REOPEN_DELAY_S)
                continue
            try:
                for frame in camera:
                    if self._closed.is_set():
                        break
                    number += 1
                    self._publish(number, frame)
            finally:
                camera.close()
            self._closed.wait(_REOPEN_DELAY_S / 10)  # a file ended: start it over

    def _publish(self, number: int, frame: Frame) -> None:
        try:
            jpeg = encode_jpeg(frame, self._quality)
        except ValueError as exc:
            self.error = str(exc)
            return
        height, width = frame.image.shape[:2]
        with self._lock:
            self._latest = PreviewFrame(number, frame, jpeg, width, height)
            self._last_frame_mono = time.monotonic()
            self.error = ""
            self._lock.notify_all()
        if self._loop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._wake)
            except RuntimeError:  # the loop closed meanwhile: nobody is waiting
                pass

    def _wake(self) -> None:
        """On the loop: wake everyone waiting for a frame, and arm a fresh event."""
        assert self._new_frame is not None
        event, self._new_frame = self._new_frame, asyncio.Event()
        event.set()
