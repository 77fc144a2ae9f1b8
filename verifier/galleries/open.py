"""The galleries of a case store's database, as the case rules and enrolment use them."""

from __future__ import annotations

from verifier.cases.store import CaseStore
from verifier.config import FingerprintConfig
from verifier.consistency.context import Galleries
from verifier.fingerprint.analysis import MODEL_NAME
from verifier.galleries import face, fingerprints
from verifier.galleries.nik import NikHasher
from verifier.models import LoadedModels


def open_galleries(store: CaseStore, models: LoadedModels, config: FingerprintConfig
                   ) -> Galleries:
    """One gallery object per database and process (each keeps an in-memory index), loaded."""
    hasher = NikHasher(store.keys)
    shortlist = fingerprints.FingerprintGalleryConfig(
        shortlist_cases=config.gallery_shortlist_cases,
        shortlist_cases_single_finger=config.gallery_shortlist_cases_single_finger)
    faces = face.gallery_for(store.engine, store.keys)
    fingers = fingerprints.gallery_for(store.engine, store.keys, models[MODEL_NAME], shortlist)
    faces.load()
    fingers.load()
    return Galleries(face=faces, fingerprints=fingers, same_nik=hasher.matches)
