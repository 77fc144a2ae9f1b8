"""Who is searchable: the enrolment policy of the face and fingerprint galleries.

Every finished case with biometrics is enrolled when its verdict is computed, whatever the
verdict and whatever a reviewer later decides: the galleries exist to find a person who
applies again under another identity, and a rejected applicant who returns is exactly that
person. Enrolment replaces the case's earlier entries, so a resent Finish (or a Finish redone
after a crash) enrols once. A hit names the earlier case; its verdict and review decision are
on the review page. Entries leave only with the retention purge of their case.

Enrolled: the accepted live capture's face (not the document portraits: a card's photo may
be years old or someone else's), and per finger position the best capture that yielded a
template (a print under the NFIQ 2 gate still identifies, and a person dodging the search
would not give good prints).
"""

from __future__ import annotations

from verifier.consistency.case_evidence import CaseEvidence
from verifier.consistency.context import Galleries
from verifier.gallery import Enrolment

FACE_LABEL = "face"


def enrol_case(galleries: Galleries, evidence: CaseEvidence) -> None:
    """Enrol a finished case under its NIK (a case without a NIK cannot be enrolled: the
    rules have already flagged its form)."""
    if not evidence.nik:
        return
    if evidence.capture is not None and evidence.capture.face is not None:
        galleries.face.enrol(Enrolment(case_id=evidence.case_id, nik=evidence.nik,
                                       label=FACE_LABEL), evidence.capture.face.embedding)
    templates = {p: c.template for p, c in evidence.best_fingers().items()
                 if c.template is not None}
    if templates:
        galleries.fingerprints.enrol_case(evidence.case_id, evidence.nik, templates)
