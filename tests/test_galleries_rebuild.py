"""`verifier galleries rebuild` on a store whose finished case is not in the galleries (as a
database from before the gallery tables): the live face (embedded when it arrived) and the
fingers are enrolled; a rerun replaces rather than duplicates. After `[face] embedder` changes,
`--re-embed` enrols the face again from the kept capture with the new model."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.complete_case import finger_png, frame_jpeg
from tests.test_galleries_face import DLIB
from tests.test_galleries_face_embedder import WIDE
from verifier.cases.store import CaseStore
from verifier.cli import main
from verifier.config import Config
from verifier.counter_session import CounterSessions
from verifier.galleries import face, fingerprints
from verifier.models import LoadedModels


def test_rebuild_enrols_cases_the_galleries_lack(tmp_path: Path, models: LoadedModels,
                                                  config: Config,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cases.sqlite3"
    store = CaseStore(f"sqlite:///{db}")
    sessions = CounterSessions(store, models, config)  # no galleries: nothing is enrolled
    sid = str(uuid.uuid4())
    sessions.start(sid, 1, "loket-1", "p-1", {"nik": "1707014508900001"})
    seq = 1
    for _ in range(config.photo.capture.steady_frames):
        seq += 1
        sessions.frame(sid, seq, frame_jpeg())
    for position in (2, 7):
        seq += 1
        sessions.fingerprint(sid, seq, position, 500, finger_png(1500 + position))
    assert sessions.finish(sid, seq + 1).verdict is not None
    faces = face.FaceGallery(store.engine, store.keys, DLIB)
    fingers = fingerprints.FingerprintGallery(store.engine, store.keys,
                                              models["nbis"])
    assert len(faces) == 0 and len(fingers) == 0
    out = tmp_path / "rebuild.json"
    for _ in range(2):
        assert main(["galleries", "rebuild", "--db", str(db), "--json", str(out)]) == 0
    assert json.loads(out.read_text()) == {"cases_enrolled": 1, "faces_embedded": 0}
    assert len(faces) == 1 and len(fingers) == 2

    # The deployment switches to FaceNet: the face stored at arrival is dlib's, refused by
    # the 512-d gallery; --re-embed embeds the kept capture with FaceNet instead.
    switched = tmp_path / "facenet.toml"
    switched.write_text('[face]\nembedder = "face_facenet_casia"\n')
    rebuild = ["--config", str(switched), "galleries", "rebuild", "--db", str(db)]
    assert main(rebuild) != 0
    assert "face_facenet_casia@704afe26766c takes 512 finite numbers" in capsys.readouterr().err
    assert len(faces) == 1 and len(face.FaceGallery(store.engine, store.keys, WIDE)) == 0
    assert main([*rebuild, "--re-embed", "--json", str(out)]) == 0
    assert json.loads(out.read_text()) == {"cases_enrolled": 1, "faces_embedded": 1}
    facenet = face.FaceGallery(store.engine, store.keys, WIDE)
    assert len(faces) == 0 and len(facenet) == 1 and len(fingers) == 2
    [(_, vector)] = facenet.templates_of_nik("1707014508900001")
    assert vector.shape == (512,)
