"""`verifier keys rotate` while processes write: a running store follows its key file, seals
with the new key within seconds, opens values another process re-sealed, and nothing written
during the rotation is lost; retiring the old key is refused until the reload window has
passed and nothing is sealed with it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select

from tests.test_keys import PHOTO, add_case, keys_cli, past_the_reload_window
from verifier.cases.crypto import (KeyFileRing, generate_ring, load_key_file,
                                   sealed_text_key_id, write_key_file)
from verifier.cases.key_usage import key_ids_in_use
from verifier.cases.schema import CaseRow
from verifier.cases.store import CaseStore, keys_for
from verifier.cli import main as verifier_main
from verifier.face.embedding import EMBEDDING_DIM, MODEL_NAME
from verifier.galleries.face import EmbedderIdentity, gallery_for
from verifier.gallery import Enrolment


def sealed_with(store: CaseStore, case_id: str) -> str:
    with store.engine.connect() as db:
        return sealed_text_key_id(db.scalar(select(CaseRow.application_json)
                                            .where(CaseRow.id == case_id)))


def new_key_file(tmp_path: Path) -> tuple[str, Path]:
    key_file = tmp_path / "evidence.key"
    write_key_file(key_file, generate_ring())
    return f"sqlite:///{tmp_path / 'c.sqlite3'}", key_file


def test_a_running_store_seals_with_the_new_key_after_rotation(tmp_path: Path) -> None:
    url, key_file = new_key_file(tmp_path)
    old_id = load_key_file(key_file).active_id
    following = CaseStore(url, keys_for(url, str(key_file)))  # as `serve` and `review` open it
    fixed = CaseStore(url, load_key_file(key_file))  # twin: keys read once
    assert isinstance(following.keys, KeyFileRing)
    # The server's duplicate search.
    faces = gallery_for(following.engine, following.keys,
                        EmbedderIdentity(MODEL_NAME, "0" * 64, EMBEDDING_DIM))
    assert sealed_with(following, add_case(following, "before")) == old_id

    assert keys_cli("rotate", "--db", url, "--key-file", str(key_file)) == 0
    new_id = load_key_file(key_file).active_id
    time.sleep(1.2)  # past crypto.RECHECK_SECONDS
    after = add_case(following, "after")
    assert sealed_with(following, after) == new_id
    faces.enrol(Enrolment(case_id=after, nik="1702015508900001", label="live"),
                np.full(EMBEDDING_DIM, 0.1, dtype=np.float32))
    # Both cases (one re-encrypted by the rotation, one sealed since) and the gallery row's
    # NIK and embedding: nothing under the old key.
    assert key_ids_in_use(following.engine) == {new_id: 3 + 3 + 2}
    assert sealed_with(fixed, add_case(fixed, "fixed")) == old_id
    assert following.audit.verify().ok


def test_a_value_resealed_elsewhere_opens_at_once(tmp_path: Path) -> None:
    url, key_file = new_key_file(tmp_path)
    # It would not look at the file again for an hour; an unknown key id reloads it now.
    store = CaseStore(url, KeyFileRing(key_file, recheck_s=3600))
    case_id = add_case(store, "s1")
    assert keys_cli("rotate", "--db", url, "--key-file", str(key_file)) == 0
    assert sealed_with(store, case_id) == load_key_file(key_file).active_id
    assert store.payload(case_id, 2) == PHOTO


def test_a_changed_key_file_that_is_refused_keeps_the_keys_loaded(tmp_path: Path) -> None:
    _, key_file = new_key_file(tmp_path)
    ring = KeyFileRing(key_file, recheck_s=0)
    active = ring.active_id
    write_key_file(key_file, generate_ring(load_key_file(key_file)))
    key_file.chmod(0o644)  # a botched rotation: group and others may read the new key
    assert ring.active_id == active and ring.open(ring.seal(b"x", "c"), "c") == b"x"
    key_file.chmod(0o600)  # twin: once private, the change is taken
    assert ring.active_id == load_key_file(key_file).active_id != active


def test_rotation_during_writes_loses_nothing(tmp_path: Path, capsys) -> None:
    url, key_file = new_key_file(tmp_path)
    old_id = load_key_file(key_file).active_id
    config = tmp_path / "verifier.toml"
    config.write_text(f'[cases]\nkey_file = "{key_file}"\n')
    server = CaseStore(url, keys_for(url, str(key_file)))
    written: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def write_cases() -> None:  # a verifier committing sessions throughout
        try:
            while not stop.is_set():
                case_id = add_case(server, f"s{len(written)}")
                server.audit.append("petugas-1", "view_evidence", case_id, {"sequence": 2})
                written.append(case_id)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    writer = threading.Thread(target=write_cases)
    writer.start()
    try:
        while len(written) < 5:
            time.sleep(0.05)
        assert keys_cli("rotate", "--db", url, "--key-file", str(key_file)) == 0
        at_rotation = len(written)
        capsys.readouterr()
        # Within the window the old key is never retired, whatever the count says.
        assert keys_cli("retire", "--db", url, "--key-file", str(key_file)) == 2
        assert "may still be sealing" in capsys.readouterr().err
        assert old_id in load_key_file(key_file).keys
        time.sleep(2.0)  # the writer reloads the file and keeps going
        while len(written) < at_rotation + 5:
            time.sleep(0.05)
    finally:
        stop.set()
        writer.join()
    assert errors == []
    new_id = load_key_file(key_file).active_id
    assert sealed_with(server, written[-1]) == new_id  # the writer switched keys

    past_the_reload_window(key_file)
    assert verifier_main(["--config", str(config), "keys", "reencrypt", "--db", url]) == 0
    assert keys_cli("retire", "--db", url, "--key-file", str(key_file)) == 0
    final = load_key_file(key_file)
    assert list(final.keys) == [new_id]
    reopened = CaseStore(url, final)
    assert key_ids_in_use(reopened.engine) == {new_id: 3 * len(written)}
    assert all(reopened.payload(case_id, 2) == PHOTO for case_id in written)
    assert reopened.audit.verify().ok
    assert reopened.audit.count() == len(written) + 2  # each view; rotate and reencrypt
