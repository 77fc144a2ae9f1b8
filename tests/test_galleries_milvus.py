"""The face gallery on Milvus (verifier.galleries.milvus_face) behaves as the numpy one: the
same top-1 as exact search, replacement on re-enrolment, removal (its own and other
processes'), each embedder's rows apart, persistence across processes; and bad settings or
an unreachable Milvus are refused with an error naming the problem. Behaviour tests run on
both engines; Milvus runs as Milvus Lite in a temporary file."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, select

from tests.test_galleries_face import DLIB, nik, vectors
from tests.test_galleries_face_embedder import RETRAINED
from verifier.cases.crypto import generate_ring
from verifier.cases.store import CaseStore
from verifier.config import Config, FaceGalleryConfig, load_config
from lebong_contract.errors import InvalidInput, StoreUnavailable
from verifier.face.index import ExactIndex
from verifier.galleries.face import EmbedderIdentity, FaceGallery
from verifier.galleries.milvus_face import MilvusFaceGallery, MilvusFaceIndex, milvus_uri
from verifier.galleries.open import open_galleries
from verifier.galleries.schema import face_gallery
from verifier.gallery import Enrolment
from verifier.models import LoadedModels

MILVUS = FaceGalleryConfig(engine="milvus")
ROOT = Path(__file__).resolve().parents[1]

Opener = Callable[[str, CaseStore, EmbedderIdentity], FaceGallery]


@pytest.fixture
def open_gallery(tmp_path: Path) -> Iterator[Opener]:
    """Opens a gallery of either engine on its own connection (as another process would);
    Milvus galleries share one Milvus Lite file and are closed at the end."""
    opened: list[MilvusFaceGallery] = []

    def open_(engine: str, store: CaseStore, embedder: EmbedderIdentity) -> FaceGallery:
        db = create_engine(store.engine.url)
        if engine == "numpy":
            return FaceGallery(db, store.keys, embedder)
        gallery = MilvusFaceGallery(db, store.keys, embedder, MILVUS,
                                    str(tmp_path / "faces.milvus.db"))
        opened.append(gallery)
        return gallery
    yield open_
    for gallery in opened:
        gallery.close()


def faces(identities: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(rows, identity of each row): 1-4 enrolments a person, spread like dlib embeddings
    (samples of one person ~0.4 apart, different people ~1)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 0.06, (identities, 128))
    identity = np.repeat(np.arange(identities), rng.integers(1, 5, identities))
    rows = centres[identity] + rng.normal(0, 0.025, (identity.size, 128))
    return rows.astype(np.float32), identity


def table_ids(store: CaseStore, embedder: EmbedderIdentity = DLIB) -> list[int]:
    with store.engine.connect() as db:
        return sorted(db.scalars(select(face_gallery.c.id)
                                 .where(face_gallery.c.embedder == embedder.label)).all())


@pytest.mark.parametrize("engine", ["numpy", "milvus"])
def test_top_candidates_agree_with_exact_search(engine: str, open_gallery: Opener,
                                                 tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    gallery = open_gallery(engine, store, DLIB)
    rows, _ = faces(150)
    for i, v in enumerate(rows):
        gallery.enrol(Enrolment(f"case-{i}", nik(i % 100), "face"), v)
    exact = ExactIndex()
    exact.add(rows)
    rng = np.random.default_rng(1)
    # People applying again (a row plus noise) and people never seen.
    probes = np.concatenate([rows[:20] + rng.normal(0, 0.025, (20, 128)),
                             rng.normal(0, 0.06, (10, 128))]).astype(np.float32)
    for probe in probes:
        expected, distances = exact.search(probe, 5)
        found = gallery.search(probe, 5)
        assert [c.enrolment.case_id for c in found] == [f"case-{p}" for p in expected]
        assert [c.score for c in found] == pytest.approx(list(1.0 - distances), abs=1e-5)
    assert gallery.search(probes[0], 0) == []


@pytest.mark.parametrize("engine", ["numpy", "milvus"])
def test_persists_catches_up_replaces_and_removes(engine: str, case_db_url: str,
                                                  open_gallery: Opener) -> None:
    data = vectors(40)
    store = CaseStore(case_db_url, generate_ring())
    writer = open_gallery("numpy", store, DLIB)  # another process: the table only
    reader = open_gallery(engine, store, DLIB)
    assert reader.search(data[0]) == []
    for i, v in enumerate(data):
        writer.enrol(Enrolment(f"case-{i}", nik(i), "face"), v)
    top = reader.search(data[7] + 0.001, top_k=3)
    assert top[0].enrolment.case_id == "case-7" and reader.same_nik(top[0].enrolment.nik, nik(7))
    assert top[0].score > 0.98 > top[1].score >= top[2].score
    # Re-enrolling a case replaces its face (here with case-8's), seen by the reader.
    writer.enrol(Enrolment("case-7", nik(7), "face"), data[8])
    assert len(reader) == 40
    assert {c.enrolment.case_id for c in reader.search(data[8], 2)} == {"case-7", "case-8"}
    assert [c.enrolment.case_id for c in reader.search(data[7], 1)] != ["case-7"]
    # Removed elsewhere: gone from the reader's answers.
    assert writer.remove_case("case-8") == 1 and writer.remove_case("case-8") == 0
    assert [c.enrolment.case_id for c in reader.search(data[8], 1)] == ["case-7"]
    # Removed by the reader itself.
    assert reader.remove_case("case-7") == 1
    assert "case-7" not in {c.enrolment.case_id for c in reader.search(data[8], 5)}
    if isinstance(reader, MilvusFaceGallery):
        # Milvus holds exactly the table's rows: the old face of case-7 and case-8 left it.
        assert reader.milvus.ids().tolist() == table_ids(store)


def test_removal_leaves_milvus_at_once(open_gallery: Opener, tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    gallery = open_gallery("milvus", store, DLIB)
    assert isinstance(gallery, MilvusFaceGallery)
    for i, v in enumerate(vectors(5)):
        gallery.enrol(Enrolment(f"case-{i}", nik(i), "face"), v)
    gallery.load()
    held = gallery.milvus.ids().tolist()
    assert held == table_ids(store) and len(held) == 5
    gallery.remove_case("case-2")  # no search after it: the vector must already be gone
    assert gallery.milvus.ids().tolist() == table_ids(store) and len(table_ids(store)) == 4


@pytest.mark.parametrize("engine", ["numpy", "milvus"])
def test_another_embedders_rows_are_not_returned(engine: str, open_gallery: Opener,
                                                 tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    dlib, retrained = open_gallery(engine, store, DLIB), open_gallery(engine, store, RETRAINED)
    data = vectors(6)
    for i, v in enumerate(data):  # the same vectors under both models
        dlib.enrol(Enrolment(f"dlib-{i}", nik(i), "face"), v)
        retrained.enrol(Enrolment(f"retrained-{i}", nik(i), "face"), v)
    assert [c.enrolment.case_id for c in dlib.search(data[2], 6)][0] == "dlib-2"
    assert all(c.enrolment.case_id.startswith("dlib-") for c in dlib.search(data[2], 12))
    assert all(c.enrolment.case_id.startswith("retrained-")
               for c in retrained.search(data[2], 12))
    assert len(dlib) == 6 and len(retrained) == 6
    if isinstance(dlib, MilvusFaceGallery) and isinstance(retrained, MilvusFaceGallery):
        assert dlib.milvus.name != retrained.milvus.name
        assert dlib.milvus.ids().tolist() == table_ids(store, DLIB)


FRESH_PROCESS = textwrap.dedent("""
    import sys
    import numpy as np
    from verifier.cases.store import CaseStore
    from verifier.config import FaceGalleryConfig
    from verifier.galleries.milvus_face import MilvusFaceGallery
    from tests.test_galleries_face import DLIB, vectors
    store = CaseStore(sys.argv[1])
    gallery = MilvusFaceGallery(store.engine, store.keys, DLIB,
                                FaceGalleryConfig(engine="milvus"), sys.argv[2])
    held = gallery.milvus.ids().tolist()  # before any catch-up: what Milvus kept
    top = gallery.search(vectors(12)[11], 1)[0].enrolment.case_id
    gallery.close()
    print(len(held), held == sorted(held), top)
