"""The face rules of a case: the accepted live capture against the portrait on each identity
document, and against earlier applicants (duplicate identities).

Every face was found and embedded when its item arrived (verifier.face.evidence); these rules
only compare embeddings. Each comparison becomes a `Match` at the configured operating
point. REVIEW flags: the live face does not match a document photo
(`face.mismatch_<reference>`), the same face is enrolled under another NIK
(`face.duplicate_identity`), this NIK is enrolled with a different face
(`face.nik_face_mismatch`), or no face could be embedded on the accepted capture. Nothing
here rejects an applicant: an officer looks at the two face crops, which each flag names
(message sequence and box in that image) so the review page can cut them from the stored
images. Who the other applicant is stays in `other_*` evidence, for the review page only.
"""

from __future__ import annotations

from verifier.config import Config
from verifier.consistency.case_evidence import CaseEvidence, LiveCapture
from verifier.consistency.context import CaseContext, CaseFindings, Galleries
from verifier.consistency.verdict import Flag, Match, Severity
from verifier.face.evidence import FaceEvidence
from verifier.face.matching import FaceDecision, FaceMatcher

PROBE = "live_capture"
# Document kind (the proto enum name without its prefix) -> the reference's name in results.
REFERENCES = {"KTP": "ktp_photo", "OLD_PASSPORT": "old_passport_photo",
              "UPLOADED_PHOTO": "uploaded_photo"}
# Document kind -> the comparison kind whose threshold decides (verifier.face.calibration).
COMPARISONS = {"KTP": "card_vs_live", "OLD_PASSPORT": "passport_vs_live",
               "UPLOADED_PHOTO": "upload_vs_live"}
_NAMES_ID = {"ktp_photo": "foto KTP", "old_passport_photo": "foto paspor lama",
             "uploaded_photo": "foto unggahan"}
_NAMES_EN = {"ktp_photo": "KTP photo", "old_passport_photo": "old passport photo",
             "uploaded_photo": "uploaded photo"}


def face_match(decision: FaceDecision, probe: str, reference: str) -> Match:
    return Match(modality="face", probe=probe, reference=reference,
                 score=round(decision.score, 4), score_unit=decision.score_unit,
                 threshold=round(decision.threshold, 4),
                 operating_point=decision.operating_point, match=decision.match,
                 model=decision.model)


def crop_ref(case_id: str, sequence: int, face: FaceEvidence) -> str:
    left, top, right, bottom = face.box_px
    return f"case:{case_id}/message:{sequence}/box:{left},{top},{right},{bottom}"


def _evidence(case_id: str, live: LiveCapture, live_face: FaceEvidence, other_ref: str,
              decision: FaceDecision, config: Config) -> dict[str, str]:
    return {"probe_crop": crop_ref(case_id, live.sequence, live_face),
            "reference_crop": other_ref, "distance": f"{decision.distance:.4f}",
            "score": f"{decision.score:.4f}", "threshold": f"{decision.threshold:.4f}",
            "operating_point": decision.operating_point, "comparison": decision.comparison,
            "model": decision.model,
            "probe_quality": f"{live_face.quality:.0f}",
            "thresholds_file": str(config.face.thresholds_path.name)}


def _document_findings(evidence: CaseEvidence, matcher: FaceMatcher, live: LiveCapture,
                       live_face: FaceEvidence, config: Config
                       ) -> tuple[list[Flag], list[Match]]:
    flags, matches = [], []
    for kind, ref in sorted(REFERENCES.items(), key=lambda kv: kv[1]):
        searched = [d for d in evidence.of_kind(kind) if d.face_searched]
        if not searched:
            continue
        with_face = [d for d in searched if d.face is not None]
        if not with_face:
            if kind != "KTP":  # a KTP without a face is a completeness finding
                # INFO: whether the scan is a readable document at all is the document
                # reader's rule; this one only says the comparison could not run.
                flags.append(Flag(
                    rule_id=f"face.no_face_{ref}", severity=Severity.INFO,
                    message_id=f"Wajah pada {_NAMES_ID[ref]} tidak ditemukan; bandingkan manual",
                    message_en=f"No face found on the {_NAMES_EN[ref]}; compare by eye",
                    evidence={"document": f"case:{evidence.case_id}/message:"
                                          f"{searched[-1].sequence}"}))
            continue
        doc = with_face[-1]  # a rescanned document replaces the earlier scan
        assert doc.face is not None
        decision = matcher.decide(live_face.embedding, doc.face.embedding,
                                  config.face.operating_point, COMPARISONS[kind])
        matches.append(face_match(decision, PROBE, ref))
        if decision.match:
            continue
        poor = min(live_face.quality, doc.face.quality) < config.face.min_quality
        flags.append(Flag(
            rule_id=f"face.mismatch_{ref}", severity=Severity.REVIEW,
            message_id=(f"Wajah langsung tidak cocok dengan {_NAMES_ID[ref]}"
                        + (" (kualitas foto rendah)" if poor else "")
                        + "; periksa kedua potongan wajah"),
            message_en=(f"The live face does not match the {_NAMES_EN[ref]}"
                        + (" (poor photo quality)" if poor else "")
                        + "; compare both face crops"),
            evidence=_evidence(evidence.case_id, live, live_face,
                               crop_ref(evidence.case_id, doc.sequence, doc.face), decision,
                               config)
            | {"reference_quality": f"{doc.face.quality:.0f}",
               "reference_detector": doc.face.detector}))
    return flags, matches


