"""Model registry: every entry resolves and matches its sha256; altered or missing files are
refused with a message naming the model and the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from verifier.config import Config
from lebong_contract.errors import ModelIntegrityError
from verifier.models import load_models, read_registry, sha256_file, verify, verify_all

REGISTRY = Config().models_registry


def test_registry_entries_are_complete_and_verify() -> None:
    entries = read_registry(REGISTRY)
    assert entries, "registry lists no model"
    for entry in entries:
        assert entry.licence and entry.source and len(entry.sha256) == 64
    verified = verify_all(REGISTRY)
    assert set(verified) == {e.name for e in entries}


def _copy_registry(tmp_path: Path, mutate: str) -> Path:
    """A registry whose only entry points at a copy of the real file, then damaged."""
    entry = read_registry(REGISTRY)[0]
    copy = tmp_path / "model.dat"
    shutil.copyfile(verify(entry).file, copy)
    if mutate == "flip":
        data = bytearray(copy.read_bytes())
        data[len(data) // 2] ^= 0x01
        copy.write_bytes(bytes(data))
    elif mutate == "delete":
        copy.unlink()
    reg = tmp_path / "registry.toml"
    reg.write_text(f'[models.{entry.name}]\npath = "{copy}"\nsha256 = "{entry.sha256}"\n'
                   f'licence = "x"\nsource = "x"\nloader = "{entry.loader}"\n')
    return reg


def test_intact_copy_loads(tmp_path: Path) -> None:
    entry = read_registry(REGISTRY)[0]
    models = load_models(_copy_registry(tmp_path, "none"), required=(entry.name,))
    assert models.describe() == {entry.name: entry.sha256}
    assert models[entry.name] is not None


def test_one_flipped_bit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelIntegrityError, match=r"face_landmarks_5: sha256 of .*model\.dat"):
        load_models(_copy_registry(tmp_path, "flip"))


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelIntegrityError, match="file missing at .*model.dat"):
        load_models(_copy_registry(tmp_path, "delete"))


def test_relative_path_is_read_from_the_registry_folder(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    reg = _copy_registry(tmp_path, "none")
    reg.write_text(reg.read_text().replace(str(tmp_path / "model.dat"), "model.dat"))
    monkeypatch.chdir(tmp_path.parent)  # not the working directory
    assert verify(read_registry(reg)[0]).file == tmp_path / "model.dat"
    # Only there: a copy in the working directory is not the registry's file.
    moved = tmp_path / "registry"
    moved.mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelIntegrityError, match="file missing at .*registry/model.dat"):
        verify(read_registry(reg.rename(moved / "registry.toml"))[0])


def test_incomplete_registry_is_refused(tmp_path: Path) -> None:
    reg = tmp_path / "r.toml"
    reg.write_text('[models.x]\npath = "a"\n')
    with pytest.raises(ModelIntegrityError, match="lacks sha256, licence, source, loader"):
        read_registry(reg)


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    import hashlib

    f = tmp_path / "f"
    f.write_bytes(b"x" * 3_000_000)
    assert sha256_file(f) == hashlib.sha256(b"x" * 3_000_000).hexdigest()
