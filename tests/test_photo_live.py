"""Live guidance at the counter, auto-capture with the passport crop, and the pre-check
service and command."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest

from tests.harness import ROOT
from tests.precheck_credentials import keyed_verifier
from lebong_contract.api.v1 import precheck_pb2, precheck_pb2_grpc
from verifier.cases.store import CaseStore
from verifier.config import Config, load_config
from verifier.counter_session import CounterSessions
from verifier.imaging import decode_image, encode_jpeg
from verifier.models import LoadedModels
from verifier.photo.assessment import assess_photo
from verifier.synthetic import photo_variants as pv
from verifier.synthetic.frames import BACKDROP_RGB, framed_face


@pytest.fixture
def sessions(tmp_path: Path, models: LoadedModels, config: Config) -> CounterSessions:
    return CounterSessions(CaseStore(f"sqlite:///{tmp_path / 'c.sqlite3'}"), models, config)


def hints(outcome) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.requirement for r in outcome.assessment.to_fix]


def test_guidance_names_the_first_thing_to_fix_then_captures_a_steady_face(
        sessions: CounterSessions, models: LoadedModels, config: Config) -> None:
    sessions.start("s1", 1, "loket-1", "petugas-7", {})
    empty = np.empty((480, 640, 3), np.uint8)
    empty[:] = BACKDROP_RGB
    frames = [empty, framed_face(0.2), framed_face(0.35, 0.3),
              framed_face(0.35, 0.0, eye_height_ratio=0.3)]
    steady = config.photo.capture.steady_frames
    frames += [framed_face()] * steady
    outcomes = [sessions.frame("s1", i + 2, encode_jpeg(f)) for i, f in enumerate(frames)]
    assert hints(outcomes[0])[0] == "single_face"
    assert hints(outcomes[1])[0] == "face_size"
    assert hints(outcomes[2])[0] == "face_centred"
    assert "geser" in outcomes[2].assessment.to_fix[0].message_id
    assert hints(outcomes[3])[0] == "crop_room"  # head too high for the passport crop
    assert [o.capture_accepted for o in outcomes] == [False] * (len(frames) - 1) + [True]
    assert all(o.assessment.ready for o in outcomes[-steady:])
    last = outcomes[-1]
    assert last.photo_jpeg is not None
    # The crop is a passport photo by the upload profile's own geometry rules.
    crop = assess_photo(decode_image(last.photo_jpeg, config.imaging), models, config, "upload")
    values = {r.requirement: r for r in crop.requirements}
    for name in ("single_face", "head_size", "eye_height", "face_centred", "image_format",
                 "inter_eye_distance", "roll", "background"):
        assert values[name].passed, values[name]
    assert abs(values["head_size"].value - config.photo.capture.head_height_ratio) < 0.04
    # The store keeps the accepted frame and the crop in its result record.
    case = sessions.store.find_case("s1")
    assert case is not None
    contents = sessions.store.contents(case.case_id)
    assert contents.capture_sequence == last.sequence
    (record,) = [m for m in contents.messages if m.sequence == last.sequence]
    assert base64.b64decode(record.result["passport_photo_jpeg_base64"]) == last.photo_jpeg
    # Later ready frames neither capture again nor carry a crop.
    again = sessions.frame("s1", 99, encode_jpeg(framed_face()))
    assert again.assessment.ready and not again.capture_accepted and again.photo_jpeg is None


def test_a_smile_is_named_and_holds_the_capture_until_the_mouth_closes(
        sessions: CounterSessions) -> None:
    sessions.start("s-smile", 1, "loket-1", "petugas-7", {})
    smiling = [sessions.frame("s-smile", i + 2, encode_jpeg(framed_face(smiling=True)))
               for i in range(4)]
    assert not any(o.capture_accepted for o in smiling)
    assert hints(smiling[0]) == ["mouth_closed", "neutral_expression"]
    assert "mulut" in smiling[0].assessment.to_fix[0].message_id.lower()
    relaxed = [sessions.frame("s-smile", i + 10, encode_jpeg(framed_face())) for i in range(3)]
    assert relaxed[-1].capture_accepted


def test_a_tilted_head_breaks_the_steady_streak(sessions: CounterSessions) -> None:
    sessions.start("s2", 1, "loket-1", "petugas-7", {})
    good = encode_jpeg(framed_face())
    tilted = cv2.warpAffine(framed_face(), cv2.getRotationMatrix2D((320, 225), 15, 1.0),
                            (640, 480), borderValue=BACKDROP_RGB)
    seq = [good, good, encode_jpeg(tilted), good, good]
    outcomes = [sessions.frame("s2", i + 2, data) for i, data in enumerate(seq)]
    assert hints(outcomes[2]) == ["roll"]
    assert "tegakkan" in outcomes[2].assessment.to_fix[0].message_id
    assert not any(o.capture_accepted for o in outcomes)
    assert sessions.frame("s2", 7, good).capture_accepted


def test_precheck_service_uses_the_profile_and_reports_bad_photos_in_the_stream(
        tmp_path: Path) -> None:
    photo = encode_jpeg(pv.astronaut_base().rgb)
    frame = encode_jpeg(framed_face())
    with keyed_verifier(tmp_path) as (verifier, credentials), \
            grpc.insecure_channel(verifier.address) as ch:
        stub = precheck_pb2_grpc.PrecheckServiceStub(ch)
        upload = stub.CheckPhoto(precheck_pb2.PhotoRequest(photo_id="a", image=photo),
                                 metadata=credentials)
        assert upload.compliant and upload.photo_id == "a"
        assert upload.requirements[0].requirement == "image_format"
        # A camera frame is not a finished photo, but it is a good counter frame.
        as_upload = stub.CheckPhoto(precheck_pb2.PhotoRequest(photo_id="f", image=frame),
                                    metadata=credentials)
        as_frame = stub.CheckPhoto(precheck_pb2.PhotoRequest(
            photo_id="f", image=frame, profile=precheck_pb2.PROFILE_COUNTER),
            metadata=credentials)
        assert not as_upload.compliant and as_frame.compliant
        with pytest.raises(grpc.RpcError) as info:
            stub.CheckPhoto(precheck_pb2.PhotoRequest(photo_id="x", image=photo, profile=7),
                            metadata=credentials)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        reports = list(stub.CheckPhotos(iter([
            precheck_pb2.PhotoRequest(photo_id="1", image=photo),
            precheck_pb2.PhotoRequest(photo_id="2", image=photo[:500]),
            precheck_pb2.PhotoRequest(photo_id="3", image=photo)]), metadata=credentials))
    assert [r.photo_id for r in reports] == ["1", "2", "3"]
    assert reports[0].compliant and reports[2].compliant
    assert reports[1].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]


@pytest.mark.slow
def test_precheck_command_over_a_folder(tmp_path: Path) -> None:
    base = pv.astronaut_base()
    folder = tmp_path / "uploads"
    (folder / "sub").mkdir(parents=True)
    (folder / "ok.jpg").write_bytes(encode_jpeg(base.rgb))
    (folder / "sub" / "blue.png").write_bytes(encode_jpeg(pv.recoloured_background(base)))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / "notes.txt").write_text("ignored: not an image")
    html, out = tmp_path / "r.html", tmp_path / "r.json"
    result = subprocess.run(
        [sys.executable, "-m", "verifier.cli", "precheck", "--json", str(out), "--html",
         str(html), str(folder)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    report = json.loads(out.read_text())
    by_name = {Path(p["path"]).name: p for p in report["photos"]}
    assert set(by_name) == {"ok.jpg", "blue.png", "broken.jpg"}
    assert by_name["ok.jpg"]["compliant"] and not by_name["blue.png"]["compliant"]
    assert [r["requirement"] for r in by_name["blue.png"]["requirements"]
            if r["outcome"] != "pass"] == ["background"]
    assert "error" in by_name["broken.jpg"] and report["compliant"] == 1
    assert "FAIL" in result.stdout and "Latar belakang berwarna" in result.stdout
    page = html.read_text()
    assert page.count("data:image/jpeg;base64,") == 2
    assert "http://" not in page and "https://" not in page and "<script" not in page
    only_ok = subprocess.run([sys.executable, "-m", "verifier.cli", "precheck",
                              str(folder / "ok.jpg")], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    assert only_ok.returncode == 0, only_ok.stdout + only_ok.stderr


def test_an_overloaded_cpu_thins_out_analysis_instead_of_queueing(
        tmp_path: Path, models: LoadedModels) -> None:
    # Every analysis counts as slow (threshold 0 ms); at most one analysis per 10 s.
    config = load_config(photo={"capture": {"busy_analysis_ms": 0.0,
                                            "busy_max_analysed_fps": 0.1}})
    sessions = CounterSessions(CaseStore(f"sqlite:///{tmp_path / 'c.sqlite3'}"), models, config)
    sessions.start("s3", 1, "loket-1", "petugas-7", {})
    good = encode_jpeg(framed_face())
    outcomes = [sessions.frame("s3", seq, good) for seq in range(2, 6)]
    assert outcomes[0].assessment is not None and outcomes[0].assessment.ready
    assert all(o.committed and o.assessment is None for o in outcomes[1:])
    assert not any(o.capture_accepted for o in outcomes)  # skipped frames do not count
    case = sessions.store.find_case("s3")
    assert case is not None
    results = [m.result for m in sessions.store.contents(case.case_id).messages
               if m.kind == "frame"]
    assert results[1:] == [{"analysed": False, "reason": "busy"}] * 3