def _gallery_findings(evidence: CaseEvidence, galleries: Galleries, matcher: FaceMatcher,
                      live: LiveCapture, live_face: FaceEvidence, config: Config
                      ) -> tuple[list[Flag], list[Match]]:
    case_id = evidence.case_id
    flags, matches = [], []
    for candidate in galleries.face.search(live_face.embedding, config.face.gallery_top_k):
        other = candidate.enrolment
        if other.case_id == case_id or (evidence.nik
                                        and galleries.same_nik(other.nik, evidence.nik)):
            continue  # the same person re-applying under the same NIK is the normal case
        decision = matcher.decide_distance(1.0 - candidate.score,
                                           config.face.gallery_operating_point, "plain")
        if not decision.match:
            continue
        matches.append(face_match(decision, PROBE, f"gallery:{other.case_id}"))
        flags.append(Flag(
            rule_id="face.duplicate_identity", severity=Severity.REVIEW,
            message_id=("Wajah ini sudah terdaftar dengan NIK lain; periksa identitas ganda "
                        "di halaman tinjauan"),
            message_en=("This face is enrolled under another NIK; check for a duplicate "
                        "identity on the review page"),
            evidence=_evidence(case_id, live, live_face, f"gallery:{other.case_id}/{other.label}",
                               decision, config) | {"other_case": other.case_id}))
    if evidence.nik:
        for other, template in galleries.face.templates_of_nik(evidence.nik):
            if other.case_id == case_id:
                continue
            decision = matcher.decide(live_face.embedding, template,
                                      config.face.operating_point, "plain")
            matches.append(face_match(decision, PROBE, f"gallery:{other.case_id}"))
            if not decision.match:
                flags.append(Flag(
                    rule_id="face.nik_face_mismatch", severity=Severity.REVIEW,
                    message_id=("NIK ini sudah terdaftar dengan wajah yang berbeda; periksa "
                                "identitas di halaman tinjauan"),
                    message_en=("This NIK was enrolled with a different face; check the "
                                "identity on the review page"),
                    evidence=_evidence(case_id, live, live_face,
                                       f"gallery:{other.case_id}/{other.label}", decision,
                                       config) | {"other_case": other.case_id}))
    return flags, matches


def analyse(ctx: CaseContext) -> CaseFindings:
    """Case analyser (see the module docstring)."""
    evidence, config = ctx.evidence, ctx.config
    live = evidence.capture
    if live is None:
        return CaseFindings()  # the completeness rules flag the missing capture
    if live.face is None:
        return CaseFindings(flags=(Flag(
            rule_id="face.no_face_live_capture", severity=Severity.REVIEW,
            message_id="Wajah pada foto langsung tidak ditemukan untuk pencocokan",
            message_en="No face found on the accepted live capture for matching",
            evidence={"capture": f"case:{evidence.case_id}/message:{live.sequence}"}),))
    matcher = ctx.face_matcher
    flags, matches = _document_findings(evidence, matcher, live, live.face, config)
    if ctx.galleries is not None:
        more_flags, more_matches = _gallery_findings(evidence, ctx.galleries, matcher, live,
                                                     live.face, config)
        flags += more_flags
        matches += more_matches
    return CaseFindings(flags=tuple(flags), matches=tuple(matches))
