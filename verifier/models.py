"""Model files: the registry in models/registry.toml, integrity checks and explicit loading.

Nothing is loaded at import. `load_models` is called once at start-up; the server reports
NOT_SERVING until it returns, and refuses to start when a file is missing or altered.

Analyses run on several threads at once. A model whose calls must not overlap (dlib's HOG
detector keeps its feature pyramid in the object: two threads on one detector get each
other's faces or corrupt the heap) is loaded once per analysis thread and handed out through
a `ModelPool`; its loader is marked `@per_thread`. bench/REPORT-stations.md has the evidence
for each model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import queue
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from lebong_contract.errors import ModelIntegrityError

log = logging.getLogger(__name__)

T = TypeVar("T")
Loader = Callable[[Path], Any]


@dataclass(frozen=True)
class ModelEntry:
    name: str
    sha256: str
    licence: str
    source: str
    loader: str  # "module:function" taking the file's Path, returning the loaded model
    resource: str | None = None  # "package:relative/path"
    path: str | None = None  # absolute (read_registry resolves it against the registry's folder)
    # A face embedding model's declared input, normalisation, alignment and output (the
    # entry's `embedding` table; read by verifier.face.embedders).
    embedding: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class VerifiedModel:
    entry: ModelEntry
    file: Path


def read_registry(registry: Path) -> tuple[ModelEntry, ...]:
    try:
        with open(registry, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ModelIntegrityError(f"model registry {registry} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelIntegrityError(f"model registry {registry} is not valid TOML: {exc}") from None
    entries = []
    for name, fields in data.get("models", {}).items():
        missing = [k for k in ("sha256", "licence", "source", "loader") if not fields.get(k)]
        if missing or not (fields.get("resource") or fields.get("path")):
            raise ModelIntegrityError(
                f"model {name} in {registry} lacks {', '.join(missing) or 'resource or path'}")
        path = fields.get("path")
        entries.append(ModelEntry(name=name, sha256=fields["sha256"].lower(),
                                  licence=fields["licence"], source=fields["source"],
                                  loader=fields["loader"], resource=fields.get("resource"),
                                  path=str(registry.parent / path) if path else None,
                                  embedding=fields.get("embedding")))
    return tuple(entries)


def _resolve(entry: ModelEntry) -> Path:
    if entry.path:
        return Path(entry.path)
    assert entry.resource is not None
    package, _, rel = entry.resource.partition(":")
    # find_spec locates the package without importing it (face_recognition_models imports
    # the deprecated pkg_resources at import time).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelIntegrityError(
            f"model {entry.name}: package {package} is not installed (run `make sync`)")
    return Path(list(spec.submodule_search_locations)[0]) / rel


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(entry: ModelEntry) -> VerifiedModel:
    file = _resolve(entry)
    if not file.is_file():
        raise ModelIntegrityError(f"model {entry.name}: file missing at {file}",
                                  metadata={"model": entry.name, "file": str(file)})
    actual = sha256_file(file)
    if actual != entry.sha256:
        raise ModelIntegrityError(
            f"model {entry.name}: sha256 of {file} is {actual}, registry expects {entry.sha256}; "
            "the file is altered or a different version",
            metadata={"model": entry.name, "file": str(file)})
    return VerifiedModel(entry=entry, file=file)


def verify_all(registry: Path) -> dict[str, VerifiedModel]:
    return {e.name: verify(e) for e in read_registry(registry)}


class ModelPool(Generic[T]):
    """Interchangeable copies of one model whose calls must not overlap. Each call borrows a
    free copy for its duration, so with one copy per analysis thread no analysis waits, and any
    other caller (a command, a test) borrows like them.

    Callers keep the model's own API: `pool.run(...)`, `pool(...)` and `pool.extract(...)` call
    the borrowed copy. What a call returns must not refer back to the copy (dlib rectangles and
    NBIS minutiae are values).
    """

    def __init__(self, copies: Sequence[T]) -> None:
        if not copies:
            raise ValueError("a model pool needs at least one copy")
        self.size = len(copies)
        self._free: queue.SimpleQueue[T] = queue.SimpleQueue()
        for copy in copies:
            self._free.put(copy)

    @contextmanager
    def borrow(self) -> Iterator[T]:
        model = self._free.get()
        try:
            yield model
        finally:
            self._free.put(model)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self.borrow() as model:
            return model(*args, **kwargs)  # type: ignore[operator]

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("__"):  # copy, pickle and friends must not borrow
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self.borrow() as model:
                return getattr(model, name)(*args, **kwargs)

        return call


_PER_THREAD_LOADERS: set[Loader] = set()


def per_thread(loader: Callable[[Path], T]) -> Callable[[Path], T]:
    """Marks a registry loader whose model must not be called from two threads at once:
    `load_models` loads one copy per analysis thread and `LoadedModels[name]` is their
    `ModelPool`."""
    _PER_THREAD_LOADERS.add(loader)
    return loader


@dataclass(frozen=True)
class LoadedModels:
    """Every model of the registry, loaded once at start-up and shared by all analysers
    (those that must not be shared as a `ModelPool` with a copy per analysis thread)."""

    face_detector: Any  # dlib's HOG detectors (a ModelPool): built into dlib, no file to verify
    objects: Mapping[str, Any]  # registry name -> loaded model
    verified: Mapping[str, VerifiedModel]

    def __getitem__(self, name: str) -> Any:
        try:
            return self.objects[name]
        except KeyError:
            raise ModelIntegrityError(f"model {name} is not in the registry") from None

    @property
    def landmarks_5(self) -> Any:
        return self["face_landmarks_5"]

    def describe(self) -> dict[str, str]:
        """Model name -> sha256, recorded with every decision that used them."""
        return {name: vm.entry.sha256 for name, vm in self.verified.items()}


def _loader(entry: ModelEntry) -> Loader:
    module_name, _, attr = entry.loader.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as exc:
        raise ModelIntegrityError(f"model {entry.name}: loader {entry.loader} not found: {exc}") from None


def load_one(registry: Path, name: str) -> Any:
    """One model of the registry, verified and loaded (for commands and benchmarks that need
    only that model)."""
    entry = next((e for e in read_registry(registry) if e.name == name), None)
    if entry is None:
        raise ModelIntegrityError(f"model registry {registry} lacks model {name}")
    return _loader(entry)(verify(entry).file)


def _load(loader: Loader, file: Path, threads: int) -> Any:
    if loader in _PER_THREAD_LOADERS:
        return ModelPool([loader(file) for _ in range(threads)])
    return loader(file)


def load_models(registry: Path, required: tuple[str, ...] = ("face_landmarks_5",),
                threads: int = 1, embedder: str | None = None) -> LoadedModels:
    """Verify every file of the registry, then load each with its loader; models that must
    not be shared get `threads` copies (the server passes its analysis thread count). With
    `embedder` given, of the entries that declare an `embedding` table only that one is
    loaded (the others are verified only: ~95 MB a thread each for nothing)."""
    import dlib  # imported here so that importing the verifier stays cheap

    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    verified = verify_all(registry)
    for name in required:
        if name not in verified:
            raise ModelIntegrityError(f"model registry {registry} lacks required model {name}")
    objects = {name: _load(_loader(vm.entry), vm.file, threads) for name, vm in verified.items()
               if embedder is None or vm.entry.embedding is None or name == embedder}
    log.info("models verified (%s) and loaded (%d analysis thread(s)): %s",
             len(verified), threads, ", ".join(sorted(objects)))
    detectors = ModelPool([dlib.get_frontal_face_detector() for _ in range(threads)])
    return LoadedModels(face_detector=detectors, objects=objects, verified=verified)
