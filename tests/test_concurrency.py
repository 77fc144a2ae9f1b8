"""Native models used from several analysis threads at once give what one thread gives, and the
analysis queue is bounded.

Without a detector per thread, the HOG test fails: one shared dlib HOG detector returns
another thread's faces, and on images of different sizes corrupts the heap (the field's
`free(): corrupted unsorted chunks`). The ResNet and Bozorth3 tests guard what sharing relies
on (dlib holding the GIL; nbis-py's own Bozorth3 mutex), should a library update change it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import cv2
import grpc
import numpy as np
import pytest

from verifier.cases.store import CaseStore
from verifier.config import Config, load_config
from lebong_contract.errors import LimitExceeded
from verifier.face.detection import detect_faces
from verifier.face.embedding import face_template
from verifier.models import LoadedModels, ModelPool, load_models, read_registry
from verifier.server.runtime import Runtime
from verifier.server.status import grpc_code
from verifier.synthetic.fingerprints import impression
from verifier.synthetic.frames import framed_face

THREADS = 3
T = TypeVar("T")
_NEEDED = ("face_landmarks_5", "face_recognition_resnet", "nbis")


@pytest.fixture(scope="module")
def pooled(tmp_path_factory: pytest.TempPathFactory, config: Config) -> LoadedModels:
    """The models these tests need, loaded as the server loads them for THREADS threads."""
    lines = []
    for e in read_registry(config.models_registry):
        if e.name in _NEEDED:
            lines += [f"[models.{e.name}]", f'resource = "{e.resource}"',
                      f'sha256 = "{e.sha256}"', 'licence = "x"', 'source = "x"',
                      f'loader = "{e.loader}"']
    registry = tmp_path_factory.mktemp("registry") / "registry.toml"
    registry.write_text("\n".join(lines) + "\n")
    return load_models(registry, threads=THREADS)


def concurrently(fn: Callable[[int], T], n: int, rounds: int) -> list[list[T]]:
    """fn(i) for every i in range(n), `rounds` times over from each of THREADS threads, each
    thread starting at another i; results in i order per thread and round."""
    start = threading.Barrier(THREADS)

    def worker(offset: int) -> list[list[T]]:
        start.wait()
        out = []
        for r in range(rounds):
            order = [(offset + r + k) % n for k in range(n)]
            got = {i: fn(i) for i in order}
            out.append([got[i] for i in range(n)])
        return out

    with ThreadPoolExecutor(THREADS) as pool:
        return [result for per_thread in pool.map(worker, range(THREADS))
                for result in per_thread]


def test_model_pool_lends_each_copy_to_one_caller_at_a_time() -> None:
    class Probe:
        def __init__(self) -> None:
            self.busy = False
            self.calls = 0
            self.overlaps = 0

        def __call__(self, x: int) -> int:
            return self.run(x)

        def run(self, x: int) -> int:
            self.overlaps += self.busy
            self.busy = True
            time.sleep(0.002)
            self.calls += 1
            self.busy = False
            return x * 2

    copies = [Probe(), Probe()]
    pool: ModelPool[Probe] = ModelPool(copies)
    with ThreadPoolExecutor(6) as ex:
        assert list(ex.map(pool.run, range(60))) == [x * 2 for x in range(60)]
        assert list(ex.map(pool, range(60))) == [x * 2 for x in range(60)]
    assert sum(c.calls for c in copies) == 120 and all(c.calls for c in copies)
    assert not any(c.overlaps for c in copies)
    with pytest.raises(ValueError):
        ModelPool([])


def test_hog_detection_from_many_threads_equals_one_thread(pooled: LoadedModels) -> None:
    assert pooled.face_detector.size == THREADS
    base = framed_face(face_height_ratio=0.4)
    # Different sizes make the detector reallocate its pyramid: where a shared one crashes.
    images = [np.ascontiguousarray(cv2.resize(base, size))
              for size in ((640, 480), (320, 240), (800, 600), (480, 360))]
    expected = [detect_faces(im, pooled) for im in images]
    assert all(len(faces) == 1 for faces in expected)
    for result in concurrently(lambda i: detect_faces(images[i], pooled), len(images), 4):
        assert result == expected


def test_embeddings_from_many_threads_equal_one_thread(pooled: LoadedModels) -> None:
    frames = [framed_face(face_height_ratio=r) for r in (0.3, 0.45)]
    faces = [detect_faces(f, pooled)[0] for f in frames]

    def embed(i: int) -> bytes:
        return face_template(frames[i], faces[i], pooled).embedding.tobytes()

    expected = [embed(i) for i in range(len(frames))]
    for result in concurrently(embed, len(frames), 2):
        assert result == expected


def test_fingerprints_from_many_threads_equal_one_thread(pooled: LoadedModels) -> None:
    extractor = pooled["nbis"]
    assert isinstance(extractor, ModelPool) and extractor.size == THREADS
    greys = [impression(900, 0), impression(900, 1), impression(901, 0)]

    def extract(i: int) -> tuple[Any, ...]:
        e = extractor.extract(greys[i])
        return (e.minutiae_count, e.nfiq2, e.minutiae.to_iso_19794_2_2005())

    expected = [extract(i) for i in range(len(greys))]
    for result in concurrently(extract, len(greys), 1):
        assert result == expected

    minutiae = [extractor.load_template(iso) for _, _, iso in expected]
    pairs: Sequence[tuple[int, int]] = [(a, b) for a in range(3) for b in range(3)]
    scores = [minutiae[a].compare(minutiae[b]) for a, b in pairs]
    assert scores[1] > scores[2]  # a genuine pair above an impostor pair: real scores
    for result in concurrently(lambda k: minutiae[pairs[k][0]].compare(minutiae[pairs[k][1]]),
                               len(pairs), 5):
        assert result == scores


def test_analysis_queue_is_bounded(tmp_path: Path) -> None:
    config = load_config(server={"analysis_threads": 1, "max_queued_tasks": 1})
    runtime = Runtime(config=config, store=CaseStore(f"sqlite:///{tmp_path / 'c.sqlite3'}"))
    release = threading.Event()

    async def scenario() -> None:
        running = asyncio.ensure_future(runtime.run(release.wait, 10))
        queued = asyncio.ensure_future(runtime.run(lambda: "queued"))
        await asyncio.sleep(0.05)
        # The refusal names the settings to raise.
        with pytest.raises(LimitExceeded, match=r"analysis_threads 1 \+ max_queued_tasks 1"
                           ) as refused:
            await runtime.run(lambda: "refused")
        assert refused.value.reason == "WORK_QUEUE_FULL"
        assert grpc_code(refused.value) == grpc.StatusCode.RESOURCE_EXHAUSTED
        release.set()
        assert await running is True and await queued == "queued"
        assert await runtime.run(lambda: "again") == "again"  # room once the queue drains

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        runtime.executor.shutdown(wait=True)
