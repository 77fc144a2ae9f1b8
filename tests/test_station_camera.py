"""OpenCV camera on a real video file, JPEG encoding and the frame rate limiter."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from capture_station.camera import Frame, OpenCVCamera, RateLimiter, encode_jpeg
from capture_station.errors import CameraUnavailable, CaptureStationError


def write_video(path, frames: int = 6, fps: float = 20.0, size=(160, 120)) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    for i in range(frames):
        image = np.full((size[1], size[0], 3), 40 * i % 256, np.uint8)
        cv2.putText(image, str(i), (20, 80), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        writer.write(image)
    writer.release()


def test_video_file_reads_every_frame_unpaced(tmp_path):
    path = tmp_path / "clip.avi"
    write_video(path, frames=6)
    with OpenCVCamera(str(path), realtime=False) as camera:
        assert camera.fps == pytest.approx(20.0)
        frames = list(camera)
    assert len(frames) == 6
    assert frames[0].image.shape == (120, 160, 3) and frames[0].channels == "bgr"
    assert abs(frames[0].captured_at_unix_ms - time.time() * 1000) < 10_000


def test_video_file_is_paced_like_a_live_camera(tmp_path):
    path = tmp_path / "clip.avi"
    write_video(path, frames=6, fps=20.0)
    started = time.monotonic()
    with OpenCVCamera(str(path)) as camera:
        assert len(list(camera)) == 6
    # Six frames at 20 fps: the last is due at 0.25 s.
    assert time.monotonic() - started >= 0.2


def test_paced_video_skips_frames_a_slow_consumer_missed(tmp_path):
    path = tmp_path / "clip.avi"
    write_video(path, frames=20, fps=50.0)
    seen = 0
    with OpenCVCamera(str(path)) as camera:
        for _ in camera:
            seen += 1
            time.sleep(0.06)  # three frame periods
    assert seen < 20


@pytest.mark.parametrize("source", ["missing.avi", "not a camera"])
def test_bad_source_is_a_clear_error(tmp_path, source):
    with pytest.raises(CameraUnavailable, match="not a device index"):
        OpenCVCamera(str(tmp_path / source))


def test_unreadable_file_is_a_clear_error(tmp_path):
    path = tmp_path / "garbage.avi"
    path.write_bytes(b"this is not a video")
    with pytest.raises(CaptureStationError, match="cannot open camera source"):
        OpenCVCamera(str(path))


def test_encode_jpeg_round_trips_and_honours_channel_order():
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[..., 0] = 255  # red in RGB
    decoded = cv2.imdecode(np.frombuffer(encode_jpeg(Frame(rgb, 0, "rgb")), np.uint8),
                           cv2.IMREAD_COLOR)
    assert decoded[16, 16, 2] > 200 and decoded[16, 16, 0] < 50  # red in BGR
    with pytest.raises(ValueError):
        encode_jpeg(Frame(rgb, 0), quality=0)


def test_rate_limiter_drops_frames_above_max_fps():
    now = [0.0]
    limiter = RateLimiter(5.0, clock=lambda: now[0])
    decisions = []
    for _ in range(10):  # 10 frames at 0.1 s spacing = 10 fps
        decisions.append(limiter.allow())
        now[0] += 0.1
    assert decisions == [True, False] * 5
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_rate_limiter_tolerates_jitter_and_keeps_the_long_run_rate():
    now = [0.0]
    limiter = RateLimiter(15.0, clock=lambda: now[0])
    allowed = 0
    for i in range(300):  # 10 s of a 30 fps camera with +-4 ms jitter
        now[0] = i / 30 + (0.004 if i % 2 else -0.004)
        allowed += limiter.allow()
    assert 140 <= allowed <= 151
