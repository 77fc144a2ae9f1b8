"""`verifier galleries rebuild` on a store whose finished case is not in the galleries (as a
database from before the gallery tables): the live face (embedded when it arrived) and the
fingers are enrolled; a rerun replaces rather than duplicates."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from tests.complete_case import finger_png, frame_jpeg
from verifier.cases.store import CaseStore
from verifier.cli import main
from verifier.config import Config
from verifier.counter_session import CounterSessions
from verifier.galleries import face, fingerprints
from verifier.models import LoadedModels


def test_rebuild_enrols_cases_the_galleries_lack(tmp_path: Path, models: LoadedModels,
                                                  config: Config) -> None:
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
    faces = face.FaceGallery(store.engine, store.keys)
    fingers = fingerprints.FingerprintGallery(store.engine, store.keys,
                                              models["nbis"])
    assert len(faces) == 0 and len(fingers) == 0
    out = tmp_path / "rebuild.json"
    for _ in range(2):
        assert main(["galleries", "rebuild", "--db", str(db), "--json", str(out)]) == 0
    assert json.loads(out.read_text()) == {"cases_enrolled": 1, "faces_embedded": 0}
    assert len(faces) == 1 and len(fingers) == 2
