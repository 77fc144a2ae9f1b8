"""The galleries of a case store's database, as the case rules and enrolment use them."""

from __future__ import annotations

from verifier.cases.store import CaseStore
from verifier.config import Config
from verifier.consistency.context import Galleries
from verifier.face.embedders import face_embedder
from verifier.fingerprint.analysis import MODEL_NAME
from verifier.galleries import face, fingerprints
from verifier.galleries.nik import NikHasher
from verifier.models import LoadedModels


def open_galleries(store: CaseStore, models: LoadedModels, config: Config) -> Galleries:
    """One gallery object per database and process (each keeps an in-memory index, or the
    face gallery a Milvus one: `[face_gallery] engine`), loaded; the face gallery holds the
    configured `[face] embedder`'s vectors only."""
    hasher = NikHasher(store.keys)
    shortlist = fingerprints.FingerprintGalleryConfig(
        shortlist_cases=config.fingerprint.gallery_shortlist_cases,
        shortlist_cases_single_finger=config.fingerprint.gallery_shortlist_cases_single_finger)
    embedder = face_embedder(models, config.face.embedder, config.face.num_jitters,
                             config.face.flip_tta)
    identity = face.EmbedderIdentity.of(embedder)
    faces: face.FaceGallery
    if config.face_gallery.engine == "milvus":
        # Imported only when chosen: pymilvus is not needed by the numpy engine.
        from verifier.galleries import milvus_face
        faces = milvus_face.gallery_for(store.engine, store.keys, identity, config.face_gallery)
    else:
        faces = face.gallery_for(store.engine, store.keys, identity)
    fingers = fingerprints.gallery_for(store.engine, store.keys, models[MODEL_NAME], shortlist)
    faces.load()
    fingers.load()
    return Galleries(face=faces, fingerprints=fingers, same_nik=hasher.matches)
