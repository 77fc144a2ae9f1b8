"""The 1:N search interface shared by faces and fingerprints.

Implementations: verifier.galleries.face (exact numpy search over embeddings, persisted next
to the case store). Fingerprints are searched by whole case instead
(verifier.galleries.fingerprints: an index shortlist in front of Bozorth3). A distributed
vector engine can take over at national scale behind the same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

T_contra = TypeVar("T_contra", contravariant=True)


@dataclass(frozen=True)
class Enrolment:
    """Who a template belongs to."""

    case_id: str
    # Given to `enrol`: the NIK in clear. In what a persisted gallery returns: the NIK's keyed
    # hash (verifier.galleries.nik), compared with a NIK by the gallery's `same_nik`.
    nik: str
    label: str  # "face", or "finger:<ISO position>"


@dataclass(frozen=True)
class Candidate:
    enrolment: Enrolment
    score: float  # higher is more alike, on the modality's own scale


class Gallery(Protocol[T_contra]):
    def enrol(self, enrolment: Enrolment, template: T_contra) -> None:
        """Add a template; enrolling the same (case, label) again replaces it."""

    def search(self, probe: T_contra, top_k: int = 5) -> list[Candidate]:
        """The top_k most similar enrolled templates, best first."""

    def remove_case(self, case_id: str) -> int:
        """Remove every template of a case (retention, or a rejected case); returns how many."""

    def __len__(self) -> int:
        """Number of enrolled templates."""
