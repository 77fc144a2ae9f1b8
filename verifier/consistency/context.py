"""What a case rule sees, and what it returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from verifier.config import Config
from verifier.consistency.case_evidence import CaseEvidence
from verifier.consistency.verdict import Flag, Match
from verifier.face.matching import FaceMatcher
from verifier.gallery import Candidate, Enrolment
from verifier.models import LoadedModels


class FaceSearch(Protocol):
    """verifier.galleries.face.FaceGallery as the rules use it (enrolment NIKs are keyed
    hashes)."""

    def enrol(self, enrolment: Enrolment, template: np.ndarray) -> None: ...

    def search(self, probe: np.ndarray, top_k: int = 5) -> list[Candidate]: ...

    def templates_of_nik(self, nik: str) -> list[tuple[Enrolment, np.ndarray]]: ...


class FingerHitLike(Protocol):
    position: int
    case_id: str
    nik_hash: str
    score: int


class FingerSearch(Protocol):
    """verifier.galleries.fingerprints.FingerprintGallery as the rules use it."""

    def enrol_case(self, case_id: str, nik: str, templates: Mapping[int, bytes]) -> int: ...

    def search_case(self, probes: Mapping[int, bytes], exclude_case_id: str | None = None
                    ) -> list[FingerHitLike]: ...

    def templates_of_nik(self, nik: str) -> dict[str, dict[int, bytes]]: ...


@dataclass(frozen=True)
class Galleries:
    """The 1:N searches over earlier applicants."""

    face: FaceSearch
    fingerprints: FingerSearch
    # Whether an enrolment's keyed NIK hash is this NIK's (verifier.galleries.nik).
    same_nik: Callable[[str, str], bool]


@dataclass(frozen=True)
class CaseContext:
    evidence: CaseEvidence  # typed results of every committed item; no images
    galleries: Galleries | None  # None: no search of earlier applicants
    models: LoadedModels  # template loading for fingerprint comparisons
    face_matcher: FaceMatcher  # thresholds checked against the loaded model at start-up
    config: Config


@dataclass(frozen=True)
class CaseFindings:
    flags: tuple[Flag, ...] = ()
    matches: tuple[Match, ...] = ()


CaseRule = Callable[[CaseContext], CaseFindings]