""")


@pytest.mark.slow  # a second Python process imports the verifier (20-50 s loaded)
def test_a_fresh_process_sees_the_persisted_rows(tmp_path: Path) -> None:
    url, uri = f"sqlite:///{tmp_path / 'cases.sqlite3'}", str(tmp_path / "faces.milvus.db")
    store = CaseStore(url)
    gallery = MilvusFaceGallery(store.engine, store.keys, DLIB, MILVUS, uri)
    for i, v in enumerate(vectors(12)):
        gallery.enrol(Enrolment(f"case-{i}", nik(i), "face"), v)
    gallery.load()  # Milvus now holds the 12 rows
    gallery.close()
    out = subprocess.run([sys.executable, "-c", FRESH_PROCESS, url, uri], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["12", "True", "case-11"]


def test_a_changed_index_type_is_rebuilt_from_the_table(tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    uri = str(tmp_path / "faces.milvus.db")
    flat = MilvusFaceGallery(store.engine, store.keys, DLIB,
                             FaceGalleryConfig(engine="milvus", milvus_index="FLAT"), uri)
    data = vectors(8)
    for i, v in enumerate(data):
        flat.enrol(Enrolment(f"case-{i}", nik(i), "face"), v)
    flat.load()
    flat.close()
    caplog.set_level(logging.WARNING, logger="verifier.galleries.milvus_face")
    ivf = MilvusFaceGallery(store.engine, store.keys, DLIB,
                            FaceGalleryConfig(engine="milvus", milvus_index="IVF_FLAT",
                                              ivf_nlist=4, ivf_nprobe=4), uri)
    try:
        assert "was built as FLAT, configured IVF_FLAT: dropped" in caplog.text
        assert ivf.milvus.ids().size == 0  # a new, empty collection ...
        assert ivf.search(data[5], 1)[0].enrolment.case_id == "case-5"  # ... refilled
        assert ivf.milvus.ids().tolist() == table_ids(store)
    finally:
        ivf.close()


def test_open_galleries_uses_the_configured_engine(tmp_path: Path, models: LoadedModels,
                                                   config: Config) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    FaceGallery(store.engine, store.keys, DLIB).enrol(Enrolment("case-1", nik(1), "face"),
                                                      vectors(1)[0])
    default = open_galleries(store, models, config)
    assert type(default.face) is FaceGallery
    milvus = open_galleries(store, models, load_config(face_gallery={"engine": "milvus"}))
    assert isinstance(milvus.face, MilvusFaceGallery)
    try:
        # Loaded at open (before the server says SERVING), next to the SQLite store.
        assert milvus.face.milvus.uri == str(tmp_path / "cases.milvus.db")
        assert milvus.face.milvus.ids().tolist() == table_ids(store)
    finally:
        milvus.face.close()


# The failing twins: what is refused, and how it is said.

@pytest.mark.parametrize(("setting", "message"), [
    ({"engine": "faiss"}, r"\[face_gallery\] engine must be one of \('numpy', 'milvus'\), "
                          "got 'faiss'"),
    ({"milvus_uri": "faces.sqlite"}, r"milvus_uri must be a Milvus Lite file ending in "
                                     r"\"\.db\" or an http\(s\):// Milvus server"),
    ({"milvus_index": "IVF_PQ"}, r"milvus_index must be one of \('HNSW', 'IVF_FLAT', 'FLAT'\)"),
])
def test_bad_settings_are_refused_by_name(setting: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_config(face_gallery=setting)
    assert load_config(face_gallery={"engine": "milvus"}).face_gallery == MILVUS


def test_a_server_store_needs_a_milvus_uri() -> None:
    with pytest.raises(ValueError, match=r"needs \[face_gallery\] milvus_uri"):
        milvus_uri(MILVUS, "postgresql+psycopg://verifier@db/cases")
    assert milvus_uri(FaceGalleryConfig(engine="milvus", milvus_uri="https://m:19530"),
                      "postgresql+psycopg://verifier@db/cases") == "https://m:19530"
    assert milvus_uri(MILVUS, "sqlite:////var/lib/verifier/cases.sqlite3") == \
        "/var/lib/verifier/cases.milvus.db"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_milvus_is_a_clear_error(tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    uri = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(StoreUnavailable, match=f"could not connect to Milvus at {uri}"):
        MilvusFaceGallery(store.engine, store.keys, DLIB,
                          FaceGalleryConfig(engine="milvus", milvus_uri=uri), uri)
    missing = str(tmp_path / "no-such-dir" / "faces.db")
    with pytest.raises(StoreUnavailable, match="no-such-dir not exists"):
        MilvusFaceGallery(store.engine, store.keys, DLIB, MILVUS, missing)


HOLDER = textwrap.dedent("""
    import sys
    from pymilvus import MilvusClient
    client = MilvusClient(sys.argv[1])
    print("open", flush=True)
    sys.stdin.read()
""")


@pytest.mark.slow  # a second Python process imports pymilvus (20 s loaded)
def test_a_milvus_lite_file_in_use_by_another_process_is_a_clear_error(tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    uri = str(tmp_path / "faces.milvus.db")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, uri], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreUnavailable, match="serves one process at a time"):
            MilvusFaceIndex(uri, MILVUS, DLIB)
    finally:
        holder.communicate("", timeout=60)
    index = MilvusFaceIndex(uri, MILVUS, DLIB)  # released: now it opens
    index.close()


def test_bad_vectors_are_refused(open_gallery: Opener, tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    gallery = open_gallery("milvus", store, DLIB)
    with pytest.raises(InvalidInput, match=r"takes 128 finite numbers .*; got shape \(64,\)"):
        gallery.search(np.zeros(64, np.float32))
    with pytest.raises(InvalidInput, match="finite"):
        gallery.enrol(Enrolment("c", nik(1), "face"), np.full(128, np.inf, np.float32))
